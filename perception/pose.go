package perception

import (
	"gonum.org/v1/gonum/spatial/r3"

	"github.com/vla3d/vla3d/msgs"
)

// Pose is a position and orientation, e.g. the end effector's in the base
// frame (geometry_msgs/Pose).
type Pose struct {
	Position    r3.Vec
	Orientation Quat
}

// VecFromArray converts x, y, z to an r3.Vec.
func VecFromArray(a [3]float64) r3.Vec { return r3.Vec{X: a[0], Y: a[1], Z: a[2]} }

// VecArray returns v as x, y, z.
func VecArray(v r3.Vec) [3]float64 { return [3]float64{v.X, v.Y, v.Z} }

// PoseFromMsg converts a msgs.Pose (quaternion x, y, z, w); the orientation
// is taken as is, not normalised.
func PoseFromMsg(p msgs.Pose) Pose {
	return Pose{Position: VecFromArray(p.Position), Orientation: QuatFromArray(p.Orientation)}
}

// Msg returns p as a msgs.Pose.
func (p Pose) Msg() msgs.Pose {
	return msgs.Pose{Position: VecArray(p.Position), Orientation: p.Orientation.Array()}
}

// Rigid returns the transform that maps points expressed in the pose's frame
// into the frame the pose is given in (e.g. baseFromEE for the end
// effector's pose in the base frame). The orientation is normalised first.
func (p Pose) Rigid() Rigid {
	return Rigid{R: p.Orientation.Normalize().Matrix(), T: VecArray(p.Position)}
}

// Pose returns the pose of frame B in frame A for the transform aFromB: the
// inverse of Pose.Rigid.
func (a Rigid) Pose() Pose {
	return Pose{Position: VecFromArray(a.T), Orientation: QuatFromMatrix(a.R)}
}
