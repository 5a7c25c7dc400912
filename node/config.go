package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/observe"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/timesync"
	"github.com/vla3d/vla3d/transport"
)

// CameraConfig names one camera's topics and, optionally, a static
// extrinsic (the assembler's camera configuration).
type CameraConfig = observe.Camera

// StaticTransform is a configured rigid transform (maps child into parent).
type StaticTransform = observe.StaticTransform

// Topics names every non-camera topic the node uses (the data contract's).
type Topics = contract.Topics

// Duration is a time.Duration that reads "50ms" or seconds as a number.
type Duration = observe.Duration

// TFConfig parameterizes the tf buffer (tf2 BufferCore semantics).
type TFConfig = observe.TFConfig

// DefaultTFConfig is tf2's 10 s cache, a 50 ms extrapolation tolerance and a
// 200 ms wait for late /tf.
func DefaultTFConfig() TFConfig { return observe.DefaultTFConfig() }

// SyncConfig parameterizes the camera synchronizer (ROS ApproximateTime).
type SyncConfig struct {
	QueueSize   int      `yaml:"queue_size"`
	MaxInterval Duration `yaml:"max_interval"`
	AgePenalty  float64  `yaml:"age_penalty"`
	// PoseTolerance is the largest stamp difference between the images and
	// the end-effector pose (and gripper joint) paired with them; a larger
	// gap holds the robot (stale_pose). Negative: pair the newest pose
	// whatever its stamp (publishers on unsynchronized clocks).
	PoseTolerance Duration `yaml:"pose_tolerance"`
}

// SafetyConfig bounds what the node may command.
type SafetyConfig struct {
	// MaxInputAge is the oldest a synchronized camera set or the EE pose may
	// be (by local receive time) for the node to act on it.
	MaxInputAge Duration `yaml:"max_input_age"`
	// WorkspaceMin/Max bound commanded EE positions in the base frame (m).
	WorkspaceMin [3]float64 `yaml:"workspace_min"`
	WorkspaceMax [3]float64 `yaml:"workspace_max"`
	// MaxLinearSpeed (m/s) and MaxAngularSpeed (rad/s) bound the change of
	// the commanded target between ticks; MaxJointSpeed (rad/s) in joint mode.
	MaxLinearSpeed  float64 `yaml:"max_linear_speed"`
	MaxAngularSpeed float64 `yaml:"max_angular_speed"`
	MaxJointSpeed   float64 `yaml:"max_joint_speed"`
	// InputDeadline is how long after its last message the camera set or
	// the EE pose counts as stalled: the node then holds at the last
	// commanded pose (never extrapolating the stored chunk past it).
	InputDeadline Duration `yaml:"input_deadline"`
	// PoseMargin widens the workspace box into the plausible-pose box, and
	// MaxPoseSpeed (m/s) bounds how fast the measured EE pose may move: a
	// pose outside either is refused and holds the robot.
	PoseMargin   float64 `yaml:"pose_margin"`
	MaxPoseSpeed float64 `yaml:"max_pose_speed"`
	// InstructionMinInterval rate-limits instruction changes (each voids the
	// plan); changes sooner than this after the last are refused and logged.
	InstructionMinInterval Duration `yaml:"instruction_min_interval"`
}

// ExecutionConfig selects how action chunks become commands.
type ExecutionConfig struct {
	// Mode is "ensemble" (ACT temporal ensembling, w_i = exp(-m i), i = 0 the
	// oldest chunk) or "replan" (follow the newest chunk, infer every k steps).
	Mode          contract.ExecutionMode `yaml:"mode"`
	EnsembleDecay float64                `yaml:"ensemble_decay"` // m
	ReplanEvery   int                    `yaml:"replan_every"`   // k
	// Output is "ee" (PoseStamped target + Float64 gripper) or "joint"
	// (trajectory_msgs/JointTrajectory with one point).
	Output contract.OutputMode `yaml:"output"`
	// JointNames label joint commands and pick joints out of /joint_states.
	JointNames []string `yaml:"joint_names"`
	// Gripper is the gripper joint in /joint_states and its open/closed
	// positions (keys gripper_joint, gripper_open, gripper_closed); the
	// observed gripper follows contract.Gripper.Observe.
	Gripper contract.Gripper `yaml:",inline"`
	// (optional) Anchor is what an end-effector delta chunk is integrated
	// from: "command" (the target in force when the observation was
	// synchronized, as the simulator executes recorded actions) or
	// "measured" (the observed EE pose, for actions derived from measured
	// poses). It defaults to "command".
	Anchor contract.ChunkAnchor `yaml:"anchor"`
	// (optional) AnchorMaxGap is the largest distance in metres between the
	// anchoring command and the measured pose at which "command" holds;
	// past it (a reset, a collision, a teleoperated move) chunks anchor at
	// the measured pose. It defaults to 0.05.
	AnchorMaxGap float64 `yaml:"anchor_max_gap"`
}

// Config is the node's full configuration (YAML; see launch/vla3d_node.yaml).
type Config struct {
	NodeName string `yaml:"node_name"`
	// Transport is ros2 (DDS; the default) or ros1 (a ROS master).
	Transport transport.Kind `yaml:"transport"`
	// ROS2 are the ROS 2 settings (domain, localhost-only, QoS overrides).
	ROS2      transport.ROS2Settings `yaml:"ros2"`
	MasterURI string                 `yaml:"master_uri"` // ROS 1; "" = $ROS_MASTER_URI
	Host      string                 `yaml:"host"`       // ROS 1; "" = $ROS_IP / $ROS_HOSTNAME / auto
	BaseFrame string                 `yaml:"base_frame"`
	ControlHz float64                `yaml:"control_hz"`
	Model     string                 `yaml:"model"` // path to model.onnx (sidecar model.json next to it)
	Providers []string               `yaml:"providers"`
	Threads   int                    `yaml:"threads"`
	Resize    string                 `yaml:"resize"` // "bilinear" or "area"
	// ParallelPreprocess preprocesses the cameras concurrently (one worker
	// goroutine each): lower latency on multi-core robot computers.
	ParallelPreprocess bool            `yaml:"parallel_preprocess"`
	DepthMin           float32         `yaml:"depth_min"`
	DepthMax           float32         `yaml:"depth_max"`
	Cameras            []CameraConfig  `yaml:"cameras"`
	Topics             Topics          `yaml:"topics"`
	Sync               SyncConfig      `yaml:"sync"`
	TF                 TFConfig        `yaml:"tf"`
	Safety             SafetyConfig    `yaml:"safety"`
	Execution          ExecutionConfig `yaml:"execution"`
	Markers            MarkersConfig   `yaml:"markers"`
	Instruction        string          `yaml:"instruction"` // used until /instruction publishes one
}

// DefaultConfig is the data contract of DESIGN.md with one camera "front".
func DefaultConfig() Config {
	return Config{
		NodeName:           "vla3d_node",
		Transport:          transport.ROS2,
		ROS2:               transport.DefaultROS2Settings(),
		BaseFrame:          contract.BaseFrame,
		ControlHz:          10,
		Threads:            1,
		Resize:             "bilinear",
		ParallelPreprocess: true,
		DepthMin:           0.05,
		DepthMax:           5,
		Cameras:            []CameraConfig{CameraTopics("front")},
		Topics:             contract.DefaultTopics(),
		Sync: SyncConfig{QueueSize: 5, MaxInterval: Duration{Duration: 50 * time.Millisecond}, AgePenalty: 0.1,
			PoseTolerance: Duration{Duration: observe.DefaultPoseTolerance}},
		TF: DefaultTFConfig(),
		Safety: SafetyConfig{
			MaxInputAge:  Duration{Duration: 500 * time.Millisecond},
			WorkspaceMin: [3]float64{-1, -1, -0.1}, WorkspaceMax: [3]float64{1, 1, 1.5},
			// The scripted expert demonstrates up to 0.3 m/s (3 cm a step at
			// 10 Hz); a limit below it would slow every trained policy.
			MaxLinearSpeed: 0.35, MaxAngularSpeed: 1.0, MaxJointSpeed: 1.0,
			InputDeadline: Duration{Duration: 200 * time.Millisecond},
			PoseMargin:    0.25, MaxPoseSpeed: 2.0,
			InstructionMinInterval: Duration{Duration: time.Second},
		},
		// Replan every 4 steps: the Baseline + anchors policy behind the
		// bundled model puts the block in the bowl on 45/50 held-out layouts
		// this way, 43/50 on whole chunks and 0/50 under ACT's ensembling,
		// whose average over chunks made at different phases of the task
		// never opens the gripper (README, Chunk execution).
		Execution: ExecutionConfig{Mode: contract.ExecReplan, EnsembleDecay: 0.01, ReplanEvery: 4, Output: contract.OutputEE,
			Gripper: contract.DefaultGripper(), Anchor: contract.AnchorCommand, AnchorMaxGap: 0.05},
		Markers: DefaultMarkersConfig(),
	}
}

// CameraTopics returns the data contract's topics of camera c.
func CameraTopics(c string) CameraConfig { return observe.DefaultCamera(c) }

// Observe is the observation assembler's configuration: the node's
// cameras, topics, sync, tf, depth validity, gripper and staleness rules.
func (c *Config) Observe() observe.Config {
	return observe.Config{
		BaseFrame: c.BaseFrame,
		Cameras:   c.Cameras,
		Topics:    c.Topics,
		Sync: timesync.Config{QueueSize: c.Sync.QueueSize, MaxInterval: c.Sync.MaxInterval.Duration,
			AgePenalty: c.Sync.AgePenalty},
		TF:                     c.TF,
		DepthMin:               c.DepthMin,
		DepthMax:               c.DepthMax,
		Gripper:                c.Execution.Gripper,
		JointNames:             c.Execution.JointNames,
		Instruction:            c.Instruction,
		MaxInputAge:            c.Safety.MaxInputAge.Duration,
		PoseTolerance:          c.Sync.PoseTolerance.Duration,
		InputDeadline:          c.Safety.InputDeadline.Duration,
		PoseGate:               c.Safety.poseGate(),
		InstructionMinInterval: c.Safety.InstructionMinInterval.Duration,
	}
}

// poseGate is the plausible-pose box (the workspace widened by PoseMargin)
// and speed.
func (s SafetyConfig) poseGate() observe.PoseGate {
	g := observe.PoseGate{MaxSpeed: s.MaxPoseSpeed}
	if s.PoseMargin >= 0 {
		for k := range 3 {
			g.Min[k], g.Max[k] = s.WorkspaceMin[k]-s.PoseMargin, s.WorkspaceMax[k]+s.PoseMargin
		}
	}
	return g
}

// LoadConfig reads a YAML file over DefaultConfig (absent keys keep defaults).
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return DefaultConfig(), fmt.Errorf("node: config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes YAML over DefaultConfig and validates the result.
// Unknown keys are errors (a typo must not silently keep a default).
func ParseConfig(b []byte) (Config, error) {
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("node: config: %w", err)
	}
	return c, c.Validate()
}

// ControlPeriod is the control loop's tick period.
func (c *Config) ControlPeriod() time.Duration {
	return time.Duration(float64(time.Second) / c.ControlHz)
}

// Validate reports every configuration problem at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.NodeName == "" {
		bad("node_name is empty")
	}
	if k, err := transport.ParseKind(string(c.Transport)); err != nil {
		bad("%v", err)
	} else {
		c.Transport = k
	}
	if err := c.ROS2.Validate(); err != nil {
		bad("%v", err)
	}
	if c.BaseFrame == "" {
		bad("base_frame is empty")
	}
	if !(c.ControlHz > 0 && c.ControlHz <= 1000) {
		bad("control_hz %v must be in (0, 1000]", c.ControlHz)
	}
	if _, ok := preprocess.ParseResizeMode(c.Resize); !ok {
		bad("resize %q: want bilinear or area", c.Resize)
	}
	if !(c.DepthMin >= 0 && c.DepthMax > c.DepthMin) {
		bad("depth range [%v, %v] invalid", c.DepthMin, c.DepthMax)
	}
	if len(c.Cameras) == 0 {
		bad("no cameras configured")
	}
	seen := map[string]bool{}
	for i, cam := range c.Cameras {
		if cam.Name == "" || cam.ColorTopic == "" || cam.DepthTopic == "" || cam.InfoTopic == "" {
			bad("camera %d: name and color/depth/info topics are required", i)
		}
		for _, t := range []string{cam.ColorTopic, cam.DepthTopic, cam.InfoTopic} {
			if t != "" && seen[t] {
				bad("topic %s used twice", t)
			}
			seen[t] = true
		}
		if e := cam.Extrinsic; e != nil {
			q := e.Rotation
			if n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3]); !(n > 1e-6) || math.IsInf(n, 0) {
				bad("camera %s: extrinsic rotation %v is not a quaternion", cam.Name, q)
			}
		}
	}
	t := c.Topics
	if err := t.RequireInputs(); err != nil {
		errs = append(errs, err)
	}
	if c.Sync.QueueSize < 1 || c.Sync.AgePenalty < 0 || c.Sync.MaxInterval.Duration < 0 {
		bad("sync: queue_size >= 1, age_penalty >= 0, max_interval >= 0 required")
	}
	if err := c.TF.Validate(); err != nil {
		errs = append(errs, err)
	}
	s := c.Safety
	if s.MaxInputAge.Duration <= 0 {
		bad("safety.max_input_age must be positive")
	}
	for k := range 3 {
		if !(s.WorkspaceMin[k] < s.WorkspaceMax[k]) {
			bad("safety workspace axis %d: min %v >= max %v", k, s.WorkspaceMin[k], s.WorkspaceMax[k])
		}
	}
	if !(s.MaxLinearSpeed > 0) || !(s.MaxAngularSpeed > 0) || !(s.MaxJointSpeed > 0) {
		bad("safety speeds must be positive")
	}
	if s.InputDeadline.Duration <= 0 || s.InstructionMinInterval.Duration < 0 || !(s.MaxPoseSpeed >= 0) {
		bad("safety.input_deadline must be positive, instruction_min_interval and max_pose_speed >= 0")
	}
	e := c.Execution
	switch e.Mode {
	case contract.ExecEnsemble:
		if !(e.EnsembleDecay >= 0) {
			bad("execution.ensemble_decay must be >= 0")
		}
	case contract.ExecReplan:
		if e.ReplanEvery < 1 {
			bad("execution.replan_every must be >= 1")
		}
	default:
		bad("execution.mode %q: want ensemble or replan", e.Mode)
	}
	switch e.Output {
	case contract.OutputEE:
		if t.CommandPose == "" || t.CommandGripper == "" {
			bad("ee output needs topics.command_pose and topics.command_gripper")
		}
	case contract.OutputJoint:
		if t.CommandJoints == "" || len(e.JointNames) == 0 {
			bad("joint output needs topics.command_joints and execution.joint_names")
		}
	default:
		bad("execution.output %q: want ee or joint", e.Output)
	}
	if err := e.Gripper.Validate(); err != nil {
		bad("execution: %w", err)
	}
	if _, err := contract.ParseChunkAnchor(string(e.Anchor)); err != nil {
		bad("execution: %w", err)
	}
	if !(e.AnchorMaxGap > 0) {
		bad("execution.anchor_max_gap %v: want > 0 m", e.AnchorMaxGap)
	}
	if m := c.Markers; m.Enabled && (m.Topic == "" || !(m.MinConfidence >= 0 && m.MinConfidence <= 1) || m.Lifetime.Duration < 0) {
		bad("markers: topic required, min_confidence in [0, 1], lifetime >= 0")
	}
	if len(errs) > 0 {
		return fmt.Errorf("node: invalid config: %w", errors.Join(errs...))
	}
	return nil
}
