package node

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
)

var t0 = time.Unix(1000, 0)

// eeChunk returns a chunk whose step k moves dx[k] along x with gripper g[k].
func eeChunk(dx, g []float32) *msgs.ActionChunk {
	c := &msgs.ActionChunk{Horizon: len(dx), Dim: msgs.EEActionDim, Period: 100 * time.Millisecond, Values: make([]float32, len(dx)*msgs.EEActionDim)}
	for k := range dx {
		c.Step(k)[msgs.ActionDX] = dx[k]
		c.Step(k)[msgs.ActionGripper] = g[k]
	}
	return c
}

var origin = msgs.Pose{Orientation: [4]float64{0, 0, 0, 1}}

func TestExecutorIntegratesDeltas(t *testing.T) {
	cfg := DefaultConfig().Execution
	e := NewExecutor(&cfg, 4, 100*time.Millisecond)
	if err := e.Add(eeChunk([]float32{0.1, 0.1, 0.2, 0.3}, []float32{0, 0.5, 1, 1}), origin, t0); err != nil {
		t.Fatal(err)
	}
	var out Target
	tests := []struct {
		at   time.Duration
		x, g float64
		ok   bool
	}{
		{-time.Millisecond, 0, 0, false}, // before the chunk starts
		{0, 0.1, 0, true},
		{150 * time.Millisecond, 0.2, 0.5, true},
		{399 * time.Millisecond, 0.7, 1, true},
		{400 * time.Millisecond, 0, 0, false}, // past the horizon
	}
	for _, tc := range tests {
		ok := e.Command(t0.Add(tc.at), &out)
		if ok != tc.ok || (ok && (math.Abs(out.Pose.Position[0]-tc.x) > 1e-6 || math.Abs(out.Gripper-tc.g) > 1e-6)) {
			t.Errorf("at %v: ok=%v x=%v g=%v, want ok=%v x=%v g=%v", tc.at, ok, out.Pose.Position[0], out.Gripper, tc.ok, tc.x, tc.g)
		}
	}
	if e.Len() != 0 {
		t.Errorf("expired chunk kept: %d stored", e.Len())
	}
}

// Two overlapping chunks: the ensemble is the exp(-m i) weighted mean, the
// oldest chunk weighted 1 and the next exp(-m).
func TestExecutorTemporalEnsemble(t *testing.T) {
	for _, m := range []float64{0, 0.01, 1} {
		cfg := DefaultConfig().Execution
		cfg.Mode, cfg.EnsembleDecay = contract.ExecEnsemble, m
		e := NewExecutor(&cfg, 4, 100*time.Millisecond)
		// Old chunk at t0: x = 0.1 per step. New chunk at t0+100ms anchored at x = 1: x = 1 + 0.5 per step.
		if err := e.Add(eeChunk([]float32{0.1, 0.1, 0.1, 0.1}, []float32{0, 0, 0, 0}), origin, t0); err != nil {
			t.Fatal(err)
		}
		anchor := origin
		anchor.Position[0] = 1
		if err := e.Add(eeChunk([]float32{0.5, 0.5, 0.5, 0.5}, []float32{1, 1, 1, 1}), anchor, t0.Add(100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		var out Target
		if !e.Command(t0.Add(150*time.Millisecond), &out) {
			t.Fatal("no command")
		}
		// Old chunk step 1: x = 0.2; new chunk step 0: x = 1.5.
		w0, w1 := 1.0, math.Exp(-m)
		wantX := (w0*0.2 + w1*1.5) / (w0 + w1)
		wantG := w1 / (w0 + w1)
		if math.Abs(out.Pose.Position[0]-wantX) > 1e-6 || math.Abs(out.Gripper-wantG) > 1e-9 {
			t.Errorf("m=%v: x=%v g=%v, want %v %v", m, out.Pose.Position[0], out.Gripper, wantX, wantG)
		}
	}
}

func TestExecutorReplanFollowsNewest(t *testing.T) {
	cfg := DefaultConfig().Execution
	cfg.Mode = "replan"
	e := NewExecutor(&cfg, 4, 100*time.Millisecond)
	_ = e.Add(eeChunk([]float32{0.1, 0.1, 0.1, 0.1}, []float32{0, 0, 0, 0}), origin, t0)
	_ = e.Add(eeChunk([]float32{0.5, 0.5, 0.5, 0.5}, []float32{1, 1, 1, 1}), origin, t0.Add(100*time.Millisecond))
	var out Target
	if !e.Command(t0.Add(250*time.Millisecond), &out) || math.Abs(out.Pose.Position[0]-1.0) > 1e-6 {
		t.Errorf("replan: x = %v, want 1.0 (newest chunk step 1)", out.Pose.Position[0])
	}
}

func TestExecutorRotationAndErrors(t *testing.T) {
	cfg := DefaultConfig().Execution
	e := NewExecutor(&cfg, 2, 100*time.Millisecond)
	c := eeChunk([]float32{0, 0}, []float32{0, 0})
	c.Step(0)[msgs.ActionDYaw] = math.Pi / 4
	c.Step(1)[msgs.ActionDYaw] = math.Pi / 4
	if err := e.Add(c, origin, t0); err != nil {
		t.Fatal(err)
	}
	var out Target
	e.Command(t0.Add(100*time.Millisecond), &out)
	h := math.Sqrt(0.5) // yaw pi/2: q = (0, 0, sin(pi/4), cos(pi/4))
	if q := out.Pose.Orientation; math.Abs(q[2]-h) > 1e-6 || math.Abs(q[3]-h) > 1e-6 {
		t.Errorf("orientation %v, want (0 0 %v %v)", q, h, h)
	}
	c.Values[3] = float32(math.NaN())
	if err := e.Add(c, origin, t0); !errors.Is(err, ErrNonFiniteAction) {
		t.Errorf("NaN chunk: %v", err)
	}
	if err := e.Add(&msgs.ActionChunk{Horizon: 1, Dim: 3, Values: make([]float32, 3)}, origin, t0); err == nil {
		t.Error("short end-effector chunk accepted")
	}
}

func TestExecutorJoint(t *testing.T) {
	cfg := DefaultConfig().Execution
	cfg.Output = "joint"
	cfg.Mode, cfg.EnsembleDecay = contract.ExecEnsemble, 0
	e := NewExecutor(&cfg, 2, 100*time.Millisecond)
	_ = e.Add(&msgs.ActionChunk{Horizon: 2, Dim: 2, Values: []float32{1, 2, 3, 4}}, origin, t0)
	_ = e.Add(&msgs.ActionChunk{Horizon: 2, Dim: 2, Values: []float32{5, 6, 7, 8}}, origin, t0.Add(100*time.Millisecond))
	var out Target
	if !e.Command(t0.Add(100*time.Millisecond), &out) || out.Joints[0] != 4 || out.Joints[1] != 5 {
		t.Errorf("joint ensemble %v, want [4 5]", out.Joints) // mean of (3,4) and (5,6)
	}
}

func TestLimiter(t *testing.T) {
	cfg := DefaultConfig().Safety
	cfg.WorkspaceMin, cfg.WorkspaceMax = [3]float64{0, -0.5, 0}, [3]float64{1, 0.5, 1}
	cfg.MaxLinearSpeed, cfg.MaxAngularSpeed = 1, 1 // per 100 ms tick: 0.1 m, 0.1 rad
	l := NewLimiter(cfg)
	dt := 100 * time.Millisecond
	tg := Target{Pose: msgs.Pose{Position: [3]float64{2, 0, 0.5}, Orientation: [4]float64{0, 0, 0, 1}}, Gripper: 1.5}
	if !l.Clamp(&tg, dt, false) || tg.Pose.Position[0] != 1 || tg.Gripper != 1 {
		t.Fatalf("workspace/gripper clamp: %+v", tg)
	}
	next := Target{Pose: msgs.Pose{Position: [3]float64{0.5, 0, 0.5}, Orientation: [4]float64{0, 0, 1, 0}}} // 0.5 m and pi rad away
	if !l.Clamp(&next, dt, false) {
		t.Fatal("speed limits not applied")
	}
	if math.Abs(next.Pose.Position[0]-0.9) > 1e-9 {
		t.Errorf("x = %v, want 0.9 (0.1 m step)", next.Pose.Position[0])
	}
	if a := perception.IdentityQuat().Angle(perception.QuatFromArray(next.Pose.Orientation)); math.Abs(a-0.1) > 1e-6 {
		t.Errorf("rotation step %v rad, want 0.1", a)
	}
	j := NewLimiter(cfg)
	a := Target{Joints: []float64{0, 0}}
	j.Clamp(&a, dt, true)
	b := Target{Joints: []float64{1, -0.05}}
	if !j.Clamp(&b, dt, true) || b.Joints[0] != 0.1 || b.Joints[1] != -0.05 {
		t.Errorf("joint speed clamp %v, want [0.1 -0.05]", b.Joints)
	}
}
