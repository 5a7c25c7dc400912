package dataset

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/observe"
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

// Config names the topics and tunes episode assembly. Observations are made
// by the node's own assembler (package observe) with the same rules, so
// DefaultConfig matches the node's defaults; a robot's remapped topics are
// set here exactly as in its node configuration.
type Config struct {
	// Cameras are the synchronized cameras, in the model's camera order;
	// empty means every camera found in the recording on the contract's
	// topics (/<c>/color/image_raw etc.), sorted by name.
	Cameras   []observe.Camera
	BaseFrame string
	// Topics names the recording's topics: the robot-state inputs as the
	// node's, plus ExpertAction (std_msgs/Float32MultiArray of
	// msgs.EEActionDim values; empty or absent: actions are derived from the
	// next end-effector pose) and Episode (the JSON or free-text marker).
	Topics contract.Topics
	// Gripper maps the gripper joint to the observed gripper state; when the
	// joint is not configured or not in a recording the previous step's
	// gripper command stands in (contract.Gripper.Observe).
	Gripper contract.Gripper

	Split SplitMode
	Gap   time.Duration // episode break for SplitGap / SplitAuto

	Sync timesync.Config
	// TF is the tf buffer's configuration (zero: observe.DefaultTFConfig).
	TF observe.TFConfig
	// PoseTolerance is how far the end-effector pose may be stamped from the
	// images (zero: observe.DefaultPoseTolerance); beyond it a step is
	// dropped (DropNoPose).
	PoseTolerance      time.Duration
	DepthMin, DepthMax float32 // metres; outside is invalid (NaN)
	// Labels reads /<c>/labels/image_raw instance ids into the observation.
	Labels bool
	// ActionTolerance is how far before an observation's stamp a recorded
	// action may be stamped and still answer it.
	ActionTolerance time.Duration

	Logger *zap.Logger
}

// DefaultConfig returns the data contract's topic names and the node's
// defaults (node.DefaultConfig) for every observation rule.
func DefaultConfig() Config {
	return Config{
		BaseFrame:       contract.BaseFrame,
		Topics:          contract.DefaultTopics(),
		Gripper:         contract.DefaultGripper(),
		Split:           SplitAuto,
		Gap:             2 * time.Second,
		Sync:            timesync.Config{QueueSize: 5, MaxInterval: 50 * time.Millisecond, AgePenalty: 0.1},
		TF:              observe.DefaultTFConfig(),
		PoseTolerance:   observe.DefaultPoseTolerance,
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
		c.Sync.QueueSize = 5
	}
	if err := c.Gripper.Validate(); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	return nil
}

// observe is the assembler configuration for the given cameras.
func (c *Config) observe(cams []observe.Camera, labels bool) observe.Config {
	return observe.Config{
		BaseFrame:     c.BaseFrame,
		Cameras:       cams,
		Topics:        c.Topics,
		Sync:          c.Sync,
		TF:            c.TF,
		DepthMin:      c.DepthMin,
		DepthMax:      c.DepthMax,
		Gripper:       c.Gripper,
		PoseTolerance: c.PoseTolerance,
		Labels:        labels,
	}
}

// CameraNames returns the contract's camera configuration of each name.
func CameraNames(names ...string) []observe.Camera {
	out := make([]observe.Camera, len(names))
	for i, n := range names {
		out[i] = observe.DefaultCamera(n)
	}
	return out
}

// WithObservation returns c reading recordings the way an assembler
// configured by oc observes a robot (e.g. node.Config.Observe of the node's
// YAML): the same cameras, topics, base frame, sync, tf, depth validity,
// pose tolerance and gripper rule. Split options, the recorded action and
// the episode marker topics stay c's.
func (c Config) WithObservation(oc observe.Config) Config {
	c.Cameras = oc.Cameras
	action, marker := c.Topics.ExpertAction, c.Topics.Episode
	c.Topics = oc.Topics
	c.Topics.ExpertAction, c.Topics.Episode = action, marker
	c.BaseFrame, c.Sync, c.TF = oc.BaseFrame, oc.Sync, oc.TF
	c.DepthMin, c.DepthMax, c.PoseTolerance, c.Gripper = oc.DepthMin, oc.DepthMax, oc.PoseTolerance, oc.Gripper
	return c
}
