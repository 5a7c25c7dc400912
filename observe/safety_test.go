package observe

import (
	"math"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/observe/observetest"
)

func TestPoseGate(t *testing.T) {
	t0 := time.Unix(10, 0)
	g := PoseGate{Min: [3]float64{-1, -1, -0.3}, Max: [3]float64{1, 1, 1.5}, MaxSpeed: 2}
	for _, tc := range []struct {
		name string
		p    [3]float64
		dt   time.Duration
		have bool
		ok   bool
	}{
		{"first pose in the box", [3]float64{0.4, 0, 0.3}, 0, false, true},
		{"first pose far away", [3]float64{100, 0, 0.3}, 0, false, false},
		{"slow move", [3]float64{0.41, 0, 0.3}, 10 * time.Millisecond, true, true},
		{"jump", [3]float64{0.9, 0, 0.3}, 10 * time.Millisecond, true, false},
		{"same stamp, small move (jitter slack)", [3]float64{0.42, 0, 0.3}, 0, true, true},
		{"big move over a long gap", [3]float64{0.9, 0, 0.3}, time.Second, true, true},
	} {
		err := g.check(tc.p, t0.Add(tc.dt), [3]float64{0.4, 0, 0.3}, t0, tc.have)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := (PoseGate{}).check([3]float64{1e6, 0, 0}, t0, [3]float64{}, t0, true); err != nil {
		t.Errorf("the zero gate refused a pose: %v", err)
	}
}

// An implausible pose is refused, never paired, and holds (Health) until a
// plausible one arrives.
func TestAssemblerRefusesImplausiblePose(t *testing.T) {
	cfg := testConfig(1)
	cfg.PoseGate = PoseGate{Min: [3]float64{-1, -1, -0.3}, Max: [3]float64{1, 1, 1.5}, MaxSpeed: 2}
	clock := observetest.NewClock(time.Unix(20, 0))
	a, err := New(cfg, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	pose := func(x float64) error {
		m := rosconv.PoseStampedToROS(msgs.Pose{Position: [3]float64{x, 0, 0.3}, Orientation: [4]float64{0, 0, 0, 1}}, clock.Now(), cfg.BaseFrame)
		return a.OnPose(&m)
	}
	if err := pose(0.4); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Millisecond)
	if err := pose(100); err == nil {
		t.Fatal("a pose 100 m away was accepted")
	}
	if f, _ := a.Health(clock.Now()); f&FaultBadInput == 0 {
		t.Fatalf("health %v after an implausible pose, want bad_input", f)
	}
	if p, _, _ := a.CurrentPose(); p.Position[0] != 0.4 {
		t.Fatalf("current pose %v, want the last plausible one", p.Position)
	}
	clock.Advance(10 * time.Millisecond)
	if err := pose(0.405); err != nil {
		t.Fatal(err)
	}
	if f, _ := a.Health(clock.Now()); f&FaultBadInput != 0 {
		t.Fatalf("health %v after a plausible pose", f)
	}
	var st Stats
	a.Stats(&st)
	if st.ImplausiblePoses != 1 {
		t.Fatalf("implausible poses counted %d", st.ImplausiblePoses)
	}
}

func TestInstructionRateLimit(t *testing.T) {
	cfg := testConfig(1)
	cfg.InstructionMinInterval = time.Second
	clock := observetest.NewClock(time.Unix(30, 0))
	a, err := New(cfg, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	say := func(s string) error { return a.OnInstruction(&std_msgs.String{Data: s}) }
	if err := say("put the red block in the bowl"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 { // spam at 25 Hz for 0.8 s
		clock.Advance(40 * time.Millisecond)
		if err := say("attack " + string(rune('a'+i))); err == nil {
			t.Fatalf("instruction change %d within the interval accepted", i)
		}
	}
	if a.Instruction() != "put the red block in the bowl" || a.InstructionGen() != 1 {
		t.Fatalf("instruction %q gen %d", a.Instruction(), a.InstructionGen())
	}
	clock.Advance(time.Second)
	if err := say("stack the red block on the green block"); err != nil || a.InstructionGen() != 2 {
		t.Fatalf("change after the interval: %v, gen %d", err, a.InstructionGen())
	}
	// Repeating the current instruction is no change and never refused.
	if err := say("stack the red block on the green block"); err != nil {
		t.Fatal(err)
	}
	var st Stats
	a.Stats(&st)
	if st.InstructionsRefused != 20 {
		t.Fatalf("refused %d", st.InstructionsRefused)
	}
}

// Bad calibration is refused on arrival (the previous one kept); an all-NaN
// depth frame is counted.
func TestCameraInfoAndDepthSanity(t *testing.T) {
	cfg := testConfig(1)
	clock := observetest.NewClock(time.Unix(40, 0))
	a, err := New(cfg, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	col, dep, info := camMsgs("c0", 8, clock.Now())
	if err := a.OnCameraInfo(0, info); err != nil {
		t.Fatal(err)
	}
	bad := *info
	bad.K, bad.P = [9]float64{}, [12]float64{}
	if err := a.OnCameraInfo(0, &bad); err == nil {
		t.Fatal("camera_info with a zero focal length accepted")
	}
	if a.infos[0].K != info.K {
		t.Fatal("the refused calibration replaced the good one")
	}
	nan := msgs.DepthImage{Width: 8, Height: 8, Meters: make([]float32, 64)}
	for i := range nan.Meters {
		nan.Meters[i] = float32(math.NaN())
	}
	d := &sensor_msgs.Image{Header: dep.Header}
	if err := rosconv.EncodeDepth(&nan, rosconv.Enc32FC1, d); err != nil {
		t.Fatal(err)
	}
	if err := a.OnColor(0, col); err != nil {
		t.Fatal(err)
	}
	if err := a.OnDepth(0, d); err != nil {
		t.Fatal(err)
	}
	var st Stats
	a.Stats(&st)
	if st.BadCameraInfos != 1 || st.EmptyDepth != 1 {
		t.Fatalf("bad infos %d, empty depth %d", st.BadCameraInfos, st.EmptyDepth)
	}
}
