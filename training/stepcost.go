package training

import (
	"fmt"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/vla3d/vla3d/policy/model"
)

// StepCost is the arithmetic of one training step of stage s as the trainer
// runs it: the matching-cost graph (stage 1 with the instance module) plus
// the train graph (forward, losses, gradients, optimizer, EMA), counting
// only nodes that reach an output, as the backend prunes the rest.
type StepCost struct {
	Batch int
	Match model.GraphCost // zero without matching
	Train model.GraphCost
}

// FLOPsPerSample is the step's FLOPs divided by the batch size.
func (c StepCost) FLOPsPerSample() int64 {
	return (c.Match.FLOPs() + c.Train.FLOPs()) / int64(c.Batch)
}

// StepFLOPs builds tr's step graphs for stage s on one packed batch shape
// (scratch graphs, not compiled or run) and counts them. The trainer's
// variables must exist (after a Step of that stage).
func StepFLOPs(tr *Trainer, s Stage) (StepCost, error) {
	sc := StepCost{Batch: tr.cfg.BatchSize}
	idx := make([]int, tr.cfg.BatchSize)
	for i := range idx {
		idx[i] = i % tr.data.Len()
	}
	batch, err := tr.packBatch(idx, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		return sc, fmt.Errorf("step flops: %w", err)
	}
	match := tr.matchingOn(s)
	args, err := batch.tensors(tr.layout, match, tr.completionIn())
	if err != nil {
		return sc, err
	}
	if match {
		b, q, g := batch.B, tr.cfg.Model.Probes, tr.layout.MaxInstances
		args = append(args, tensors.FromFlatDataAndDimensions(make([]float32, b*q*g), b, q, g))
	}
	params := func(g *Graph, n int) []*Node {
		p := make([]*Node, n)
		for i := range n {
			p[i] = Parameter(g, fmt.Sprintf("p%d", i), args[i].(*tensors.Tensor).Shape())
		}
		return p
	}
	count := func(name string, n int, build func(p []*Node) []*Node) (model.GraphCost, error) {
		g := NewGraph(tr.backend, name)
		defer g.Finalize()
		var outs []*Node
		if err := buildGraph(func() { outs = build(params(g, n)) }); err != nil {
			return model.GraphCost{}, fmt.Errorf("step flops %s: %w", name, err)
		}
		return model.CountReachable(outs)
	}
	vars := tr.vars.Checked(false)
	if match {
		sc.Match, err = count("match_cost", len(args)-1, func(p []*Node) []*Node {
			return []*Node{tr.costGraph(vars.Reuse(), s, p)}
		})
		if err != nil {
			return sc, err
		}
	}
	sc.Train, err = count("train_step", len(args), func(p []*Node) []*Node {
		outs, err := tr.trainGraph(vars.Reuse(), s, tr.stepInputsOf(p, s, match))
		if err != nil {
			panic(err)
		}
		return outs.nodes
	})
	return sc, err
}
