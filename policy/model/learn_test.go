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
