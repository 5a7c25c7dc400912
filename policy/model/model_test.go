package model

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func TestForwardActionShapes(t *testing.T) {
	for _, row := range []string{"baseline", "A", "B", "C"} {
		for _, head := range []string{HeadL1, HeadFlow} {
			for _, training := range []bool{false, true} {
				if testing.Short() && (row == "A" || row == "B") {
					continue
				}
				cfg, err := smallConfig().Row(row)
				if err != nil {
					t.Fatal(err)
				}
				cfg.ActionHead = head
				m, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				e := newExampleBatch(cfg, 2, 1)
				out := runGraph(t, newTestContext(), cfg, e, func(ctx *context.Context, in Inputs) []*Node {
					ctx.SetTraining(in.Images.Graph(), training)
					return []*Node{m.Forward(ctx, in).Actions}
				})
				if got := out[0].Shape().Dimensions; !dimsEqual(got, 2, cfg.Horizon, cfg.ActionDim) {
					t.Errorf("%s/%s/training=%v: actions %v, want [2 %d %d]", row, head, training, got, cfg.Horizon, cfg.ActionDim)
				}
				for _, x := range tensors.MustCopyFlatData[float32](out[0]) {
					if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
						t.Fatalf("%s/%s: non-finite action %v", row, head, x)
					}
				}
			}
		}
	}
}
