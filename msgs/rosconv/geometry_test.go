package rosconv

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/trajectory_msgs"

	"github.com/vla3d/vla3d/msgs"
)

func TestPoseAndTransformRoundTrip(t *testing.T) {
	p := msgs.Pose{Position: [3]float64{0.1, -0.2, 0.3}, Orientation: [4]float64{0, 0, 0.7071068, 0.7071068}}
	ps := PoseStampedToROS(p, time.Unix(5, 0), "base")
	got, err := PoseFromROS(&ps.Pose)
	if err != nil || got != p || ps.Header.FrameId != "base" {
		t.Fatalf("pose round trip %v (%v), want %v", got, err, p)
	}
	bad := ps.Pose
	bad.Orientation.W = math.NaN()
	if _, err := PoseFromROS(&bad); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN pose: got %v, want ErrNonFinite", err)
	}
	edges := []StampedTransform{
		{Stamp: time.Unix(1, 0), Parent: "base", Child: "cam", Transform: msgs.Transform{Translation: [3]float64{1, 2, 3}, Rotation: [4]float64{0, 0, 0, 1}}},
		{Stamp: time.Unix(2, 0), Parent: "cam", Child: "cam_optical", Transform: msgs.Transform{Rotation: [4]float64{-0.5, 0.5, -0.5, 0.5}}},
	}
	tf := TFToROS(edges)
	tf.Transforms = append(tf.Transforms, geometry_msgs.TransformStamped{ChildFrameId: "x", Transform: geometry_msgs.Transform{Translation: geometry_msgs.Vector3{X: math.Inf(1)}}})
	back, err := TFFromROS(&tf, nil)
	if !errors.Is(err, ErrNonFinite) {
		t.Errorf("bad edge not reported: %v", err)
	}
	if len(back) != 2 || back[0] != edges[0] || back[1] != edges[1] {
		t.Errorf("tf round trip %+v, want %+v", back, edges)
	}
}

func TestCameraInfoRoundTrip(t *testing.T) {
	info := msgs.CameraInfo{FrameID: "cam_optical", Width: 224, Height: 224, DistortionModel: "plumb_bob",
		D: []float64{0.1, 0, 0, 0, 0}, K: [9]float64{200, 0, 112, 0, 200, 112, 0, 0, 1}, R: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1},
		P: [12]float64{200, 0, 112, 0, 0, 200, 112, 0, 0, 0, 1, 0}}
	var m sensor_msgs.CameraInfo
	CameraInfoToROS(&info, time.Unix(3, 0), &m)
	var back msgs.CameraInfo
	CameraInfoFromROS(&m, &back)
	if back.FrameID != info.FrameID || back.K != info.K || back.P != info.P || len(back.D) != 5 || back.Width != 224 {
		t.Fatalf("camera info round trip %+v", back)
	}
}

func TestJointPositions(t *testing.T) {
	js := &sensor_msgs.JointState{Name: []string{"b", "a", "c"}, Position: []float64{2, 1, 3}}
	dst := []float64{-1, -1, -1}
	n, err := JointPositions(js, []string{"a", "b", "z"}, dst)
	if err != nil || n != 2 || dst[0] != 1 || dst[1] != 2 || dst[2] != -1 {
		t.Fatalf("got %v n=%d err=%v", dst, n, err)
	}
	js.Position[0] = math.NaN()
	if _, err := JointPositions(js, []string{"b"}, dst[:1]); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN joint: %v", err)
	}
	if _, err := JointPositions(&sensor_msgs.JointState{Name: []string{"a"}}, []string{"a"}, dst[:1]); !errors.Is(err, ErrJoints) {
		t.Errorf("missing positions: %v", err)
	}
}

func TestChunkTrajectoryRoundTrip(t *testing.T) {
	c := msgs.ActionChunk{Stamp: time.Unix(7, 0), Period: 100 * time.Millisecond, Horizon: 3, Dim: 2, Values: []float32{1, 2, 3, 4, 5, 6}}
	var m trajectory_msgs.JointTrajectory
	if err := ChunkToJointTrajectory(&c, []string{"j1", "j2"}, "base", &m); err != nil {
		t.Fatal(err)
	}
	if m.Points[2].TimeFromStart != 200*time.Millisecond || m.Points[1].Positions[1] != 4 {
		t.Fatalf("trajectory %+v", m.Points)
	}
	if n := testing.AllocsPerRun(10, func() { _ = ChunkToJointTrajectory(&c, []string{"j1", "j2"}, "base", &m) }); n != 0 {
		t.Errorf("re-encoding a chunk allocates %v", n)
	}
	var back msgs.ActionChunk
	if err := ChunkFromJointTrajectory(&m, &back); err != nil {
		t.Fatal(err)
	}
	if back.Horizon != 3 || back.Dim != 2 || back.Period != c.Period || !back.Stamp.Equal(c.Stamp) || back.Values[5] != 6 {
		t.Fatalf("chunk round trip %+v", back)
	}
	if err := ChunkToJointTrajectory(&c, []string{"j1"}, "", &m); !errors.Is(err, ErrJoints) {
		t.Errorf("name count mismatch: %v", err)
	}
}
