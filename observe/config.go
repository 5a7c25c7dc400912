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
	// InputDeadline is how long after its last message a stream (the
	// synchronized cameras, the end-effector pose) counts as stalled in
	// Health. It defaults to MaxInputAge.
	InputDeadline time.Duration
	// PoseGate rejects implausible end-effector poses (a peer publishing a
	// pose 100 m away). Its zero value accepts every finite pose.
	PoseGate PoseGate
	// InstructionMinInterval rate-limits instruction changes: a change
	// within this long of the last accepted one is refused (each change
	// voids the robot's plan, so spam would freeze it). 0 accepts all.
	InstructionMinInterval time.Duration
}

// PoseGate bounds plausible end-effector poses: inside the box [Min, Max]
// (base frame, metres; a zero box is unbounded) and moving no faster than
// MaxSpeed (m/s, 0 unbounded) from the last accepted pose, by stamp.
type PoseGate struct {
	Min, Max [3]float64
	MaxSpeed float64
}

// check explains why p is implausible after the last accepted pose (at
// stamp prevT, have false when none).
func (g PoseGate) check(p [3]float64, t time.Time, prev [3]float64, prevT time.Time, have bool) error {
	if g.Min != g.Max {
		for k := range 3 {
			if p[k] < g.Min[k] || p[k] > g.Max[k] {
				return fmt.Errorf("position %v outside the plausible box %v..%v", p, g.Min, g.Max)
			}
		}
	}
	if g.MaxSpeed > 0 && have {
		d := math.Sqrt((p[0]-prev[0])*(p[0]-prev[0]) + (p[1]-prev[1])*(p[1]-prev[1]) + (p[2]-prev[2])*(p[2]-prev[2]))
		dt := t.Sub(prevT).Seconds()
		// Stamps may coincide (unstamped) or jitter: allow 20 ms of slack.
		if limit := g.MaxSpeed * math.Max(math.Abs(dt), 0.02); d > limit {
			return fmt.Errorf("position jumped %.3f m in %.3f s (max %.2f m/s)", d, dt, g.MaxSpeed)
		}
	}
	return nil
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
	if c.InputDeadline == 0 {
		c.InputDeadline = c.MaxInputAge
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
	if c.MaxInputAge < 0 || c.InputDeadline < 0 {
		bad("max input age %v and input deadline %v must be positive", c.MaxInputAge, c.InputDeadline)
	}
	if g := c.PoseGate; g.MaxSpeed < 0 || (g.Min != g.Max && !(g.Min[0] < g.Max[0] && g.Min[1] < g.Max[1] && g.Min[2] < g.Max[2])) {
		bad("pose gate %+v: min < max on every axis and max speed >= 0 required", g)
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
