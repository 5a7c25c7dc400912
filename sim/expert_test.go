package sim

import (
	"context"
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
