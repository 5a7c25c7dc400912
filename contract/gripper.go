package contract

import (
	"fmt"
	"math"
)

// Gripper maps a gripper joint's position to the policy's gripper state,
// 0 (open) .. 1 (closed), and is the one rule for what the policy observes
// as its gripper: the mapped joint when the joint has been seen, otherwise
// the previous gripper command (recordings and robots without a gripper
// joint). Training, replay, the live node and the simulator all use it.
type Gripper struct {
	// Joint is the sensor_msgs/JointState name of the gripper joint. Empty:
	// the observed gripper is always the previous command.
	Joint string `yaml:"gripper_joint"`
	// Open and Closed are the joint positions of an open and a closed
	// gripper (they must differ when Joint is set).
	Open   float64 `yaml:"gripper_open"`
	Closed float64 `yaml:"gripper_closed"`
}

// DefaultGripper is the simulator's left finger: 0 m open, 0.04 m closed.
func DefaultGripper() Gripper { return Gripper{Joint: "finger_left", Open: 0, Closed: 0.04} }

// Validate checks the mapping.
func (g Gripper) Validate() error {
	if g.Joint == "" {
		return nil
	}
	if g.Open == g.Closed || math.IsNaN(g.Open) || math.IsNaN(g.Closed) || math.IsInf(g.Open, 0) || math.IsInf(g.Closed, 0) {
		return fmt.Errorf("gripper joint %q: open %v and closed %v must be finite and differ", g.Joint, g.Open, g.Closed)
	}
	return nil
}

// FromJoint maps a joint position to [0, 1] (clamped: a finger pressed past
// its closed position is closed, not more than closed). NaN stays NaN so the
// caller's finiteness check sees it.
func (g Gripper) FromJoint(pos float64) float64 {
	v := (pos - g.Open) / (g.Closed - g.Open)
	if math.IsNaN(v) {
		return v
	}
	return math.Max(0, math.Min(1, v))
}

// Observe is the observed gripper state: the mapped joint position when the
// joint was seen (seen true), else the previous gripper command.
func (g Gripper) Observe(jointPos float64, seen bool, prevCommand float64) float64 {
	if g.Joint != "" && seen {
		return g.FromJoint(jointPos)
	}
	return prevCommand
}

// GripperClosedThreshold splits a gripper command into open and closed.
const GripperClosedThreshold = 0.5

// GripperCommand is the one rule that turns a policy's gripper output
// (continuous, 0 open .. 1 closed) into what the gripper executes: closed
// from GripperClosedThreshold on, else open. A half command (0.42) would
// give a half grasp that slips; the node and the simulator both apply it.
func GripperCommand(v float64) float64 {
	if v >= GripperClosedThreshold {
		return 1
	}
	return 0
}
