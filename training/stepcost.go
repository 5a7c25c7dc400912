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
	samples := make([]*Sample, tr.cfg.BatchSize)
	for i := range samples {
		smp, err := tr.data.Sample(i % tr.data.Len())
		if err != nil {
			return sc, fmt.Errorf("step flops: %w", err)
		}
		samples[i] = smp
	}
	batch, err := tr.layout.Pack(samples, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		return sc, err
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
	withLabels, withCompletion := match, tr.completionIn()
	withFeatures, withAnchors := tr.cfg.Model.VisualFeatureDim > 0, tr.cfg.Model.Anchors > 0
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
			ctx := vars.Reuse()
			ctx.SetTraining(p[0].Graph(), true)
			in := parseInputs(p, withLabels, false, withCompletion, withFeatures, withAnchors)
			out := tr.model.Instances(ctx, in.Model)
			return []*Node{matchCost(tr.cfg.Loss, out.ClassLogits, out.Boxes, out.RefPoints, in.GTBoxes, in.GTBoxValid, in.GTCentroids)}
		})
		if err != nil {
			return sc, err
		}
	}
	sc.Train, err = count("train_step", len(args), func(p []*Node) []*Node {
		outs, err := tr.trainGraph(vars.Reuse(), s, parseInputs(p, withLabels, match, withCompletion, withFeatures, withAnchors))
		if err != nil {
			panic(err)
		}
		return outs.nodes
	})
	return sc, err
}
