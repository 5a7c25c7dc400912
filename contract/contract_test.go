package contract

import (
	"fmt"
	"math"
	"testing"
)

func TestCameraTopics(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ColorTopic("wrist"), "/wrist/color/image_raw"},
		{ColorInfoTopic("wrist"), "/wrist/color/camera_info"},
		{DepthTopic("wrist"), "/wrist/depth/image_raw"},
		{DepthInfoTopic("wrist"), "/wrist/depth/camera_info"},
		{LabelsTopic("wrist"), "/wrist/labels/image_raw"},
		{OpticalFrame("wrist"), "wrist_color_optical_frame"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	c := DefaultCamera("front")
	if c.ColorTopic != ColorTopic("front") || c.DepthTopic != DepthTopic("front") || c.InfoTopic != ColorInfoTopic("front") || c.LabelsTopic != LabelsTopic("front") {
		t.Errorf("DefaultCamera = %+v", c)
	}
}

func TestCameraOfColorTopic(t *testing.T) {
	for _, tc := range []struct {
		topic string
		cam   string
		ok    bool
	}{
		{"/front/color/image_raw", "front", true},
		{ColorTopic("side"), "side", true},
		{"/a/b/color/image_raw", "", false},
		{"front/color/image_raw", "", false},
		{"//color/image_raw", "", false},
		{"/front/depth/image_raw", "", false},
	} {
		c, ok := CameraOfColorTopic(tc.topic)
		if c != tc.cam || ok != tc.ok {
			t.Errorf("%q: got %q %v, want %q %v", tc.topic, c, ok, tc.cam, tc.ok)
		}
	}
}

func TestDefaultTopicsComplete(t *testing.T) {
	if err := DefaultTopics().RequireInputs(); err != nil {
		t.Fatal(err)
	}
	var empty Topics
	if err := empty.RequireInputs(); err == nil {
		t.Fatal("empty topics accepted")
	}
}

func TestGripper(t *testing.T) {
	g := DefaultGripper()
	for _, tc := range []struct {
		pos, want float64
	}{{0, 0}, {0.02, 0.5}, {0.04, 1}, {0.05, 1}, {-0.01, 0}} {
		if got := g.FromJoint(tc.pos); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("FromJoint(%v) = %v, want %v", tc.pos, got, tc.want)
		}
	}
	if !math.IsNaN(g.FromJoint(math.NaN())) {
		t.Error("NaN joint position must stay NaN")
	}
	for _, tc := range []struct {
		g         Gripper
		pos       float64
		seen      bool
		prev, out float64
	}{
		{g, 0.04, true, 0.2, 1},           // joint seen: the joint
		{g, 0.04, false, 0.2, 0.2},        // joint not seen yet: the previous command
		{Gripper{}, 0.04, true, 0.7, 0.7}, // no joint configured: the previous command
	} {
		if got := tc.g.Observe(tc.pos, tc.seen, tc.prev); got != tc.out {
			t.Errorf("%+v Observe(%v,%v,%v) = %v, want %v", tc.g, tc.pos, tc.seen, tc.prev, got, tc.out)
		}
	}
	if err := (Gripper{Joint: "j", Open: 1, Closed: 1}).Validate(); err == nil {
		t.Error("equal open/closed accepted")
	}
	if err := (Gripper{}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestEnums(t *testing.T) {
	if a, err := ParseActionSpace(""); err != nil || a != ActionEEDelta {
		t.Errorf("empty action space = %q, %v", a, err)
	}
	if _, err := ParseActionSpace("cartesian"); err == nil {
		t.Error("unknown action space accepted")
	}
	if o, err := ParseOutputMode("joint"); err != nil || o.ActionSpace() != ActionJoint {
		t.Errorf("joint output = %q, %v", o, err)
	}
	if _, err := ParseOutputMode("torque"); err == nil {
		t.Error("unknown output accepted")
	}
	if m, err := ParseExecutionMode("replan"); err != nil || m != ExecReplan {
		t.Errorf("replan = %q, %v", m, err)
	}
	if _, err := ParseExecutionMode(""); err == nil {
		t.Error("empty execution mode accepted")
	}
	if a, err := ParseChunkAnchor("measured"); err != nil || a != AnchorMeasured {
		t.Errorf("measured = %q, %v", a, err)
	}
	if _, err := ParseChunkAnchor("target"); err == nil {
		t.Error("unknown chunk anchor accepted")
	}
}

func TestLabels(t *testing.T) {
	if IsObjectLabel(LabelBackground) || IsObjectLabel(LabelRobot) || !IsObjectLabel(LabelFirstObject) || !IsObjectLabel(9) {
		t.Error("IsObjectLabel")
	}
}

func ExampleColorTopic() {
	for _, c := range []string{"front", "wrist"} {
		fmt.Println(ColorTopic(c), DepthTopic(c), ColorInfoTopic(c))
	}
	// Output:
	// /front/color/image_raw /front/depth/image_raw /front/color/camera_info
	// /wrist/color/image_raw /wrist/depth/image_raw /wrist/color/camera_info
}

func TestGripperCommand(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0, 0}, {0.42, 0}, {0.4999, 0}, {0.5, 1}, {0.9, 1}, {1, 1}, {-1, 0}, {math.NaN(), 0}} {
		if got := GripperCommand(tc.in); got != tc.want {
			t.Errorf("GripperCommand(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
