package contract

import "fmt"

// ActionSpace is what a model's actions mean (policy.Spec.ActionSpace).
type ActionSpace string

// Action spaces.
const (
	// ActionEEDelta: per step, the end-effector delta (dx, dy, dz, droll,
	// dpitch, dyaw) in the base frame and a gripper command; see
	// perception.ApplyDelta for how a delta moves a pose.
	ActionEEDelta ActionSpace = "ee_delta"
	// ActionJoint: per step, absolute joint positions.
	ActionJoint ActionSpace = "joint"
)

// ParseActionSpace reads an action space; "" is ActionEEDelta (older sidecars).
func ParseActionSpace(s string) (ActionSpace, error) {
	switch ActionSpace(s) {
	case "", ActionEEDelta:
		return ActionEEDelta, nil
	case ActionJoint:
		return ActionJoint, nil
	}
	return "", fmt.Errorf("action space %q: want %s or %s", s, ActionEEDelta, ActionJoint)
}

// OutputMode is what the node publishes.
type OutputMode string

// Output modes.
const (
	// OutputEE: geometry_msgs/PoseStamped target + std_msgs/Float64 gripper.
	OutputEE OutputMode = "ee"
	// OutputJoint: trajectory_msgs/JointTrajectory with one point.
	OutputJoint OutputMode = "joint"
)

// ParseOutputMode reads an output mode.
func ParseOutputMode(s string) (OutputMode, error) {
	switch OutputMode(s) {
	case OutputEE, OutputJoint:
		return OutputMode(s), nil
	}
	return "", fmt.Errorf("output %q: want %s or %s", s, OutputEE, OutputJoint)
}

// ActionSpace is the model action space this output needs.
func (o OutputMode) ActionSpace() ActionSpace {
	if o == OutputJoint {
		return ActionJoint
	}
	return ActionEEDelta
}

// ExecutionMode is how the node turns action chunks into commands.
type ExecutionMode string

// Execution modes.
const (
	// ExecEnsemble: ACT temporal ensembling over every chunk covering now,
	// weights w_i = exp(-m i), i = 0 the oldest chunk.
	ExecEnsemble ExecutionMode = "ensemble"
	// ExecReplan: follow the newest chunk and infer every k steps.
	ExecReplan ExecutionMode = "replan"
)

// ParseExecutionMode reads an execution mode.
func ParseExecutionMode(s string) (ExecutionMode, error) {
	switch ExecutionMode(s) {
	case ExecEnsemble, ExecReplan:
		return ExecutionMode(s), nil
	}
	return "", fmt.Errorf("execution mode %q: want %s or %s", s, ExecEnsemble, ExecReplan)
}

// ChunkAnchor is the pose an end-effector delta chunk is integrated from.
type ChunkAnchor string

// Chunk anchors.
const (
	// AnchorCommand: the target commanded when the chunk's observation was
	// taken, as the simulator applies each recorded delta to its target
	// (which the measured pose lags by the tracking error).
	AnchorCommand ChunkAnchor = "command"
	// AnchorMeasured: the observation's measured end-effector pose, for
	// actions derived from measured poses.
	AnchorMeasured ChunkAnchor = "measured"
)

// ParseChunkAnchor reads a chunk anchor.
func ParseChunkAnchor(s string) (ChunkAnchor, error) {
	switch ChunkAnchor(s) {
	case AnchorCommand, AnchorMeasured:
		return ChunkAnchor(s), nil
	}
	return "", fmt.Errorf("chunk anchor %q: want %s or %s", s, AnchorCommand, AnchorMeasured)
}
