package dataset

import (
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
)

// DeriveAction is the end-effector delta action that moves pose cur to pose
// next, in the convention the simulator executes (perception.DeltaBetween,
// the inverse of perception.ApplyDelta): translation difference in the base
// frame, and the roll/pitch/yaw of R_next R_cur^T (the rotation increment
// applied on the left), with the given gripper command.
func DeriveAction(cur, next msgs.Pose, gripper float64) [msgs.EEActionDim]float32 {
	var a [msgs.EEActionDim]float32
	perception.DeltaBetween(perception.PoseFromMsg(cur), perception.PoseFromMsg(next)).PutAction(a[:])
	a[msgs.ActionGripper] = float32(gripper)
	return a
}
