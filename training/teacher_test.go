package training

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/vla3d/vla3d/policy/model"
)

// TestFreshStage2UpdatesTheTeacher: a run that starts in stage 2 from fresh
// weights builds its step graph before the EMA teacher has values; the
// graph must still update the teacher every step.
func TestFreshStage2UpdatesTheTeacher(t *testing.T) {
	cfg, data := tinyRun(t, "C", []Stage{Stage2}, 8)
	cfg.ForwardRuntime = ForwardGoMLX
	tr, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.state = State{Stage: Stage2, Seed: cfg.Seed}
	rng := rand.New(rand.NewPCG(1, 2))
	teacher := func() []float32 {
		var all []float32
		for v := range tr.vars.IterVariables() {
			if strings.HasPrefix(v.Scope(), model.ScopePredictorTeacher) && v.DType().IsFloat() {
				val, err := v.Value()
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, tensors.MustCopyFlatData[float32](val)...)
			}
		}
		return all
	}
	if _, err := tr.Step(rng); err != nil {
		t.Fatal(err)
	}
	before := teacher()
	if _, err := tr.Step(rng); err != nil {
		t.Fatal(err)
	}
	after := teacher()
	if len(before) == 0 || len(before) != len(after) {
		t.Fatalf("teacher values: %d then %d", len(before), len(after))
	}
	changed := 0
	for i := range before {
		if before[i] != after[i] {
			changed++
		}
	}
	if changed == 0 {
		t.Error("the second stage-2 step left the EMA teacher unchanged")
	}
}
