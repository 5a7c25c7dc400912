package dataset

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/timesync"
)

// SplitMode chooses how a recording is cut into episodes.
type SplitMode string

// Split modes.
const (
	SplitAuto   SplitMode = "auto"   // marker if the marker topic has messages, else gap
	SplitFile   SplitMode = "file"   // one episode per recording
	SplitMarker SplitMode = "marker" // by the episode marker topic
	SplitGap    SplitMode = "gap"    // wherever the first camera pauses longer than Gap
)

// Config names the topics and tunes episode assembly. DefaultConfig follows
// the data contract in DESIGN.md.
type Config struct {
	// Cameras are the camera names <c> of /<c>/color/image_raw etc.; empty
	// means every camera found in the recording, sorted by name.
	Cameras     []string
	BaseFrame   string
	EEPose      string
	Instruction string
	Action      string // std_msgs/Float32MultiArray of msgs.EEActionDim values
	Episode     string // std_msgs/String marker (JSON {"event":"start"|"end",...} or free text)
	TF          string
	TFStatic    string
	JointStates string
	// GripperJoint, when set, gives the observed gripper closure from
	// joint_states, mapped from [GripperOpen, GripperClosed] to [0, 1].
	// Otherwise the observed gripper is the previous step's commanded one.
	GripperJoint               string
	GripperOpen, GripperClosed float64

	Split SplitMode
	Gap   time.Duration // episode break for SplitGap / SplitAuto

	Sync               timesync.Config
	DepthMin, DepthMax float32 // metres; outside is invalid (NaN)
	// Labels reads /<c>/labels/image_raw instance ids into the observation.
	Labels bool
	// ActionTolerance is how far before an observation's stamp a recorded
	// action may be stamped and still answer it.
	ActionTolerance time.Duration

	Logger *zap.Logger
}

// DefaultConfig returns the data contract's topic names and the node's sync
// defaults.
func DefaultConfig() Config {
	return Config{
		BaseFrame:   "base_link",
		EEPose:      "/ee_pose",
		Instruction: "/instruction",
		Action:      "/vla3d/expert_action",
		Episode:     "/vla3d/episode",
		TF:          "/tf",
		TFStatic:    "/tf_static",
		JointStates: "/joint_states",
		GripperOpen: 0, GripperClosed: 1,
		Split:           SplitAuto,
		Gap:             2 * time.Second,
		Sync:            timesync.Config{QueueSize: 10, MaxInterval: 50 * time.Millisecond, AgePenalty: 0.1},
		DepthMin:        0.05,
		DepthMax:        5,
		ActionTolerance: 5 * time.Millisecond,
	}
}

func (c *Config) check() error {
	switch c.Split {
	case SplitAuto, SplitFile, SplitMarker, SplitGap:
	case "":
		c.Split = SplitAuto
	default:
		return fmt.Errorf("dataset: unknown split mode %q (auto, file, marker, gap)", c.Split)
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Sync.QueueSize < 1 {
		c.Sync.QueueSize = 10
	}
	if c.GripperJoint != "" && c.GripperClosed == c.GripperOpen {
		return fmt.Errorf("dataset: gripper joint %q has equal open and closed positions", c.GripperJoint)
	}
	return nil
}

// Camera topic names of the data contract.
func colorTopic(c string) string  { return "/" + c + "/color/image_raw" }
func depthTopic(c string) string  { return "/" + c + "/depth/image_raw" }
func infoTopic(c string) string   { return "/" + c + "/color/camera_info" }
func labelsTopic(c string) string { return "/" + c + "/labels/image_raw" }
