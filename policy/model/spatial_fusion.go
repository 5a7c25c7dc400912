package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// FusionOutput is the memory M of Multi-View Spatial Fusion and the cleaned
// 3D centres it was built with.
type FusionOutput struct {
	Memory *Node // M, [B, V*N, d]
	Points *Node // P, [B, V*N, 3], invalid centres zeroed
	Valid  *Node // [B, V*N], 1 where the patch had valid depth
	Angles *Node // RoPE3D angles of P, [B, V*N, dh/2] (0 for invalid tokens)
}

// SpatialFusion is Multi-View Spatial Fusion (scope "spatial_fusion"):
//
//	F' = F + MLP(P)   (two linear layers with ReLU)
//
// followed by a transformer encoder over the flattened multi-view sequence
// with continuous 3D RoPE on q and k. Invalid depth is handled explicitly:
// those tokens take a learned "no depth" embedding instead of MLP(P) and
// RoPE angle 0 (content-only attention), and their P is zeroed so NaNs
// from the preprocessor can never enter the graph.
func SpatialFusion(ctx *context.Context, cfg Config, patches, points, valid *Node) FusionOutput {
	ctx = ctx.In(ScopeSpatialFusion)
	g := patches.Graph()
	b := patches.Shape().Dimensions[0]
	t, d := cfg.Tokens(), cfg.Width

	p := Reshape(points, b, t, 3)
	m := Reshape(valid, b, t)
	keep := GreaterThan(InsertAxes(m, -1), ScalarZero(g, m.DType()))
	p = Where(BroadcastToDims(keep, b, t, 3), p, ZerosLike(p))
	m = ConvertDType(GreaterThan(m, ZerosLike(m)), m.DType())
	mk := InsertAxes(m, -1)

	cm := ctx.In("coordinate_mlp")
	coord := dense(cm, "fc2", relu(dense(cm, "fc1", p, d)), d)
	noDepth := learned(ctx, g, "no_depth_embedding", 1, 1, d)
	x := Add(patches, Add(Mul(coord, mk), Mul(noDepth, OneMinus(mk))))

	rope := RoPE3D{HeadDim: cfg.HeadDim(), Base: cfg.RoPEBase, Scale: cfg.RoPEScale}
	angles := Mul(rope.Angles(p), mk)
	for i := range cfg.FusionLayers {
		x = block(ctx.Inf("layer_%d", i), x, attnArgs{Heads: cfg.Heads, Rope: &rope, QAngles: angles, KAngles: angles}, d*cfg.MLPRatio)
	}
	return FusionOutput{Memory: layerNorm(ctx, "norm_out", x), Points: p, Valid: m, Angles: angles}
}
