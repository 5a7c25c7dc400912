package rosio

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/sim"
)

// Message is one message to publish or record.
type Message struct {
	Topic string
	Msg   any // pointer to a goroslib message struct
	Latch bool
}

// ObservationMsgs converts obs into its messages: per camera colour (rgb8),
// depth, both camera_infos and labels (when present); the end-effector
// pose; joint states; and the moving tf edges (base -> EE, and base ->
// optical frame of each camera not in static). Everything is stamped stamp.
func (t Topics) ObservationMsgs(obs *msgs.Observation, jointNames []string, static map[string]bool, stamp time.Time) ([]Message, error) {
	if obs == nil {
		return nil, errors.New("rosio: nil observation")
	}
	var out []Message
	var edges []rosconv.StampedTransform
	for i := range obs.Cameras {
		c := &obs.Cameras[i]
		color := &sensor_msgs.Image{Header: rosconv.Header(stamp, c.Info.FrameID)}
		if err := rosconv.EncodeColor(&c.Color, rosconv.EncRGB8, color); err != nil {
			return nil, fmt.Errorf("rosio: camera %s colour: %w", c.Name, err)
		}
		depth := &sensor_msgs.Image{Header: rosconv.Header(stamp, c.Info.FrameID)}
		if err := rosconv.EncodeDepth(&c.Depth, t.Depth, depth); err != nil {
			return nil, fmt.Errorf("rosio: camera %s depth: %w", c.Name, err)
		}
		info := &sensor_msgs.CameraInfo{}
		rosconv.CameraInfoToROS(&c.Info, stamp, info)
		dinfo := *info
		out = append(out,
			Message{Topic: contract.ColorTopic(c.Name), Msg: color},
			Message{Topic: contract.ColorInfoTopic(c.Name), Msg: info},
			Message{Topic: contract.DepthTopic(c.Name), Msg: depth},
			Message{Topic: contract.DepthInfoTopic(c.Name), Msg: &dinfo},
		)
		if len(c.Labels.IDs) > 0 {
			lab := &sensor_msgs.Image{Header: rosconv.Header(stamp, c.Info.FrameID)}
			if err := rosconv.EncodeLabels(&c.Labels, lab); err != nil {
				return nil, fmt.Errorf("rosio: camera %s: %w", c.Name, err)
			}
			out = append(out, Message{Topic: contract.LabelsTopic(c.Name), Msg: lab})
		}
		if !static[c.Name] {
			edges = append(edges, rosconv.StampedTransform{Stamp: stamp, Parent: t.BaseFrame, Child: c.Info.FrameID, Transform: c.BaseFromCamera})
		}
	}
	pose := rosconv.PoseStampedToROS(obs.EEPose, stamp, t.BaseFrame)
	edges = append(edges, rosconv.StampedTransform{Stamp: stamp, Parent: t.BaseFrame, Child: t.EEFrame,
		Transform: msgs.Transform{Translation: obs.EEPose.Position, Rotation: obs.EEPose.Orientation}})
	js := &sensor_msgs.JointState{}
	rosconv.JointStateToROS(jointNames, obs.JointPositions, stamp, js)
	tf := rosconv.TFToROS(edges)
	out = append(out,
		Message{Topic: t.EEPose, Msg: &pose},
		Message{Topic: t.JointStates, Msg: js},
		Message{Topic: t.TF, Msg: &tf},
	)
	return out, nil
}

// StaticTFMsg is the latched /tf_static message for the cameras in static.
func (t Topics) StaticTFMsg(obs *msgs.Observation, static map[string]bool, stamp time.Time) Message {
	var edges []rosconv.StampedTransform
	for _, c := range obs.Cameras {
		if static[c.Name] {
			edges = append(edges, rosconv.StampedTransform{Stamp: stamp, Parent: t.BaseFrame, Child: c.Info.FrameID, Transform: c.BaseFromCamera})
		}
	}
	tf := rosconv.TFToROS(edges)
	return Message{Topic: t.TFStatic, Msg: &tf, Latch: true}
}

// InstructionMsg is the latched instruction message.
func (t Topics) InstructionMsg(text string) Message {
	return Message{Topic: t.Instruction, Msg: &std_msgs.String{Data: text}, Latch: true}
}

// ActionLayoutLabel names the expert action's components (msgs action
// layout); it is the label of the Float32MultiArray's single dimension.
const ActionLayoutLabel = "dx,dy,dz,droll,dpitch,dyaw,gripper"

// ExpertActionMsg wraps one end-effector delta action; the layout's single
// dimension is labelled ActionLayoutLabel.
func (t Topics) ExpertActionMsg(a []float32) (Message, error) {
	if len(a) != msgs.EEActionDim {
		return Message{}, fmt.Errorf("rosio: action has %d values, want %d", len(a), msgs.EEActionDim)
	}
	m := &std_msgs.Float32MultiArray{
		Layout: std_msgs.MultiArrayLayout{Dim: []std_msgs.MultiArrayDimension{{Label: ActionLayoutLabel, Size: uint32(len(a)), Stride: uint32(len(a))}}},
		Data:   append([]float32(nil), a...),
	}
	return Message{Topic: t.ExpertAction, Msg: m}, nil
}

// EpisodeEvent is the JSON body of an episode marker.
type EpisodeEvent struct {
	Event       string  `json:"event"` // "start" or "end"
	Episode     int     `json:"episode"`
	Task        string  `json:"task"`
	Split       string  `json:"split"`
	Severity    float64 `json:"severity"`
	Seed        uint64  `json:"seed"`
	Instruction string  `json:"instruction"`
	Success     *bool   `json:"success,omitempty"`
	Steps       int     `json:"steps,omitempty"`
}

// EpisodeMsg is an episode marker message.
func (t Topics) EpisodeMsg(ev EpisodeEvent) (Message, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return Message{}, fmt.Errorf("rosio: episode marker: %w", err)
	}
	return Message{Topic: t.Episode, Msg: &std_msgs.String{Data: string(b)}}, nil
}

// PoseCommand converts a received PoseStamped command into a base-frame
// position and quaternion (x, y, z, w), refusing other frames and
// non-finite values.
func (t Topics) PoseCommand(m *geometry_msgs.PoseStamped) (msgs.Pose, error) {
	if m.Header.FrameId != "" && m.Header.FrameId != t.BaseFrame {
		return msgs.Pose{}, fmt.Errorf("rosio: pose command in frame %q, want %q", m.Header.FrameId, t.BaseFrame)
	}
	p, err := rosconv.PoseFromROS(&m.Pose)
	if err != nil {
		return msgs.Pose{}, fmt.Errorf("rosio: pose command: %w", err)
	}
	q := p.Orientation
	if n := q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3]; n < 1e-12 {
		return msgs.Pose{}, errors.New("rosio: pose command has a zero quaternion")
	}
	return p, nil
}

// ObjectInfo describes one scene object in the latched objects message.
type ObjectInfo struct {
	Name  string     `json:"name"`
	Label uint16     `json:"label"` // id in the label images
	Shape string     `json:"shape"` // "box", "cylinder" or "bowl"
	Size  [3]float64 `json:"size"`  // half extents (box), radius/-/half height (cylinder), radius/-/wall height (bowl)
}

// ObjectsMsg is the latched list of scene objects; ObjectPosesMsg poses come
// in the same order.
func (t Topics) ObjectsMsg(objs []ObjectInfo) (Message, error) {
	b, err := json.Marshal(objs)
	if err != nil {
		return Message{}, fmt.Errorf("rosio: objects: %w", err)
	}
	return Message{Topic: t.Objects, Msg: &std_msgs.String{Data: string(b)}, Latch: true}, nil
}

// ObjectPosesMsg carries the privileged object poses (base frame), for
// evaluating 3D predictions against ground truth.
func (t Topics) ObjectPosesMsg(poses []msgs.Pose, stamp time.Time) Message {
	m := &geometry_msgs.PoseArray{Header: rosconv.Header(stamp, t.BaseFrame), Poses: make([]geometry_msgs.Pose, len(poses))}
	for i, p := range poses {
		m.Poses[i] = rosconv.PoseToROS(p)
	}
	return Message{Topic: t.ObjectPoses, Msg: m}
}

// SceneObjects lists a scene's objects for ObjectsMsg.
func SceneObjects(s *sim.Scene) []ObjectInfo {
	shapes := map[sim.Shape]string{sim.ShapeBox: "box", sim.ShapeCylinder: "cylinder", sim.ShapeBowl: "bowl"}
	out := make([]ObjectInfo, len(s.Objects))
	for i, o := range s.Objects {
		out[i] = ObjectInfo{Name: o.Name, Label: o.Label, Shape: shapes[o.Shape], Size: o.Size}
	}
	return out
}

// StatePoses returns the privileged object poses of st in scene order.
func StatePoses(st sim.State) []msgs.Pose {
	out := make([]msgs.Pose, len(st.Objects))
	for i, o := range st.Objects {
		out[i] = msgs.Pose{Position: o.Pos, Orientation: o.Quat.Array()}
	}
	return out
}
