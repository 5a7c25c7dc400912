package policyctl

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/sim"
)

// servo is a test policy with a known closed-form behaviour: it reads the
// end-effector position from the proprio input and moves it toward goal, and
// records whether the 3D patch points it received were valid.
type servo struct {
	spec      policy.Spec
	goal      [3]float32
	validSeen float32
	calls     int
}

func (s *servo) Spec() policy.Spec { return s.spec }
func (s *servo) Close() error      { return nil }
func (s *servo) Predict(_ context.Context, in *policy.Input, out *msgs.ActionChunk) error {
	s.calls++
	for _, v := range in.PointValid {
		s.validSeen += v
	}
	out.Horizon, out.Dim = s.spec.Horizon, s.spec.ActionDim
	for k := 0; k < out.Horizon; k++ {
		a := out.Step(k)
		for i := 0; i < 3; i++ {
			a[i] = 0.5 * (s.goal[i] - in.Proprio[i]) / float32(out.Horizon)
		}
	}
	return nil
}

func testSpec() policy.Spec {
	return policy.Spec{Cameras: 3, ImageWidth: 32, ImageHeight: 32, PatchSize: 8, ActionDim: msgs.EEActionDim,
		Horizon: 2, ProprioDim: preprocess.ProprioDimRPY, InstructionLen: 8, ControlHz: 10, ActionSpace: "ee_delta"}
}

func TestControllerDrivesSim(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 32, Height: 32, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	p := &servo{spec: testSpec(), goal: [3]float32{0.5, 0.1, 0.2}}
	res, err := sim.Evaluate(context.Background(), env, sim.EvalConfig{Task: sim.TaskPickPlace, Split: sim.SplitNone, Episodes: 1, MaxSteps: 30},
		Factory(p, preprocess.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if res.SuccessRate != 0 || p.calls != 15 {
		t.Errorf("success %v after %d policy calls (want 0 and 15: a servo does not solve the task)", res.SuccessRate, p.calls)
	}
	if p.validSeen == 0 {
		t.Error("policy saw no valid 3D points")
	}
	st := env.State()
	for i := 0; i < 3; i++ {
		if math.Abs(st.EEPos[i]-float64(p.goal[i])) > 0.01 {
			t.Fatalf("end effector %v did not reach %v", st.EEPos, p.goal)
		}
	}
}

func TestControllerRejectsMismatch(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 16, Height: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	for _, mut := range []func(*policy.Spec){
		func(s *policy.Spec) { s.ControlHz = 15 },
		func(s *policy.Spec) { s.ActionSpace = "joint" },
		func(s *policy.Spec) { s.ActionDim = 6 },
		func(s *policy.Spec) { s.Cameras = 2 },
		func(s *policy.Spec) { s.Horizon = 0 },
	} {
		s := testSpec()
		mut(&s)
		if _, err := New(&servo{spec: s}, env, preprocess.Options{}); err == nil {
			t.Errorf("spec %+v accepted", s)
		}
	}
}

type failing struct{ servo }

func (f *failing) Predict(context.Context, *policy.Input, *msgs.ActionChunk) error {
	return errors.New("model exploded")
}

func TestControllerErrorsSurface(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 32, Height: 32, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	_, err = sim.Evaluate(context.Background(), env, sim.EvalConfig{Task: sim.TaskStack, Split: sim.SplitNone, Episodes: 1},
		Factory(&failing{servo{spec: testSpec()}}, preprocess.Options{}))
	if err == nil {
		t.Fatal("policy error swallowed")
	}
}
