package sim

import (
	"context"
	"math"
	"testing"
)

func TestExpertSolvesTasks(t *testing.T) {
	env, err := New(Config{Width: 64, Height: 64, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	episodes := 4
	if testing.Short() {
		episodes = 2
	}
	for _, task := range []string{TaskPickPlace, TaskStack, TaskOcclusion} {
		res, err := Evaluate(context.Background(), env, EvalConfig{Task: task, Split: SplitNone, Episodes: episodes, Seed: 100}, ExpertFactory)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Episodes {
			t.Logf("%s seed %d: success=%v steps=%d %s", task, r.Spec.Seed, r.Success, r.Steps, r.Reason)
		}
		if res.SuccessRate < 1 {
			t.Errorf("%s: expert success rate %.2f", task, res.SuccessRate)
		}
	}
}

// TestExpertUnderPerturbations runs the oracle once per split at full
// severity (tasks rotate), so every split stays solvable.
func TestExpertUnderPerturbations(t *testing.T) {
	env, err := New(Config{Width: 32, Height: 32, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	tasks := Tasks()
	for i, split := range Splits() {
		task := tasks[i%len(tasks)].Name
		res, err := Evaluate(context.Background(), env, EvalConfig{Task: task, Split: split, Severity: 1, Episodes: 1, Seed: 77}, ExpertFactory)
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Episodes[0]; !r.Success {
			t.Errorf("%s/%s: expert failed after %d steps: %s", task, split, r.Steps, r.Reason)
		}
	}
}

// TestExpertIsSmooth checks the expert's translation never jumps by more
// The expert respects its speed cap over a whole episode, and is Markov:
// asked twice in the same state it answers the same (its action does not
// depend on its previous one, which a policy cannot see), except at the
// steps where it moves on to its next phase.
func TestExpertIsSmoothAndMarkov(t *testing.T) {
	env, err := New(Config{Width: 16, Height: 16, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	if err := env.Reset(ctx, EpisodeSpec{Task: TaskStack, Split: SplitRobot, Severity: 1, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	x := NewExpert(env)
	differ := 0
	for i := 0; i < 150; i++ {
		a, err := x.Action(ctx)
		if err != nil {
			t.Fatal(err)
		}
		again, err := x.Action(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k := range a {
			if a[k] != again[k] {
				differ++
				break
			}
		}
		d := Vec3{float64(a[0]), float64(a[1]), float64(a[2])}
		if norm(d) > expertMaxStep+1e-6 {
			t.Fatalf("step %d: delta %v breaks the speed cap", i, d)
		}
		if err := env.Step(ctx, a); err != nil {
			t.Fatal(err)
		}
		if ok, _ := env.Success(); ok {
			if differ > 8 {
				t.Fatalf("the expert answered differently in the same state %d times (more than its phase changes)", differ)
			}
			return
		}
	}
	t.Fatal("expert did not finish")
}

func TestFunnel(t *testing.T) {
	goal := Vec3{0.5, 0, 0.03}
	tests := []struct {
		name  string
		cur   Vec3
		slack float64
		want  float64 // the waypoint's height
	}{
		{"far: capped at the clearance", Vec3{0.2, 0, 0.2}, 0, expertClearance},
		{"4 cm away, no slack", Vec3{0.54, 0, 0.1}, 0, 0.03 + expertFunnel*0.04},
		{"4 cm away, 1 cm slack", Vec3{0.54, 0, 0.1}, 0.01, 0.03 + expertFunnel*0.03},
		{"inside the slack: straight down", Vec3{0.5, 0.015, 0.1}, 0.02, 0.03},
		{"on the point", Vec3{0.5, 0, 0.03}, 0, 0.03},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := funnel(tc.cur, goal, tc.slack)
			if w[0] != goal[0] || w[1] != goal[1] || math.Abs(w[2]-tc.want) > 1e-12 {
				t.Errorf("funnel = %v, want (%v, %v, %v)", w, goal[0], goal[1], tc.want)
			}
		})
	}
}

// The place slack stays inside what Env.Success accepts, and is the
// grasp's at least.
func TestPlaceSlack(t *testing.T) {
	for _, name := range []string{TaskPickPlace, TaskStack, TaskOcclusion} {
		task, err := LookupTask(name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := BuildScene(EpisodeSpec{Task: name, Split: SplitNone}, 32, 32)
		if err != nil {
			t.Fatal(err)
		}
		tgt, _ := s.Object(task.Target)
		goal, _ := s.Object(task.Goal)
		slack := placeSlack(task, tgt, goal)
		accepted := goal.Size[0] - 0.005 // in the bowl
		if task.Stack {
			accepted = goal.Size[0]
		}
		if slack < expertGraspSlack || slack > accepted/2 {
			t.Errorf("%s: slack %.4f m, want in [%.3f, %.4f]", name, slack, expertGraspSlack, accepted/2)
		}
	}
}
