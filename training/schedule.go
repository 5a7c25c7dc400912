package training

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// Schedule is linear warm-up to Peak over WarmupSteps, then cosine decay to
// Min at TotalSteps (the paper: 1,200 warm-up steps of 5,000 per stage).
// Steps are 1-based: the first update uses LR(1).
type Schedule struct {
	Peak, Min   float64
	WarmupSteps int
	TotalSteps  int
}

// LR is the host-side (float64) learning rate at step; the graph version
// must agree with it, which the tests check.
func (s Schedule) LR(step int) float64 {
	if s.WarmupSteps > 0 && step <= s.WarmupSteps {
		return s.Peak * float64(step) / float64(s.WarmupSteps)
	}
	decay := s.TotalSteps - s.WarmupSteps
	if decay <= 0 {
		return s.Peak
	}
	p := math.Min(math.Max(float64(step-s.WarmupSteps)/float64(decay), 0), 1)
	return s.Min + (s.Peak-s.Min)*0.5*(1+math.Cos(math.Pi*p))
}

// graph computes LR(step) in the graph from a float32 scalar step.
func (s Schedule) graph(step *Node) *Node {
	g, dt := step.Graph(), step.DType()
	decay := float64(s.TotalSteps - s.WarmupSteps)
	var cosine *Node
	if decay <= 0 {
		cosine = Scalar(g, dt, s.Peak)
	} else {
		p := ClipScalar(DivScalar(SubScalar(step, float64(s.WarmupSteps)), decay), 0, 1)
		c := AddScalar(Cos(MulScalar(p, math.Pi)), 1)
		cosine = AddScalar(MulScalar(c, 0.5*(s.Peak-s.Min)), s.Min)
	}
	if s.WarmupSteps <= 0 {
		return cosine
	}
	warm := MulScalar(step, s.Peak/float64(s.WarmupSteps))
	return Where(LessOrEqual(step, Scalar(g, dt, float64(s.WarmupSteps))), warm, cosine)
}
