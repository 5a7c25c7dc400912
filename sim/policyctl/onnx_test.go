package policyctl

import (
	"context"
	"testing"

	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/sim"
)

// TestONNXPolicyClosedLoop runs the checked-in tiny 3DVLA model (untrained)
// through ONNX Runtime in closed loop on the simulator: the full path a
// trained model takes in evaluation (render -> preprocess -> ORT -> chunk ->
// physics). An untrained model is not expected to succeed.
func TestONNXPolicyClosedLoop(t *testing.T) {
	p, env := loadWithSim(t, ort.TinyModelPath)
	spec := p.Spec()
	res, err := sim.Evaluate(context.Background(), env, sim.EvalConfig{Task: sim.TaskPickPlace, Split: sim.SplitCamera, Severity: 0.5,
		Episodes: 1, MaxSteps: 2 * spec.Horizon, ExecuteSteps: spec.Horizon}, Factory(p, preprocess.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Episodes[0]; r.Steps != 2*spec.Horizon {
		t.Errorf("ran %d steps, want %d", r.Steps, 2*spec.Horizon)
	}
	t.Logf("tiny model: %+v", res.Episodes[0])
}

// bundledSeeds are held-out layouts (evaluation seeds, never recorded for
// training: models/pick_place/README.md) the bundled trained model solved
// when it was checked in.
var bundledSeeds = []uint64{200003, 200004, 200005}

// TestBundledModelSucceeds is the regression check of the trained model the
// demo runs: closed loop through ONNX Runtime and MuJoCo, it must still put
// the block in the bowl on fixed held-out layouts. Its success rate over
// many seeds is a report (README, Measured), not a test.
func TestBundledModelSucceeds(t *testing.T) {
	p, env := loadWithSim(t, ort.BundledModelPath)
	for _, seed := range bundledSeeds {
		res, err := sim.Evaluate(context.Background(), env, sim.EvalConfig{Task: sim.TaskPickPlace, Split: sim.SplitNone,
			Episodes: 1, Seed: seed, MaxSteps: 150, ExecuteSteps: node.DefaultConfig().Execution.ReplanEvery}, Factory(p, preprocess.Options{}))
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Episodes[0]; !r.Success {
			t.Errorf("seed %d: %s after %d steps", seed, r.Reason, r.Steps)
		}
	}
}

// loadWithSim loads the checked-in model that find locates into ONNX
// Runtime (one thread) and a simulator rendering at its input size; both
// close when the test ends.
func loadWithSim(t *testing.T, find func() (string, error)) (*ort.Policy, *sim.Env) {
	t.Helper()
	model, err := find()
	if err != nil {
		t.Fatalf("checked-in model missing: %v", err)
	}
	orttest.RequireLibrary(t)
	p, err := ort.Load(model, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	spec := p.Spec()
	env, err := sim.New(sim.Config{Width: spec.ImageWidth, Height: spec.ImageHeight, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	})
	return p, env
}
