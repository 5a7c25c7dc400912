package rosio

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"

	"github.com/vla3d/vla3d/msgs"
)

func TestObservationMessages(t *testing.T) {
	tp := DefaultTopics()
	cam := msgs.CameraFrame{
		Name:           "front",
		Color:          msgs.RGBImage{Width: 2, Height: 1, Pix: []uint8{1, 2, 3, 4, 5, 6}},
		Depth:          msgs.DepthImage{Width: 2, Height: 1, Meters: []float32{0.5, float32(math.NaN())}},
		Labels:         msgs.LabelImage{Width: 2, Height: 1, IDs: []uint16{0, 3}},
		Info:           msgs.CameraInfo{FrameID: "front_color_optical_frame", Width: 2, Height: 1, K: [9]float64{1, 0, 0.5, 0, 1, 0, 0, 0, 1}},
		BaseFromCamera: msgs.Transform{Translation: [3]float64{1, 2, 3}, Rotation: [4]float64{0, 0, 0, 1}},
	}
	wrist := cam
	wrist.Name, wrist.Info.FrameID = "wrist", "wrist_color_optical_frame"
	obs := &msgs.Observation{Cameras: []msgs.CameraFrame{cam, wrist}, EEPose: msgs.Pose{Orientation: [4]float64{0, 0, 0, 1}}, JointPositions: []float64{0.01, 0.02}}
	static := map[string]bool{"front": true}
	stamp := time.Unix(10, 0)
	ms, err := tp.ObservationMsgs(obs, []string{"a", "b"}, static, stamp)
	if err != nil {
		t.Fatal(err)
	}
	topics := map[string]any{}
	for _, m := range ms {
		topics[m.Topic] = m.Msg
	}
	if len(ms) != 2*5+3 {
		t.Fatalf("%d messages", len(ms))
	}
	depth := topics["/front/depth/image_raw"].(*sensor_msgs.Image)
	if depth.Encoding != "32FC1" || depth.Header.FrameId != "front_color_optical_frame" || !depth.Header.Stamp.Equal(stamp) {
		t.Errorf("depth header %+v", depth.Header)
	}
	tf := topics["/tf"].(*tf2_msgs.TFMessage)
	if len(tf.Transforms) != 2 || tf.Transforms[0].ChildFrameId != "wrist_color_optical_frame" || tf.Transforms[1].ChildFrameId != "ee_link" {
		t.Errorf("dynamic tf %+v", tf.Transforms)
	}
	st := tp.StaticTFMsg(obs, static, stamp)
	if got := st.Msg.(*tf2_msgs.TFMessage); !st.Latch || len(got.Transforms) != 1 || got.Transforms[0].Transform.Translation.Y != 2 {
		t.Errorf("static tf %+v", st)
	}
	js := topics["/joint_states"].(*sensor_msgs.JointState)
	if !reflect.DeepEqual(js.Name, []string{"a", "b"}) || js.Position[1] != 0.02 {
		t.Errorf("joint states %+v", js)
	}
	am, err := tp.ExpertActionMsg([]float32{1, 2, 3, 4, 5, 6, 7})
	if err != nil || am.Msg.(*std_msgs.Float32MultiArray).Layout.Dim[0].Label != "dx,dy,dz,droll,dpitch,dyaw,gripper" {
		t.Errorf("action %+v %v", am, err)
	}
	if _, err := tp.ExpertActionMsg([]float32{1}); err == nil {
		t.Error("short action accepted")
	}
}

func TestPoseCommand(t *testing.T) {
	tp := DefaultTopics()
	ok := geometry_msgs.PoseStamped{Pose: geometry_msgs.Pose{Position: geometry_msgs.Point{X: 0.5}, Orientation: geometry_msgs.Quaternion{W: 1}}}
	ok.Header.FrameId = "base_link"
	if p, err := tp.PoseCommand(&ok); err != nil || p.Position[0] != 0.5 {
		t.Fatalf("%v %v", p, err)
	}
	bad := []geometry_msgs.PoseStamped{ok, ok, ok}
	bad[0].Header.FrameId = "map"
	bad[1].Pose.Position.Y = math.NaN()
	bad[2].Pose.Orientation.W = 0
	for i, b := range bad {
		if _, err := tp.PoseCommand(&b); err == nil {
			t.Errorf("bad command %d accepted", i)
		}
	}
}

func FuzzPoseCommand(f *testing.F) {
	f.Add("base_link", 0.5, 0.0, 0.2, 0.0, 0.0, 0.0, 1.0)
	f.Add("", math.NaN(), 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
	f.Add("odom", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	tp := DefaultTopics()
	f.Fuzz(func(t *testing.T, frame string, x, y, z, qx, qy, qz, qw float64) {
		m := geometry_msgs.PoseStamped{Pose: geometry_msgs.Pose{
			Position:    geometry_msgs.Point{X: x, Y: y, Z: z},
			Orientation: geometry_msgs.Quaternion{X: qx, Y: qy, Z: qz, W: qw},
		}}
		m.Header.FrameId = frame
		p, err := tp.PoseCommand(&m)
		if err != nil {
			return
		}
		for _, v := range append(p.Position[:], p.Orientation[:]...) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("accepted non-finite pose %+v", p)
			}
		}
		if frame != "" && frame != tp.BaseFrame {
			t.Fatalf("accepted frame %q", frame)
		}
	})
}

// BenchmarkObservationMsgs224 measures converting one 3-camera 224x224
// observation (colour, depth, labels, infos, tf, pose, joints) to ROS messages.
func BenchmarkObservationMsgs224(b *testing.B) {
	const w, h = 224, 224
	var cams []msgs.CameraFrame
	for _, name := range []string{"front", "side", "wrist"} {
		cams = append(cams, msgs.CameraFrame{
			Name:   name,
			Color:  msgs.RGBImage{Width: w, Height: h, Pix: make([]uint8, 3*w*h)},
			Depth:  msgs.DepthImage{Width: w, Height: h, Meters: make([]float32, w*h)},
			Labels: msgs.LabelImage{Width: w, Height: h, IDs: make([]uint16, w*h)},
			Info:   msgs.CameraInfo{FrameID: name + "_color_optical_frame", Width: w, Height: h},
		})
	}
	obs := &msgs.Observation{Cameras: cams, EEPose: msgs.Pose{Orientation: [4]float64{0, 0, 0, 1}}, JointPositions: []float64{0, 0}}
	tp := DefaultTopics()
	static := map[string]bool{"front": true, "side": true}
	names := []string{"finger_left", "finger_right"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := tp.ObservationMsgs(obs, names, static, time.Unix(1, 0)); err != nil {
			b.Fatal(err)
		}
	}
}
