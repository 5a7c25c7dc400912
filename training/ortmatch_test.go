package training

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vla3d/vla3d/policy/ort"
)

// TestMatchRuntimesAgree trains row A (whose matching pass draws nothing
// random) for several stage-1 steps with the matching pass on the training
// backend and in ONNX Runtime: every loss of every step must agree within
// float tolerance, and the ONNX Runtime run must really have used it.
func TestMatchRuntimesAgree(t *testing.T) {
	if _, err := ort.ResolveLibrary(""); err != nil {
		t.Skipf("ONNX Runtime not installed (scripts/install.sh): %v", err)
	}
	const steps = 8
	run := func(runtime string) ([]map[string]float64, *Trainer) {
		cfg, data := tinyRun(t, "A", []Stage{Stage1}, steps)
		cfg.MatchRuntime = runtime
		tr, err := New(cfg, data)
		if err != nil {
			t.Fatal(err)
		}
		tr.state = State{Stage: Stage1, Seed: cfg.Seed}
		rng := rand.New(rand.NewPCG(3, 4))
		var out []map[string]float64
		for range steps {
			vals, err := tr.Step(rng)
			if err != nil {
				t.Fatalf("%s: %v", runtime, err)
			}
			out = append(out, vals)
		}
		return out, tr
	}
	ref, _ := run(MatchGoMLX)
	got, tr := run(MatchORT)
	if tr.ortMatch == nil {
		t.Fatal("the ort run did not set up ONNX Runtime's matching pass")
	}
	defer tr.ortMatch.close()
	for i := range ref {
		for name, want := range ref[i] {
			if name == "step_sec" {
				continue
			}
			have := got[i][name]
			if math.Abs(have-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Errorf("step %d %s: gomlx %.7g, ort %.7g", i, name, want, have)
			}
		}
	}
	t.Logf("step %d: total %.6f (gomlx) %.6f (ort)", steps-1, ref[steps-1]["total"], got[steps-1]["total"])
}
