package policyctl

import (
	"context"
	"math"
	"testing"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/sim"
)

// steady returns the same chunk every call: dx per step, gripper closed
// from the second step on.
type steady struct{ dx float32 }

func (s steady) Act(context.Context, *msgs.Observation) (msgs.ActionChunk, error) {
	const h = 4
	c := msgs.ActionChunk{Horizon: h, Dim: msgs.EEActionDim, Values: make([]float32, h*msgs.EEActionDim)}
	for k := range h {
		c.Step(k)[msgs.ActionDX] = s.dx
		if k > 0 {
			c.Step(k)[msgs.ActionGripper] = 1
		}
	}
	return c, nil
}

// Chunks that agree ensemble to themselves: every step moves dx, and the
// gripper is the weighted mean of the chunks' values for the step due now.
func TestEnsembledAverages(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 32, Height: 32, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	if err := env.Reset(ctx, sim.EpisodeSpec{Task: sim.TaskPickPlace, Split: sim.SplitNone}); err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig().Execution
	if _, err := NewEnsembled(steady{}, env, cfg, 4); cfg.Mode != contract.ExecEnsemble && err == nil {
		t.Fatal("replan mode accepted")
	}
	cfg.Mode, cfg.EnsembleDecay = contract.ExecEnsemble, 0
	x, err := NewEnsembled(steady{dx: 0.01}, env, cfg, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Step k: chunks made at 0..k cover it (at most 4); the newest is at its
	// step 0 (gripper 0), the others past it (gripper 1).
	for k := range 6 {
		c, err := x.Act(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Horizon != 1 {
			t.Fatalf("step %d: horizon %d, want 1", k, c.Horizon)
		}
		a := c.Step(0)
		n := float64(min(k+1, 4))
		if math.Abs(float64(a[msgs.ActionDX])-0.01) > 1e-6 || math.Abs(float64(a[msgs.ActionGripper])-(n-1)/n) > 1e-6 {
			t.Errorf("step %d: dx %v gripper %v, want 0.01 %v", k, a[msgs.ActionDX], a[msgs.ActionGripper], (n-1)/n)
		}
		if err := env.Step(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// A new episode voids the old plans.
	if err := env.Reset(ctx, sim.EpisodeSpec{Task: sim.TaskPickPlace, Split: sim.SplitNone, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	c, err := x.Act(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Step(0)[msgs.ActionGripper]; g != 0 {
		t.Errorf("first step of a new episode: gripper %v from the old episode's chunks, want 0", g)
	}
}
