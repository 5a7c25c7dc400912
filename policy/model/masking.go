package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// AsymmetricMask samples the predictor's asymmetric multi-view mask
// [B,V,N] (1 = masked target): every view of every sample independently
// masks exactly round(MaskRatio*N) of its N patches, chosen uniformly at
// random. Because views are masked independently, a region hidden in one
// view is often visible in another, so targets must be predicted through
// 3D correspondences rather than copied from the same view. The exact count
// comes from ranking uniform scores with comparisons (no Sort op needed).
func AsymmetricMask(ctx *context.Context, cfg Config, g *Graph, batch int) *Node {
	n := cfg.Patches()
	count := maskedPerView(cfg)
	scores := ctx.RandomUniform(g, shapeOf(dtypeF32, batch*cfg.Cameras, n))
	rank := rankDescending(scores) // [B*V,N]
	mask := ConvertDType(LessThan(rank, Scalar(g, dtypeF32, count)), dtypeF32)
	return Reshape(mask, batch, cfg.Cameras, n)
}
