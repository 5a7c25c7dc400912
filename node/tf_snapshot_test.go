package node

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
)

// snapshotAt feeds one camera's frames at the given offsets from t0 after
// setup (moving tf, EE poses) and returns the snapshot of the newest set.
func snapshotAt(t *testing.T, cfg Config, t0 time.Time, frames []time.Duration, setup func(in *Inputs)) (msgs.Observation, Fault, error) {
	t.Helper()
	clock := &fakeClock{now: t0}
	in, err := NewInputs(&cfg, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	setup(in)
	for k, d := range frames {
		col, dep, info := camMsgs("c0", 16, t0.Add(d))
		if k == 0 {
			in.OnCameraInfo(0, info)
		}
		if err := in.OnColor(0, col); err != nil {
			t.Fatal(err)
		}
		if err := in.OnDepth(0, dep); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(100 * time.Millisecond)
	var obs msgs.Observation
	_, ok, fault, err := in.Snapshot(&obs)
	if !ok {
		t.Fatal("no synchronized set")
	}
	return obs, fault, err
}

func TestSnapshotTFAtImageStamp(t *testing.T) {
	t0 := time.Unix(3000, 0)
	cfg := testConfig(1)
	moving := func(in *Inputs, at time.Duration, x float64, q [4]float64) {
		e := rosconv.StampedTransform{Stamp: t0.Add(at), Parent: cfg.BaseFrame, Child: "c0_optical",
			Transform: msgs.Transform{Translation: [3]float64{x, 0, 1}, Rotation: q}}
		m := rosconv.TFToROS([]rosconv.StampedTransform{e})
		if err := in.OnTF(&m, false); err != nil {
			t.Fatal(err)
		}
	}
	pose := func(in *Inputs, at time.Duration, x float64) {
		m := rosconv.PoseStampedToROS(msgs.Pose{Position: [3]float64{x, 0, 0.3}, Orientation: qID}, t0.Add(at), cfg.BaseFrame)
		if err := in.OnPose(&m); err != nil {
			t.Fatal(err)
		}
	}
	// Image at 50 ms between tf samples at 0 and 100 ms: x halfway, yaw 45°.
	obs, fault, err := snapshotAt(t, cfg, t0, []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}, func(in *Inputs) {
		moving(in, 0, 0.5, qID)
		moving(in, 100*time.Millisecond, 0.7, qRz90)
		for k, x := range []float64{0.1, 0.2, 0.3} {
			pose(in, time.Duration(k)*40*time.Millisecond, x) // 0, 40, 80 ms
		}
	})
	if err != nil || fault != 0 {
		t.Fatalf("fault %v: %v", fault, err)
	}
	if got := obs.Cameras[0].Stamp.Sub(t0); got != 50*time.Millisecond {
		t.Fatalf("snapshot of the image at %v, want the newest set (50 ms)", got)
	}
	bfc := obs.Cameras[0].BaseFromCamera
	if !near3(bfc.Translation, [3]float64{0.6, 0, 1}, 1e-9) || !quatNear(bfc.Rotation, rz(45), 1e-9) {
		t.Errorf("base_from_camera at the image stamp %+v, want (0.6, 0, 1) yaw 45°", bfc)
	}
	// The EE pose nearest the 50 ms image is the 40 ms one, not the latest.
	if x := obs.EEPose.Position[0]; math.Abs(x-0.2) > 1e-12 {
		t.Errorf("ee pose x %v, want 0.2 (stamp 40 ms)", x)
	}

	// The moving edge ends at 0 ms: the 50 ms image is beyond the 20 ms
	// tolerance → no tf, unless a configured extrinsic stands in.
	strict := cfg
	strict.TF.ExtrapolationTolerance.Duration = 20 * time.Millisecond
	strict.TF.Wait.Duration = 0
	_, fault, err = snapshotAt(t, strict, t0, []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}, func(in *Inputs) {
		moving(in, 0, 0.5, qID)
		pose(in, 0, 0.1)
	})
	if fault&FaultNoTF == 0 || !errors.Is(err, ErrExtrapolation) {
		t.Errorf("extrapolated tf: fault %v err %v", fault, err)
	}
	strict.Cameras = append([]CameraConfig(nil), strict.Cameras...)
	strict.Cameras[0].Extrinsic = &StaticTransform{Translation: [3]float64{9, 9, 9}, Rotation: qID}
	obs, fault, err = snapshotAt(t, strict, t0, []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}, func(in *Inputs) {
		moving(in, 0, 0.5, qID)
		pose(in, 0, 0.1)
	})
	if fault != 0 || err != nil || obs.Cameras[0].BaseFromCamera.Translation != [3]float64{9, 9, 9} {
		t.Errorf("extrinsic fallback: fault %v err %v %+v", fault, err, obs.Cameras[0].BaseFromCamera)
	}
}

func TestPoseHistoryClosest(t *testing.T) {
	var h poseHistory
	if _, _, ok := h.closest(time.Unix(1, 0)); ok {
		t.Error("empty history answered")
	}
	p := func(x float64) msgs.Pose { return msgs.Pose{Position: [3]float64{x}} }
	for i := range poseHistoryLen + 5 { // wraps: stamps 5 .. 36 s remain
		h.add(time.Unix(int64(i), 0), p(float64(i)))
	}
	for _, tc := range []struct {
		at   time.Duration
		want float64
		d    time.Duration
	}{
		{10 * time.Second, 10, 0},
		{10*time.Second + 400*time.Millisecond, 10, 400 * time.Millisecond},
		{10*time.Second + 500*time.Millisecond, 11, 500 * time.Millisecond}, // tie → newer
		{0, 5, 5 * time.Second}, // overwritten samples are gone
		{100 * time.Second, 36, 64 * time.Second},
	} {
		got, d, ok := h.closest(time.Unix(0, 0).Add(tc.at))
		if !ok || got.Position[0] != tc.want || d != tc.d {
			t.Errorf("closest(%v) = %v, %v; want %v, %v", tc.at, got.Position[0], d, tc.want, tc.d)
		}
	}
	// Unstamped poses (all zero): the newest wins.
	var u poseHistory
	for i := range 3 {
		u.add(time.Time{}, p(float64(i)))
	}
	if got, _, _ := u.closest(time.Unix(50, 0)); got.Position[0] != 2 {
		t.Errorf("unstamped: %v, want the newest", got.Position[0])
	}
}

// A set whose moving tf has not reached its image stamp waits for it (tf2_ros
// MessageFilter) instead of failing, and OnTF wakes the worker.
func TestSnapshotWaitsForLateTF(t *testing.T) {
	t0 := time.Unix(4000, 0)
	cfg := testConfig(1)
	clock := &fakeClock{now: t0}
	in, err := NewInputs(&cfg, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	moving := func(at time.Duration, x float64) {
		t.Helper()
		e := rosconv.StampedTransform{Stamp: t0.Add(at), Parent: cfg.BaseFrame, Child: "c0_optical",
			Transform: msgs.Transform{Translation: [3]float64{x, 0, 1}, Rotation: qID}}
		m := rosconv.TFToROS([]rosconv.StampedTransform{e})
		if err := in.OnTF(&m, false); err != nil {
			t.Fatal(err)
		}
	}
	m := rosconv.PoseStampedToROS(msgs.Pose{Orientation: qID}, t0, cfg.BaseFrame)
	if err := in.OnPose(&m); err != nil {
		t.Fatal(err)
	}
	moving(0, 0)
	// Image at 100 ms; /tf so far only at 0 ms (100 ms behind, tolerance 50 ms).
	col, dep, info := camMsgs("c0", 16, t0.Add(100*time.Millisecond))
	in.OnCameraInfo(0, info)
	clock.Advance(100 * time.Millisecond)
	if err := errors.Join(in.OnColor(0, col), in.OnDepth(0, dep)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in.Ready():
	default:
		t.Fatal("no synchronized set")
	}
	var obs msgs.Observation
	if _, ok, f, err := in.Snapshot(&obs); ok {
		t.Fatalf("snapshot taken while /tf lags: fault %v err %v", f, err)
	}
	clock.Advance(5 * time.Millisecond)
	moving(200*time.Millisecond, 2) // brackets the image: x = 1 at 100 ms
	select {
	case <-in.Ready():
	default:
		t.Fatal("the late /tf did not wake the worker")
	}
	_, ok, f, err := in.Snapshot(&obs)
	if !ok || f != 0 || err != nil {
		t.Fatalf("after /tf caught up: ok %v fault %v err %v", ok, f, err)
	}
	if x := obs.Cameras[0].BaseFromCamera.Translation[0]; math.Abs(x-1) > 1e-9 {
		t.Errorf("x %v, want 1 (interpolated at the image stamp)", x)
	}

	// Once the set is older than tf.wait it fails instead of waiting on.
	col, dep, _ = camMsgs("c0", 16, t0.Add(300*time.Millisecond))
	if err := errors.Join(in.OnColor(0, col), in.OnDepth(0, dep)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _, _ := in.Snapshot(&obs); ok {
		t.Fatal("snapshot taken while /tf lags by 100 ms")
	}
	clock.Advance(cfg.TF.Wait.Duration + time.Millisecond)
	if _, ok, f, err := in.Snapshot(&obs); !ok || f&FaultNoTF == 0 || !errors.Is(err, ErrExtrapolation) {
		t.Errorf("after tf.wait: ok %v fault %v err %v", ok, f, err)
	}
}

// Without a gripper joint the observed gripper is the last commanded one
// (what training reads from recordings without joint states); with one it
// is the measured closure.
func TestSnapshotGripperSource(t *testing.T) {
	t0 := time.Unix(3000, 0)
	pose := func(cfg Config) func(in *Inputs) {
		return func(in *Inputs) {
			m := rosconv.PoseStampedToROS(msgs.Pose{Position: [3]float64{0.1, 0, 0.3}, Orientation: qID}, t0, cfg.BaseFrame)
			if err := in.OnPose(&m); err != nil {
				t.Fatal(err)
			}
			in.SetCommandedGripper(0.75)
		}
	}
	cfg := testConfig(1)
	cfg.Execution.GripperJoint = ""
	obs, _, _ := snapshotAt(t, cfg, t0, []time.Duration{0}, pose(cfg))
	if obs.Gripper != 0.75 {
		t.Errorf("no gripper joint: observed gripper %v, want the commanded 0.75", obs.Gripper)
	}
	cfg.Execution.GripperJoint = "finger_left"
	obs, _, _ = snapshotAt(t, cfg, t0, []time.Duration{0}, pose(cfg))
	if obs.Gripper != 0 {
		t.Errorf("gripper joint configured but not yet seen: observed %v, want 0", obs.Gripper)
	}
}
