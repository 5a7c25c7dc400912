package observe

import (
	"fmt"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"
)

// Route is one input topic of the data contract: a fresh message of its
// type and the assembler handler that takes it. The same table serves the
// live node's subscriptions and bag replay.
type Route struct {
	Topic string
	// New returns a new zero message of the topic's type (a pointer).
	New func() any
	// Handle feeds a message made by New (it does not retain it).
	Handle func(msg any) error
}

func route[M any](topic string, h func(*M) error) Route {
	return Route{
		Topic: topic,
		New:   func() any { return new(M) },
		Handle: func(msg any) error {
			m, ok := msg.(*M)
			if !ok {
				return fmt.Errorf("observe: %s: message is %T, want %T", topic, msg, m)
			}
			return h(m)
		},
	}
}

// Routes returns every input topic the assembler takes, in a fixed order
// (per camera colour, depth, [labels,] camera_info; then tf, tf_static,
// ee_pose, joint_states, instruction). Topics left empty in the
// configuration are not routed.
func (a *Assembler) Routes() []Route {
	var out []Route
	add := func(r Route) {
		if r.Topic != "" {
			out = append(out, r)
		}
	}
	for c, cam := range a.cfg.Cameras {
		add(route(cam.ColorTopic, func(m *sensor_msgs.Image) error { return a.OnColor(c, m) }))
		add(route(cam.DepthTopic, func(m *sensor_msgs.Image) error { return a.OnDepth(c, m) }))
		if a.per == 3 {
			add(route(cam.LabelsTopic, func(m *sensor_msgs.Image) error { return a.OnLabels(c, m) }))
		}
		add(route(cam.InfoTopic, func(m *sensor_msgs.CameraInfo) error { return a.OnCameraInfo(c, m) }))
	}
	t := a.cfg.Topics
	add(route(t.TF, func(m *tf2_msgs.TFMessage) error { return a.OnTF(m, false) }))
	add(route(t.TFStatic, func(m *tf2_msgs.TFMessage) error { return a.OnTF(m, true) }))
	add(route(t.EEPose, a.OnPose))
	add(route(t.JointStates, a.OnJointState))
	add(route(t.Instruction, a.OnInstruction))
	return out
}
