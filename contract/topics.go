package contract

import (
	"errors"
	"fmt"
	"strings"
)

// Frame names of the data contract.
const (
	// BaseFrame is the robot base frame: the frame of /ee_pose, commands and
	// every 3D point the policy sees.
	BaseFrame = "base_link"
	// EEFrame is the end-effector (TCP) frame published on /tf.
	EEFrame = "ee_link"
)

// OpticalFrame is camera c's colour optical frame (REP 103: z forward, x
// right, y down), the frame_id of its images and camera_info.
func OpticalFrame(c string) string { return c + "_color_optical_frame" }

// Topics names every non-camera topic of the data contract. Camera topics
// follow from the camera name (see [ColorTopic]). The zero value of a field
// means "not used" where a consumer allows that (e.g. no recorded action).
type Topics struct {
	TF             string `yaml:"tf"`              // tf2_msgs/TFMessage
	TFStatic       string `yaml:"tf_static"`       // tf2_msgs/TFMessage, latched
	EEPose         string `yaml:"ee_pose"`         // geometry_msgs/PoseStamped in the base frame
	JointStates    string `yaml:"joint_states"`    // sensor_msgs/JointState
	Instruction    string `yaml:"instruction"`     // std_msgs/String, latched
	CommandPose    string `yaml:"command_pose"`    // geometry_msgs/PoseStamped target
	CommandGripper string `yaml:"command_gripper"` // std_msgs/Float64, 0 open .. 1 closed
	CommandJoints  string `yaml:"command_joints"`  // trajectory_msgs/JointTrajectory
	Chunk          string `yaml:"chunk"`           // std_msgs/Float32MultiArray, the action chunk
	Diagnostics    string `yaml:"diagnostics"`     // diagnostic_msgs/DiagnosticArray
	// Recording-only topics (the simulator's demonstrations).
	ExpertAction string `yaml:"expert_action"` // std_msgs/Float32MultiArray, one EE delta action
	Episode      string `yaml:"episode"`       // std_msgs/String, JSON episode marker
	Objects      string `yaml:"objects"`       // std_msgs/String, latched JSON scene objects
	ObjectPoses  string `yaml:"object_poses"`  // geometry_msgs/PoseArray, privileged poses (never a policy input)
}

// DefaultTopics returns the data contract's topic names (DESIGN.md).
func DefaultTopics() Topics {
	return Topics{
		TF:             "/tf",
		TFStatic:       "/tf_static",
		EEPose:         "/ee_pose",
		JointStates:    "/joint_states",
		Instruction:    "/instruction",
		CommandPose:    "/vla3d/command_pose",
		CommandGripper: "/vla3d/command_gripper",
		CommandJoints:  "/vla3d/command_joints",
		Chunk:          "/vla3d/action_chunk",
		Diagnostics:    "/diagnostics",
		ExpertAction:   "/vla3d/expert_action",
		Episode:        "/vla3d/episode",
		Objects:        "/vla3d/objects",
		ObjectPoses:    "/vla3d/object_poses",
	}
}

// RequireInputs reports the empty input topics a live node needs.
func (t Topics) RequireInputs() error {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"tf", t.TF}, {"tf_static", t.TFStatic}, {"ee_pose", t.EEPose}, {"joint_states", t.JointStates},
		{"instruction", t.Instruction}, {"chunk", t.Chunk}, {"diagnostics", t.Diagnostics},
	} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("topics.%s is empty", f.name))
		}
	}
	return errors.Join(errs...)
}

// Camera topic suffixes of the data contract (/<c><suffix>).
const (
	colorSuffix     = "/color/image_raw"
	colorInfoSuffix = "/color/camera_info"
	depthSuffix     = "/depth/image_raw"
	depthInfoSuffix = "/depth/camera_info"
	labelsSuffix    = "/labels/image_raw"
)

// ColorTopic is camera c's colour image topic (sensor_msgs/Image).
func ColorTopic(c string) string { return "/" + c + colorSuffix }

// ColorInfoTopic is camera c's calibration topic (sensor_msgs/CameraInfo).
func ColorInfoTopic(c string) string { return "/" + c + colorInfoSuffix }

// DepthTopic is camera c's depth image topic, registered to colour (16UC1
// millimetres or 32FC1 metres).
func DepthTopic(c string) string { return "/" + c + depthSuffix }

// DepthInfoTopic is camera c's depth calibration topic (the same as colour's:
// the depth is registered).
func DepthInfoTopic(c string) string { return "/" + c + depthInfoSuffix }

// LabelsTopic is camera c's instance-segmentation topic (mono16 ids, see
// [LabelBackground]), the pseudo ground truth of the instance module.
func LabelsTopic(c string) string { return "/" + c + labelsSuffix }

// CameraOfColorTopic returns c for a topic /<c>/color/image_raw (c a single
// name segment), or false.
func CameraOfColorTopic(topic string) (string, bool) {
	if !strings.HasPrefix(topic, "/") || !strings.HasSuffix(topic, colorSuffix) {
		return "", false
	}
	c := strings.TrimSuffix(strings.TrimPrefix(topic, "/"), colorSuffix)
	if c == "" || strings.Contains(c, "/") {
		return "", false
	}
	return c, true
}

// CameraTopics names one camera's input topics.
type CameraTopics struct {
	Name       string `yaml:"name"`
	ColorTopic string `yaml:"color_topic"`
	DepthTopic string `yaml:"depth_topic"`
	InfoTopic  string `yaml:"info_topic"`
	// LabelsTopic carries instance labels in recordings (training only).
	LabelsTopic string `yaml:"labels_topic,omitempty"`
}

// DefaultCamera returns the contract's topics of camera c.
func DefaultCamera(c string) CameraTopics {
	return CameraTopics{Name: c, ColorTopic: ColorTopic(c), DepthTopic: DepthTopic(c), InfoTopic: ColorInfoTopic(c),
		LabelsTopic: LabelsTopic(c)}
}

// DefaultCameras returns DefaultCamera of every name.
func DefaultCameras(names ...string) []CameraTopics {
	out := make([]CameraTopics, len(names))
	for i, n := range names {
		out[i] = DefaultCamera(n)
	}
	return out
}
