package node

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/observe"
	"github.com/vla3d/vla3d/observe/observetest"
	"github.com/vla3d/vla3d/policy"
)

type rig struct {
	cfg   Config
	clock *fakeClock
	in    *observe.Assembler
	ctl   *Controller
	pol   *linePolicy
	logs  *observer.ObservedLogs
	size  int
}

func newRig(t testing.TB, cams, size int, mutate func(*Config)) *rig {
	t.Helper()
	return newRigWith(t, cams, size, mutate, nil)
}

// newRigWith drives pol (the rig's linePolicy when nil).
func newRigWith(t testing.TB, cams, size int, mutate func(*Config), pol policy.Policy) *rig {
	t.Helper()
	r := &rig{cfg: testConfig(cams), clock: observetest.NewClock(time.Unix(2000, 0)), pol: newLinePolicy(cams, size), size: size}
	if pol == nil {
		pol = r.pol
	}
	if mutate != nil {
		mutate(&r.cfg)
	}
	if err := r.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	r.logs = logs
	var err error
	if r.in, err = observe.New(r.cfg.Observe(), r.clock.Now); err != nil {
		t.Fatal(err)
	}
	if r.ctl, err = NewController(&r.cfg, pol, r.in, zap.New(core), r.clock.Now); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.ctl.Close)
	return r
}

// feed publishes one synchronized frame (all cameras), the pose and,
// the first time, camera_info and tf_static.
func (r *rig) feed(t testing.TB, withInfo, withTF bool) {
	t.Helper()
	stamp := r.clock.Now()
	if withTF {
		if err := r.in.OnTF(staticTF(&r.cfg), true); err != nil {
			t.Fatal(err)
		}
	}
	for c, cam := range r.cfg.Cameras {
		col, dep, info := camMsgs(cam.Name, r.size, stamp)
		if withInfo {
			r.in.OnCameraInfo(c, info)
		}
		if err := r.in.OnColor(c, col); err != nil {
			t.Fatal(err)
		}
		if err := r.in.OnDepth(c, dep); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.in.OnPose(eePose(r.cfg.BaseFrame, stamp)); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) warnings() int { return r.logs.FilterLevelExact(zapcore.WarnLevel).Len() }

func TestControllerExecutesPolicy(t *testing.T) {
	r := newRig(t, 2, 32, nil)
	var out Target
	if res := r.ctl.Tick(r.clock.Now(), &out); res.Valid || !res.Hold || res.Fault&FaultStaleCameras == 0 {
		t.Fatalf("before any input: %+v", res)
	}
	r.feed(t, true, true)
	// Sets complete when the next frame arrives (ApproximateTime needs proof
	// of optimality), so feed a second frame.
	r.clock.Advance(33 * time.Millisecond)
	r.feed(t, false, false)
	if !r.ctl.InferOnce(context.Background()) {
		t.Fatalf("no chunk stored; worker fault %v %v", r.ctl.workerFault, r.ctl.workerErr)
	}
	r.clock.Advance(time.Millisecond)
	res := r.ctl.Tick(r.clock.Now(), &out)
	if !res.Valid || res.Hold || res.Fault != 0 {
		t.Fatalf("tick %+v", res)
	}
	// Step 0 of the chunk: x = 0.4 + 0.001.
	if math.Abs(out.Pose.Position[0]-0.401) > 1e-6 || out.Pose.Orientation[3] != 1 {
		t.Errorf("command %+v, want x 0.401", out.Pose)
	}
	if r.ctl.InferOnce(context.Background()) {
		t.Error("inferred twice on the same observation")
	}
}

func TestControllerHoldsOnStalledCamera(t *testing.T) {
	r := newRig(t, 2, 32, nil)
	r.feed(t, true, true)
	r.clock.Advance(50 * time.Millisecond)
	r.feed(t, false, false)
	r.ctl.InferOnce(context.Background())
	var out Target
	if res := r.ctl.Tick(r.clock.Now(), &out); res.Hold {
		t.Fatalf("fresh inputs held: %+v", res)
	}
	lastCmd := out.Pose.Position
	// Cameras stall; the pose keeps coming. Tick for 2 s at 20 Hz.
	holds, stale := 0, 0
	for range 40 {
		r.clock.Advance(50 * time.Millisecond)
		if err := r.in.OnPose(eePose(r.cfg.BaseFrame, r.clock.Now())); err != nil {
			t.Fatal(err)
		}
		res := r.ctl.Tick(r.clock.Now(), &out)
		if !res.Hold {
			lastCmd = out.Pose.Position
		}
		if res.Hold {
			holds++
			if res.Fault&FaultStaleCameras != 0 {
				stale++
			}
			if !res.Valid {
				t.Fatalf("hold without a command: %+v", res)
			}
			// Hold where the robot was last commanded (not stepping back
			// to the lagging measured pose, not extrapolating the chunk).
			if out.Pose.Position != lastCmd {
				t.Fatalf("hold target %v, want the last command %v", out.Pose.Position, lastCmd)
			}
		}
	}
	// The chunk (8 steps at 20 Hz) runs out after 400 ms (no_plan); the
	// cameras are stale after max_input_age = 500 ms.
	if holds < 30 || stale < 28 {
		t.Errorf("held %d of 40 ticks, %d with stale cameras", holds, stale)
	}
	if w := r.warnings(); w != 1 {
		t.Errorf("%d warnings for one fault episode, want 1", w)
	}
	// Cameras come back: the fault clears once a new chunk exists.
	r.feed(t, false, false)
	r.clock.Advance(30 * time.Millisecond)
	r.feed(t, false, false)
	r.ctl.InferOnce(context.Background())
	r.clock.Advance(time.Millisecond)
	if res := r.ctl.Tick(r.clock.Now(), &out); res.Hold {
		t.Errorf("still holding after recovery: %+v", res)
	}
}

func TestControllerFaults(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *rig)
		info  bool
		tf    bool
		want  Fault
	}{
		{"policy error", func(r *rig) { r.pol.set(errPolicy, false) }, true, true, FaultPolicy},
		{"NaN action", func(r *rig) { r.pol.set(nil, true) }, true, true, FaultNonFinite},
		{"missing camera_info", nil, false, true, FaultNoCameraInfo},
		{"missing tf", nil, true, false, FaultNoTF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 2, 32, nil)
			if tc.setup != nil {
				tc.setup(r)
			}
			r.feed(t, tc.info, tc.tf)
			r.clock.Advance(30 * time.Millisecond)
			r.feed(t, false, false)
			if r.ctl.InferOnce(context.Background()) {
				t.Fatal("faulty inference stored a chunk")
			}
			var out Target
			res := r.ctl.Tick(r.clock.Now(), &out)
			if !res.Hold || res.Fault&tc.want == 0 {
				t.Fatalf("tick %+v, want hold with %v", res, tc.want)
			}
			if !res.Valid || out.Pose.Position[0] != 0.4 {
				t.Errorf("hold command %+v (valid %v), want the measured pose", out.Pose, res.Valid)
			}
		})
	}
}

func TestControllerStaticExtrinsicFallback(t *testing.T) {
	r := newRig(t, 1, 32, func(c *Config) {
		c.Cameras[0].Extrinsic = &StaticTransform{Translation: [3]float64{0, 0, 1}, Rotation: [4]float64{1, 0, 0, 0}}
	})
	r.feed(t, true, false)
	r.clock.Advance(30 * time.Millisecond)
	r.feed(t, false, false)
	if !r.ctl.InferOnce(context.Background()) {
		t.Fatalf("static extrinsic not used: %v", r.ctl.workerErr)
	}
}

type panicPolicy struct{ *linePolicy }

func (p panicPolicy) Predict(context.Context, *policy.Input, *msgs.ActionChunk) error {
	panic("model exploded")
}

func TestControllerSurvivesPolicyPanic(t *testing.T) {
	r := newRig(t, 1, 32, nil)
	ctl, err := NewController(&r.cfg, panicPolicy{r.pol}, r.in, zap.NewNop(), r.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	r.feed(t, true, true)
	r.clock.Advance(30 * time.Millisecond)
	r.feed(t, false, false)
	if ctl.InferOnce(context.Background()) {
		t.Fatal("panicking policy stored a chunk")
	}
	var out Target
	if res := ctl.Tick(r.clock.Now(), &out); res.Fault&FaultPolicy == 0 {
		t.Fatalf("tick %+v, want policy fault", res)
	}
}

func TestControllerSpecMismatch(t *testing.T) {
	cfg := testConfig(2)
	in, _ := observe.New(cfg.Observe(), time.Now)
	if _, err := NewController(&cfg, newLinePolicy(3, 32), in, zap.NewNop(), time.Now); err == nil {
		t.Error("3-camera model accepted for a 2-camera config")
	}
	joint := testConfig(2)
	joint.Execution.Output, joint.Execution.JointNames = "joint", []string{"j1", "j2"}
	jin, _ := observe.New(joint.Observe(), time.Now)
	if _, err := NewController(&joint, newLinePolicy(2, 32), jin, zap.NewNop(), time.Now); err == nil {
		t.Error("end-effector model accepted for joint output")
	}
	jp := newLinePolicy(2, 32)
	jp.spec.ActionSpace, jp.spec.ActionDim = "joint", 3
	if _, err := NewController(&joint, jp, jin, zap.NewNop(), time.Now); err == nil {
		t.Error("3-D joint model accepted for 2 joint names")
	}
}

// A camera on a moving link (a wrist camera) whose /tf stops: after the
// extrapolation tolerance the lookup at the image stamp fails, and with a
// lax tolerance the receive-time staleness (max_input_age) still trips.
func TestControllerStaleMovingTF(t *testing.T) {
	for _, tol := range []time.Duration{50 * time.Millisecond, time.Hour} {
		t.Run(tol.String(), func(t *testing.T) {
			r := newRig(t, 1, 32, func(c *Config) { c.TF.ExtrapolationTolerance.Duration = tol })
			moving := func() {
				t.Helper()
				if err := r.in.OnTF(stampedTF(&r.cfg, r.clock.Now()), false); err != nil {
					t.Fatal(err)
				}
			}
			moving()
			r.feed(t, true, false)
			r.clock.Advance(30 * time.Millisecond)
			moving()
			r.feed(t, false, false)
			if !r.ctl.InferOnce(context.Background()) {
				t.Fatalf("fresh moving tf rejected: %v", r.ctl.workerErr)
			}
			// Cameras keep coming but /tf stops.
			for range 12 {
				r.clock.Advance(50 * time.Millisecond)
				r.feed(t, false, false)
			}
			if r.ctl.InferOnce(context.Background()) {
				t.Fatal("inferred with a stale moving tf")
			}
			var out Target
			if res := r.ctl.Tick(r.clock.Now(), &out); res.Fault&FaultNoTF == 0 {
				t.Errorf("tick %+v, want no_tf", res)
			}
		})
	}
}

// In replan mode the worker infers only when the control loop asks (every
// replan_every ticks, or when no chunk covers now).
func TestControllerReplanCadence(t *testing.T) {
	r := newRig(t, 1, 32, func(c *Config) { c.Execution.Mode, c.Execution.ReplanEvery = "replan", 3 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { r.ctl.RunInference(ctx); close(done) }()
	r.feed(t, true, true)
	var out Target
	for range 30 {
		r.clock.Advance(50 * time.Millisecond)
		r.feed(t, false, false)
		r.ctl.Tick(r.clock.Now(), &out)
		time.Sleep(2 * time.Millisecond) // let the worker run
	}
	cancel()
	<-done
	r.pol.mu.Lock()
	calls := r.pol.calls
	r.pol.mu.Unlock()
	// 30 ticks, a replan every 3: about 10 inferences (fewer on a loaded
	// machine), never one per frame as in ensemble mode.
	if calls < 1 || calls > 15 {
		t.Errorf("%d inferences over 30 ticks with replan_every 3", calls)
	}
}

// jointPolicy emits absolute joint targets: step k = (0.01 k, 0.2).
type jointPolicy struct{ *linePolicy }

func (p jointPolicy) Predict(_ context.Context, _ *policy.Input, out *msgs.ActionChunk) error {
	h := p.spec.Horizon
	out.Horizon, out.Dim, out.Period = h, 2, 50*time.Millisecond
	out.Values = out.Values[:0]
	for k := range h {
		out.Values = append(out.Values, 0.01*float32(k), 0.2)
	}
	return nil
}

func TestControllerJointOutput(t *testing.T) {
	jp := jointPolicy{newLinePolicy(1, 32)}
	jp.spec.ActionSpace, jp.spec.ActionDim = "joint", 2
	r := newRigWith(t, 1, 32, func(c *Config) {
		c.Execution.Output, c.Execution.JointNames = "joint", []string{"j1", "j2"}
	}, jp)
	ctl := r.ctl
	if err := r.in.OnJointState(&sensor_msgs.JointState{Name: []string{"j2", "j1"}, Position: []float64{0.5, 0.25}}); err != nil {
		t.Fatal(err)
	}
	r.feed(t, true, true)
	r.clock.Advance(30 * time.Millisecond)
	r.feed(t, false, false)
	if !ctl.InferOnce(context.Background()) {
		t.Fatalf("no joint chunk: %v", ctl.workerErr)
	}
	var out Target
	r.clock.Advance(60 * time.Millisecond) // step 1 of the chunk
	res := ctl.Tick(r.clock.Now(), &out)
	if res.Hold || len(out.Joints) != 2 || math.Abs(out.Joints[0]-0.01) > 1e-6 || math.Abs(out.Joints[1]-0.2) > 1e-6 {
		t.Fatalf("tick %+v joints %v, want [0.01 0.2]", res, out.Joints)
	}
	// Cameras stall: hold at the measured joints (reordered by name).
	r.clock.Advance(time.Second)
	if err := r.in.OnPose(eePose(r.cfg.BaseFrame, r.clock.Now())); err != nil {
		t.Fatal(err)
	}
	res = ctl.Tick(r.clock.Now(), &out)
	if !res.Hold || !res.Valid || out.Joints[0] != 0.25 || out.Joints[1] != 0.5 {
		t.Fatalf("hold %+v joints %v, want [0.25 0.5]", res, out.Joints)
	}
}

// instructionSwitcher changes the instruction while the model runs.
type instructionSwitcher struct {
	*linePolicy
	in   *observe.Assembler
	text string
}

func (p instructionSwitcher) Predict(ctx context.Context, in *policy.Input, out *msgs.ActionChunk) error {
	if p.text != "" {
		p.in.OnInstruction(&std_msgs.String{Data: p.text})
	}
	return p.linePolicy.Predict(ctx, in, out)
}

// A new instruction voids the stored chunks and any chunk being predicted
// (they pursue the old task).
func TestControllerInstructionChangeVoidsChunks(t *testing.T) {
	r := newRig(t, 1, 32, nil)
	r.feed(t, true, true)
	r.clock.Advance(30 * time.Millisecond)
	r.feed(t, false, false)
	if !r.ctl.InferOnce(context.Background()) {
		t.Fatal("no chunk")
	}
	var out Target
	if res := r.ctl.Tick(r.clock.Now(), &out); res.Hold {
		t.Fatalf("tick %+v", res)
	}
	r.in.OnInstruction(&std_msgs.String{Data: "pick the cube"})
	if res := r.ctl.Tick(r.clock.Now(), &out); !res.Hold || res.Fault != FaultNoPlan {
		t.Fatalf("after a new instruction: %+v, want hold with no_plan", res)
	}
	r.in.OnInstruction(&std_msgs.String{Data: "pick the cube"})
	if g := r.in.InstructionGen(); g != 1 {
		t.Errorf("repeating the instruction counted as a change: gen %d", g)
	}

	sw := newRigWith(t, 1, 32, nil, nil)
	ctl, err := NewController(&sw.cfg, instructionSwitcher{sw.pol, sw.in, "stack the block"}, sw.in, zap.NewNop(), sw.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	sw.feed(t, true, true)
	sw.clock.Advance(30 * time.Millisecond)
	sw.feed(t, false, false)
	if ctl.InferOnce(context.Background()) {
		t.Error("chunk predicted under a superseded instruction was stored")
	}
}

// TestControllerChunkAnchor runs one sequence with each anchor: a chunk
// continues from the command in force when its images were synchronized with
// "command" (the measured pose lags it by the linePolicy's first step, 1 mm
// in x; a later command must not count), from the measured pose with
// "measured", and from the measured pose again when the command is farther
// from it than anchor_max_gap.
func TestControllerChunkAnchor(t *testing.T) {
	run := func(anchor contract.ChunkAnchor, maxGap float64) float64 {
		r := newRig(t, 1, 32, func(c *Config) {
			c.Execution.Mode = contract.ExecReplan
			c.Execution.Anchor, c.Execution.AnchorMaxGap = anchor, maxGap
		})
		var out Target
		r.feed(t, true, true)
		r.clock.Advance(33 * time.Millisecond)
		r.feed(t, false, false)
		if !r.ctl.InferOnce(context.Background()) {
			t.Fatal("no first chunk")
		}
		r.clock.Advance(time.Millisecond)
		if res := r.ctl.Tick(r.clock.Now(), &out); !res.Valid || res.Hold {
			t.Fatalf("first tick %+v", res)
		}
		r.clock.Advance(33 * time.Millisecond)
		r.feed(t, false, false)
		// A command published after the second set was synchronized (the
		// first chunk's next step) is not the one in force at its images.
		r.clock.Advance(23 * time.Millisecond)
		if res := r.ctl.Tick(r.clock.Now(), &out); !res.Valid || res.Hold {
			t.Fatalf("tick after the second set %+v", res)
		}
		if !r.ctl.InferOnce(context.Background()) {
			t.Fatal("no second chunk")
		}
		r.clock.Advance(time.Millisecond)
		if res := r.ctl.Tick(r.clock.Now(), &out); !res.Valid || res.Hold {
			t.Fatalf("second tick %+v", res)
		}
		return out.Pose.Position[0]
	}
	measured := run(contract.AnchorMeasured, 0.05)
	command := run(contract.AnchorCommand, 0.05)
	farCommand := run(contract.AnchorCommand, 1e-4)
	if d := command - measured; math.Abs(d-0.001) > 1e-6 {
		t.Errorf("command anchor leads measured by %.6f m, want 0.001", d)
	}
	if math.Abs(farCommand-measured) > 1e-9 {
		t.Errorf("command past anchor_max_gap: x %.6f, want the measured anchor's %.6f", farCommand, measured)
	}
}
