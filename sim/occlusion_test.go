package sim

import (
	"context"
	"testing"
)

// countLabel counts the pixels of label id in every camera.
func countLabel(t *testing.T, env *Env, id uint16) map[string]int {
	t.Helper()
	obs, err := env.Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, c := range obs.Cameras {
		for _, l := range c.Labels.IDs {
			if l == id {
				n[c.Name]++
			}
		}
	}
	return n
}

// TestOcclusionTaskHidesTargetFromFront checks that in the occlusion task
// the front camera sees only part of the target (compared with the same
// scene without the occluder) while the side camera still sees it.
func TestOcclusionTaskHidesTargetFromFront(t *testing.T) {
	env, err := New(Config{Width: 96, Height: 96})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	for seed := uint64(0); seed < 4; seed++ {
		spec := EpisodeSpec{Task: TaskOcclusion, Split: SplitNone, Seed: seed}
		scene, err := BuildScene(spec, 96, 96)
		if err != nil {
			t.Fatal(err)
		}
		target, _ := scene.Object(scene.Target)
		if err := env.ResetScene(ctx, spec, scene); err != nil {
			t.Fatal(err)
		}
		with := countLabel(t, env, target.Label)
		open := *scene
		open.Objects = nil
		for _, o := range scene.Objects {
			if o.Name != "occluder" {
				open.Objects = append(open.Objects, o)
			}
		}
		if err := env.ResetScene(ctx, spec, &open); err != nil {
			t.Fatal(err)
		}
		without := countLabel(t, env, target.Label)
		frac := float64(with["front"]) / float64(without["front"])
		t.Logf("seed %d: front %d/%d visible (%.2f), side %d/%d", seed, with["front"], without["front"], frac, with["side"], without["side"])
		if without["front"] == 0 || frac <= 0.05 || frac >= 0.7 {
			t.Errorf("seed %d: front camera sees %.2f of the target, want partial occlusion", seed, frac)
		}
		if with["side"] < without["side"]/2 {
			t.Errorf("seed %d: side camera also loses the target (%d of %d)", seed, with["side"], without["side"])
		}
	}
}
