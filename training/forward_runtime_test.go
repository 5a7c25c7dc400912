package training

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vla3d/vla3d/policy/ort"
)

// TestForwardRuntimesAgree trains each case for several steps with the
// forward-only passes on the training backend and in ONNX Runtime: stage
// 1's matching pass (rows A and C) and stage 2's frozen modules (row C, and
// Baseline and C with anchors). Every loss of
// every step must agree within float tolerance, and the ONNX Runtime run
// must really have used it.
func TestForwardRuntimesAgree(t *testing.T) {
	if _, err := ort.ResolveLibrary(""); err != nil {
		t.Skipf("ONNX Runtime not installed (scripts/install.sh): %v", err)
	}
	const steps = 6
	for _, c := range []struct {
		row     string
		stage   Stage
		anchors int
	}{
		{"A", Stage1, 0},
		{"C", Stage1, 2},
		{"C", Stage2, 0},
		{"baseline", Stage2, 2},
		{"C", Stage2, 2},
	} {
		run := func(runtime string) ([]map[string]float64, *Trainer) {
			cfg, data := tinyRun(t, c.row, []Stage{c.stage}, steps)
			cfg.Model.Anchors = c.anchors
			cfg.ForwardRuntime = runtime
			tr, err := New(cfg, data)
			if err != nil {
				t.Fatal(err)
			}
			// As a real run enters stage 2 (benchStart).
			rng := rand.New(rand.NewPCG(3, 4))
			if err := benchStart(tr, c.stage, rng); err != nil {
				t.Fatal(err)
			}
			var out []map[string]float64
			for range steps {
				vals, err := tr.Step(rng)
				if err != nil {
					t.Fatalf("row %s stage %d, %s: %v", c.row, c.stage, runtime, err)
				}
				out = append(out, vals)
			}
			return out, tr
		}
		ref, trRef := run(ForwardGoMLX)
		got, tr := run(ForwardORT)
		if (c.stage == Stage1 && tr.ortMatch == nil) || (c.stage == Stage2 && tr.ortFrozen == nil) {
			t.Errorf("row %s stage %d: the ort run did not use ONNX Runtime", c.row, c.stage)
		}
		for i := range ref {
			for name, want := range ref[i] {
				if name == "step_sec" {
					continue
				}
				if have := got[i][name]; math.Abs(have-want) > 1e-4*math.Max(1, math.Abs(want)) {
					t.Errorf("row %s stage %d step %d %s: gomlx %.7g, ort %.7g", c.row, c.stage, i, name, want, have)
				}
			}
		}
		t.Logf("row %s stage %d anchors %d, step %d: total %.6f (gomlx) %.6f (ort)", c.row, c.stage, c.anchors, steps-1, ref[steps-1]["total"], got[steps-1]["total"])
		if err := errors.Join(trRef.Close(), tr.Close()); err != nil {
			t.Fatal(err)
		}
	}
}
