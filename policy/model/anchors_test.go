package model

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestAnchorsStartAtObservedPoints: an anchor starts as a convex combination
// of the points with valid depth (the refinement is zero at init), so it
// lies in their bounding box whatever invalid tokens hold, and the model's
// Forward reports it.
func TestAnchorsStartAtObservedPoints(t *testing.T) {
	for _, row := range []string{"baseline", "A"} {
		t.Run(row, func(t *testing.T) {
			cfg, err := smallConfig().Row(row)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Anchors = 2
			e := newExampleBatch(cfg, 3, 11)
			for i, ok := range e.valid {
				if ok == 0 { // invalid tokens far outside the workspace
					e.points[3*i], e.points[3*i+1], e.points[3*i+2] = 100, -100, 100
				}
			}
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			out := runGraph(t, newTestContext(), cfg, e, func(ctx *context.Context, in Inputs) []*Node {
				ctx.SetTraining(in.Images.Graph(), false)
				o := m.Forward(ctx, in)
				return []*Node{o.AnchorPoints, o.Actions}
			})
			if !dimsEqual(out[0].Shape().Dimensions, e.B, cfg.Anchors, 3) {
				t.Fatalf("anchor points %v", out[0].Shape())
			}
			got := tensors.MustCopyFlatData[float32](out[0])
			perSample := cfg.Tokens()
			for b := range e.B {
				lo := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
				hi := [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
				for j := range perSample {
					if e.valid[b*perSample+j] == 0 {
						continue
					}
					for a := range 3 {
						p := float64(e.points[3*(b*perSample+j)+a])
						lo[a], hi[a] = math.Min(lo[a], p), math.Max(hi[a], p)
					}
				}
				for k := range cfg.Anchors {
					for a := range 3 {
						v := float64(got[(b*cfg.Anchors+k)*3+a])
						if !(v >= lo[a]-1e-5 && v <= hi[a]+1e-5) {
							t.Errorf("sample %d anchor %d axis %d: %v outside the valid points' [%v, %v]", b, k, a, v, lo[a], hi[a])
						}
					}
				}
			}
		})
	}
}
