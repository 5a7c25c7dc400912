package model

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestFrozenFeaturesReplaceTheModules: for every row, with and without
// anchors, Forward fed the frozen modules' outputs (FrozenFeatures, passed
// through Nodes/FrozenFrom as the trainer does) gives the same actions as
// Forward building those modules itself.
func TestFrozenFeaturesReplaceTheModules(t *testing.T) {
	for _, anchors := range []int{0, 2} {
		for _, row := range Rows {
			c := smallConfig()
			c.Anchors = anchors
			cfg, err := c.Row(row)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := newTestContext()
			e := newExampleBatch(cfg, 2, 5)
			direct := func(ctx *context.Context, in Inputs) []*Node { return []*Node{m.Forward(ctx, in).Actions} }
			viaFrozen := func(ctx *context.Context, in Inputs) []*Node {
				nodes := m.FrozenFeatures(ctx, in).Nodes(cfg)
				if len(nodes) != len(cfg.FrozenNames()) {
					t.Fatalf("%d frozen nodes for %v", len(nodes), cfg.FrozenNames())
				}
				f, err := FrozenFrom(cfg, nodes)
				if err != nil {
					t.Fatal(err)
				}
				in.Frozen = f
				return []*Node{m.Forward(ctx, in).Actions}
			}
			a := tensors.MustCopyFlatData[float32](runGraph(t, ctx, cfg, e, direct)[0])
			b := tensors.MustCopyFlatData[float32](runGraph(t, ctx.Reuse(), cfg, e, viaFrozen)[0])
			var diff float64
			for i := range a {
				diff = math.Max(diff, math.Abs(float64(a[i]-b[i])))
			}
			if diff > 1e-6 {
				t.Errorf("row %s anchors %d: actions differ by %g", row, anchors, diff)
			}
		}
	}
	if _, err := FrozenFrom(smallConfig(), nil); err == nil {
		t.Error("FrozenFrom accepted the wrong number of nodes")
	}
}
