package training

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vla3d/vla3d/policy/model"
)

// TestWarmStartFromBaseline: a row-A run started from a trained Baseline
// (with anchors) run begins with the Baseline's base, action expert and
// anchor weights, and the instance module's other variables fresh; a run of
// another width or vocabulary is refused, naming why.
func TestWarmStartFromBaseline(t *testing.T) {
	cfg, data := tinyRun(t, "baseline", []Stage{Stage1}, 6)
	cfg.Model.Anchors = 2
	src, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	trained := variables(t, src)

	a, _ := tinyRun(t, "A", []Stage{Stage1}, 1)
	a.Model.Anchors, a.InitFrom, a.WarmupSteps = 2, cfg.OutDir, 0
	a.LR, a.MinLR = 1e-12, 1e-12 // one step that changes (almost) nothing
	dst, err := New(a, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	started := variables(t, dst)
	restored := 0
	for name, want := range trained {
		if strings.HasPrefix(name, "/optimizer") {
			continue
		}
		got, ok := started[name]
		warm := slices.ContainsFunc(WarmStartScopes, func(s string) bool { return strings.HasPrefix(name, "/"+s+"/") })
		if warm != ok {
			t.Errorf("%s: warm-start scope %v, present in the new run %v", name, warm, ok)
			continue
		}
		for i := range want {
			if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("%s[%d]: %v, the baseline's %v", name, i, got[i], want[i])
			}
		}
		restored++
	}
	if restored == 0 {
		t.Fatal("nothing restored")
	}
	fresh := 0
	for name := range started {
		if strings.HasPrefix(name, "/"+model.ScopeInstanceModule+"/") && !strings.Contains(name, "/"+model.ScopeAnchors+"/") {
			fresh++
		}
	}
	if fresh == 0 {
		t.Error("the new run has no instance-module variables of its own")
	}

	// Another width: refused before any step.
	w, _ := tinyRun(t, "A", []Stage{Stage1}, 1)
	w.Model.Anchors, w.InitFrom, w.WarmupSteps = 2, cfg.OutDir, 0
	w.Model.Width *= 2
	bad, err := New(w, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Width") {
		t.Errorf("another width: %v", err)
	}
	// No model.json (not a run directory): refused.
	empty := t.TempDir()
	if err := os.MkdirAll(filepath.Join(empty, CheckpointDir), 0o755); err != nil {
		t.Fatal(err)
	}
	w.Model.Width, w.InitFrom, w.OutDir = cfg.Model.Width, empty, t.TempDir()
	if bad, err = New(w, data); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Run(context.Background()); err == nil {
		t.Error("a directory without model.json was accepted")
	}
}
