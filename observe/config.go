package observe

import (
	"errors"
	"fmt"
	"math"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/timesync"
)

// Camera names one camera's topics and, optionally, a static extrinsic.
type Camera struct {
	contract.CameraTopics `yaml:",inline"`
	// OpticalFrame overrides camera_info's frame_id for the tf lookup.
	OpticalFrame string `yaml:"optical_frame"`
	// Extrinsic, when set, is base_from_optical and is used whenever tf has
	// no chain from the base frame to the optical frame.
	Extrinsic *StaticTransform `yaml:"extrinsic"`
}

// DefaultCamera is camera c on the data contract's topics.
func DefaultCamera(c string) Camera { return Camera{CameraTopics: contract.DefaultCamera(c)} }

// StaticTransform is a configured rigid transform (maps child into parent).
type StaticTransform struct {
	Translation [3]float64 `yaml:"translation"`
	Rotation    [4]float64 `yaml:"rotation"` // x, y, z, w
}

// Duration is a time.Duration that reads "50ms" or seconds as a number.
type Duration struct{ time.Duration }

// UnmarshalYAML accepts Go duration strings ("50ms") or numbers of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err == nil {
		if v, err := time.ParseDuration(s); err == nil {
			d.Duration = v
			return nil
		}
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		return fmt.Errorf("duration %q: want e.g. \"50ms\" or seconds", n.Value)
	}
	d.Duration = time.Duration(f * float64(time.Second))
	return nil
}

// MarshalYAML writes the Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Config configures an Assembler: which streams make an observation and the
// rules that pair them. The node builds it from its YAML (node.Config.Observe),
// the dataset from its own config (dataset.Config.Observe), so training,
// replay and the robot share every rule.
type Config struct {
	// BaseFrame is the frame of the end-effector pose and the extrinsics.
	// It defaults to contract.BaseFrame.
	BaseFrame string
	// Cameras are the synchronized cameras, in the model's camera order.
	// Required.
	Cameras []Camera
	// Topics names the robot-state topics (tf, tf_static, ee_pose,
	// joint_states, instruction). It defaults to contract.DefaultTopics().
	Topics contract.Topics
	// Sync parameterizes the camera synchronizer. It defaults to queue 5,
	// max interval 50 ms, age penalty 0.1.
	Sync timesync.Config
	// TF parameterizes the tf buffer. It defaults to DefaultTFConfig().
	TF TFConfig
	// DepthMin and DepthMax (m) bound valid depth; outside is NaN. They
	// default to 0.05 and 5.
	DepthMin, DepthMax float32
	// Gripper maps the gripper joint to the observed gripper state (the one
	// rule: contract.Gripper.Observe). Empty Joint: the observed gripper is
	// the previous command given to Snapshot.
	Gripper contract.Gripper
	// JointNames are picked out of joint_states into the observation.
	JointNames []string
	// Instruction is the instruction until one is received.
	Instruction string
	// MaxInputAge is the oldest a camera set, the pose or a moving camera
	// mount may be (by local receive time) to act on. It defaults to 500 ms.
	MaxInputAge time.Duration
	// PoseTolerance is the largest |stamp difference| between the images and
	// the end-effector pose (and the gripper joint) paired with them; beyond
	// it the pose is stale (FaultStalePose). It defaults to 100 ms; a
	// negative value pairs the newest pose whatever its stamp.
	PoseTolerance time.Duration
	// Labels adds each camera's LabelsTopic (instance ids, training only)
	// to the synchronized streams.
	Labels bool
	// HistoryLen is how many pose and gripper samples are kept for pairing.
	// It defaults to 128 (over a second of a 100 Hz publisher).
	HistoryLen int
}

// DefaultPoseTolerance is Config.PoseTolerance's default.
const DefaultPoseTolerance = 100 * time.Millisecond

func (c *Config) defaults() {
	if c.BaseFrame == "" {
		c.BaseFrame = contract.BaseFrame
	}
	if c.Topics == (contract.Topics{}) {
		c.Topics = contract.DefaultTopics()
	}
	if c.Sync.QueueSize == 0 {
		c.Sync = timesync.Config{QueueSize: 5, MaxInterval: 50 * time.Millisecond, AgePenalty: 0.1}
	}
	if c.TF == (TFConfig{}) {
		c.TF = DefaultTFConfig()
	}
	if c.DepthMin == 0 && c.DepthMax == 0 {
		c.DepthMin, c.DepthMax = 0.05, 5
	}
	if c.MaxInputAge == 0 {
		c.MaxInputAge = 500 * time.Millisecond
	}
	if c.PoseTolerance == 0 {
		c.PoseTolerance = DefaultPoseTolerance
	}
	if c.HistoryLen == 0 {
		c.HistoryLen = 128
	}
}

// validate reports every problem at once.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Cameras) == 0 {
		bad("no cameras configured")
	}
	for i, cam := range c.Cameras {
		if cam.Name == "" || cam.ColorTopic == "" || cam.DepthTopic == "" || cam.InfoTopic == "" {
			bad("camera %d: name and color/depth/info topics are required", i)
		}
		if c.Labels && cam.LabelsTopic == "" {
			bad("camera %s: labels requested but no labels topic", cam.Name)
		}
		if e := cam.Extrinsic; e != nil {
			q := e.Rotation
			if n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3]); !(n > 1e-6) || math.IsInf(n, 0) {
				bad("camera %s: extrinsic rotation %v is not a quaternion", cam.Name, q)
			}
		}
	}
	if !(c.DepthMin >= 0 && c.DepthMax > c.DepthMin) {
		bad("depth range [%v, %v] invalid", c.DepthMin, c.DepthMax)
	}
	if c.Sync.QueueSize < 1 || c.Sync.AgePenalty < 0 || c.Sync.MaxInterval < 0 {
		bad("sync: queue_size >= 1, age_penalty >= 0, max_interval >= 0 required")
	}
	if err := c.TF.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Gripper.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxInputAge < 0 {
		bad("max input age %v must be positive", c.MaxInputAge)
	}
	if len(errs) > 0 {
		return fmt.Errorf("observe: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// inputsPerCamera is how many synchronized streams each camera has.
func (c *Config) inputsPerCamera() int {
	if c.Labels {
		return 3
	}
	return 2
}
