package model

import (
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestRowCFitsOneBatch: plain gradient descent on the action L1 loss of one
// small batch drives it down for the full model (row C), so gradients are
// not just non-zero but useful end to end.
func TestRowCFitsOneBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("optimisation run skipped in -short")
	}
	cfg, _ := smallConfig().Row("C")
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := newExampleBatch(cfg, 2, 11)
	ctx := newTestContext()
	exec, err := context.NewExec(testBackend(t), ctx, func(ctx *context.Context, p []*Node) []*Node {
		in := inputsFrom(p)
		g := in.Images.Graph()
		ctx.SetTraining(g, true)
		o := m.Forward(ctx, in)
		loss := ReduceAllMean(Abs(Sub(o.Actions, in.TargetActions)))
		var vars []*context.Variable
		var nodes []*Node
		for v := range ctx.IterVariables() {
			if v.Trainable && v.InUseByGraph(g) && v.DType().IsFloat() {
				vars = append(vars, v)
				nodes = append(nodes, v.ValueGraph(g))
			}
		}
		for i, gr := range Gradient(loss, nodes...) {
			vars[i].SetValueGraph(Sub(nodes[i], MulScalar(gr, 0.05)))
		}
		return []*Node{loss}
	})
	if err != nil {
		t.Fatal(err)
	}
	args := e.tensors(cfg)
	var first, last float32
	for step := range 40 {
		out, err := exec.Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		l := tensors.MustCopyFlatData[float32](out[0])[0]
		if step == 0 {
			first = l
		}
		last = l
	}
	t.Logf("action L1: %.4f -> %.4f after 40 steps", first, last)
	if last > 0.5*first {
		t.Errorf("action L1 went from %.4f to %.4f; expected at least a halving", first, last)
	}
}

// TestStage2FreezeLeavesStage1ModulesUntouched freezes the stage-1 modules
// (paper appendix A: base, fusion, instance module) and takes one gradient
// step over the trainable variables: frozen values must not move, the
// stage-2 modules (predictor, aggregation, action expert) must.
func TestStage2FreezeLeavesStage1ModulesUntouched(t *testing.T) {
	cfg, _ := smallConfig().Row("C")
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := newExampleBatch(cfg, 2, 13)
	ctx := newTestContext()
	fwd := func(ctx *context.Context, in Inputs) *Outputs {
		ctx.SetTraining(in.Images.Graph(), true)
		return m.Forward(ctx, in)
	}
	runGraph(t, ctx, cfg, e, func(ctx *context.Context, in Inputs) []*Node { return []*Node{fwd(ctx, in).Actions} })
	frozen := map[string]bool{ScopeBase: true, ScopeSpatialFusion: true, ScopeInstanceModule: true}
	moduleOf := func(v *context.Variable) string {
		s := v.Scope()
		if len(s) > 0 && s[0] == '/' {
			s = s[1:]
		}
		for i := range s {
			if s[i] == '/' {
				return s[:i]
			}
		}
		return s
	}
	before := map[*context.Variable][]float32{}
	for v := range ctx.IterVariables() {
		if !v.DType().IsFloat() {
			continue
		}
		if frozen[moduleOf(v)] {
			v.SetTrainable(false)
		}
		before[v] = tensors.MustCopyFlatData[float32](v.MustValue())
	}
	runGraph(t, ctx.Reuse(), cfg, e, func(ctx *context.Context, in Inputs) []*Node {
		o := fwd(ctx, in)
		loss := sumSquares(o.Actions, Mul(o.PredictorPred, InsertAxes(o.PredictorMask, -1)), o.PredictorTarget)
		g := loss.Graph()
		var vars []*context.Variable
		// Same enumeration and filter as BuildTrainableVariablesGradientsGraph.
		for v := range ctx.IterVariables() {
			if v.Trainable && v.InUseByGraph(g) {
				vars = append(vars, v)
			}
		}
		for i, gr := range ctx.BuildTrainableVariablesGradientsGraph(loss) {
			vars[i].SetValueGraph(Sub(vars[i].ValueGraph(g), MulScalar(gr, 0.1)))
		}
		return []*Node{loss}
	})
	moved := map[string]bool{}
	for v, old := range before {
		now := tensors.MustCopyFlatData[float32](v.MustValue())
		changed := false
		for i := range now {
			if now[i] != old[i] {
				changed = true
				break
			}
		}
		mod := moduleOf(v)
		if frozen[mod] && changed {
			t.Errorf("frozen %s changed", v.ScopeAndName())
		}
		if changed {
			moved[mod] = true
		}
	}
	for _, mod := range []string{ScopePredictor, ScopeAggregation, ScopeActionExpert} {
		if !moved[mod] {
			t.Errorf("stage-2 module %s did not move", mod)
		}
	}
}
