package observe

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/observe/observetest"
)

// snapshotAt feeds one camera's frames at the given offsets from t0 after
// setup (moving tf, EE poses) and returns the snapshot of the newest set.
func snapshotAt(t *testing.T, cfg Config, t0 time.Time, frames []time.Duration, setup func(in *Assembler)) (msgs.Observation, Fault, error) {
	return snapshotAtCmd(t, cfg, t0, frames, setup, 0)
}

// snapshotAtCmd is snapshotAt with the previous gripper command given.
func snapshotAtCmd(t *testing.T, cfg Config, t0 time.Time, frames []time.Duration, setup func(in *Assembler), prevCmd float64) (msgs.Observation, Fault, error) {
	t.Helper()
	clock := observetest.NewClock(t0)
	in, err := New(cfg, clock.Now)
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
	_, ok, fault, err := in.Snapshot(&obs, prevCmd)
	if !ok {
		t.Fatal("no synchronized set")
	}
	return obs, fault, err
}

func TestSnapshotTFAtImageStamp(t *testing.T) {
	t0 := time.Unix(3000, 0)
	cfg := testConfig(1)
	moving := func(in *Assembler, at time.Duration, x float64, q [4]float64) {
		e := rosconv.StampedTransform{Stamp: t0.Add(at), Parent: cfg.BaseFrame, Child: "c0_optical",
			Transform: msgs.Transform{Translation: [3]float64{x, 0, 1}, Rotation: q}}
		m := rosconv.TFToROS([]rosconv.StampedTransform{e})
		if err := in.OnTF(&m, false); err != nil {
			t.Fatal(err)
		}
	}
	pose := func(in *Assembler, at time.Duration, x float64) {
		m := rosconv.PoseStampedToROS(msgs.Pose{Position: [3]float64{x, 0, 0.3}, Orientation: qID}, t0.Add(at), cfg.BaseFrame)
		if err := in.OnPose(&m); err != nil {
			t.Fatal(err)
		}
	}
	// Image at 50 ms between tf samples at 0 and 100 ms: x halfway, yaw 45°.
	obs, fault, err := snapshotAt(t, cfg, t0, []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}, func(in *Assembler) {
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
	_, fault, err = snapshotAt(t, strict, t0, []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}, func(in *Assembler) {
		moving(in, 0, 0.5, qID)
		pose(in, 0, 0.1)
	})
	if fault&FaultNoTF == 0 || !errors.Is(err, ErrExtrapolation) {
		t.Errorf("extrapolated tf: fault %v err %v", fault, err)
	}
	strict.Cameras = append([]Camera(nil), strict.Cameras...)
	strict.Cameras[0].Extrinsic = &StaticTransform{Translation: [3]float64{9, 9, 9}, Rotation: qID}
	obs, fault, err = snapshotAt(t, strict, t0, []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}, func(in *Assembler) {
		moving(in, 0, 0.5, qID)
		pose(in, 0, 0.1)
	})
	if fault != 0 || err != nil || obs.Cameras[0].BaseFromCamera.Translation != [3]float64{9, 9, 9} {
		t.Errorf("extrinsic fallback: fault %v err %v %+v", fault, err, obs.Cameras[0].BaseFromCamera)
	}
}

func TestSnapshotWaitsForLateTF(t *testing.T) {
	t0 := time.Unix(4000, 0)
	cfg := testConfig(1)
	clock := observetest.NewClock(t0)
	in, err := New(cfg, clock.Now)
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
	m := rosconv.PoseStampedToROS(msgs.Pose{Orientation: qID}, t0.Add(100*time.Millisecond), cfg.BaseFrame)
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
	if _, ok, f, err := in.Snapshot(&obs, 0); ok {
		t.Fatalf("snapshot taken while /tf lags: fault %v err %v", f, err)
	}
	clock.Advance(5 * time.Millisecond)
	moving(200*time.Millisecond, 2) // brackets the image: x = 1 at 100 ms
	select {
	case <-in.Ready():
	default:
		t.Fatal("the late /tf did not wake the worker")
	}
	_, ok, f, err := in.Snapshot(&obs, 0)
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
	if _, ok, _, _ := in.Snapshot(&obs, 0); ok {
		t.Fatal("snapshot taken while /tf lags by 100 ms")
	}
	clock.Advance(cfg.TF.Wait.Duration + time.Millisecond)
	if _, ok, f, err := in.Snapshot(&obs, 0); !ok || f&FaultNoTF == 0 || !errors.Is(err, ErrExtrapolation) {
		t.Errorf("after tf.wait: ok %v fault %v err %v", ok, f, err)
	}
}

// The gripper rule (contract.Gripper.Observe): the measured closure when
// the gripper joint has been seen near the image stamp, else the previous
// command passed to Snapshot (what training reads from recordings without
// joint states).
func TestSnapshotGripperSource(t *testing.T) {
	t0 := time.Unix(3000, 0)
	setup := func(cfg Config, joint bool) func(in *Assembler) {
		return func(in *Assembler) {
			m := rosconv.PoseStampedToROS(msgs.Pose{Position: [3]float64{0.1, 0, 0.3}, Orientation: qID}, t0, cfg.BaseFrame)
			if err := in.OnPose(&m); err != nil {
				t.Fatal(err)
			}
			if joint {
				js := &sensor_msgs.JointState{Header: std_msgs.Header{Stamp: t0}, Name: []string{"finger_left"}, Position: []float64{0.01}}
				if err := in.OnJointState(js); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, tc := range []struct {
		name  string
		joint string
		seen  bool
		want  float64
	}{
		{"no gripper joint", "", true, 0.75},
		{"joint configured, not seen", "finger_left", false, 0.75},
		{"joint seen", "finger_left", true, 0.25},
	} {
		cfg := testConfig(1)
		cfg.Gripper = contract.Gripper{Joint: tc.joint, Open: 0, Closed: 0.04}
		obs, _, _ := snapshotAtCmd(t, cfg, t0, []time.Duration{0}, setup(cfg, tc.seen), 0.75)
		if math.Abs(obs.Gripper-tc.want) > 1e-12 {
			t.Errorf("%s: observed gripper %v, want %v", tc.name, obs.Gripper, tc.want)
		}
	}
}
