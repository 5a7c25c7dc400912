package perception_test

import (
	"fmt"
	"math"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
)

// Quaternions are x, y, z, w like geometry_msgs; MuJoCo's w-first order is
// a conversion at its boundary.
func ExampleQuat() {
	q := perception.QuatFromRPY(0, 0, math.Pi/2) // 90° about z
	fmt.Printf("x,y,z,w %.4f\n", q.Array())
	fmt.Printf("w,x,y,z %.4f\n", q.WXYZ())
	r, p, y := q.RPY()
	fmt.Printf("rpy %.4f %.4f %.4f\n", r, p, y)
	fmt.Printf("x axis -> %.4f\n", q.Matrix())
	fmt.Printf("angle to identity %.4f, halfway yaw %.4f\n", q.Angle(perception.IdentityQuat()), perception.IdentityQuat().Slerp(q, 0.5).Yaw())
	// Output:
	// x,y,z,w [0.0000 0.0000 0.7071 0.7071]
	// w,x,y,z [0.7071 0.0000 0.0000 0.7071]
	// rpy 0.0000 0.0000 1.5708
	// x axis -> [0.0000 -1.0000 0.0000 1.0000 0.0000 0.0000 0.0000 0.0000 1.0000]
	// angle to identity 1.5708, halfway yaw 0.7854
}

// A pose converts to and from msgs.Pose and to the transform it defines.
func ExamplePose() {
	p := perception.PoseFromMsg(msgs.Pose{Position: [3]float64{0.4, 0, 0.3}, Orientation: [4]float64{0, 0, 0, 1}})
	fmt.Println(p.Position, p.Orientation)
	fmt.Printf("%.2f\n", p.Rigid().Apply([3]float64{0, 0, 0.1})) // a point 10 cm along the pose's z
	fmt.Println(p.Msg())
	// Output:
	// {0.4 0 0.3} {0 0 0 1}
	// [0.40 0.00 0.40]
	// {[0.4 0 0.3] [0 0 0 1]}
}

// The action convention: translation in the base frame, rotation increment
// applied on the left; DeltaBetween derives the delta that ApplyDelta
// executes.
func ExampleApplyDelta() {
	cur := perception.Pose{Position: perception.VecFromArray([3]float64{0.4, 0, 0.3}), Orientation: perception.IdentityQuat()}
	a := []float32{0.01, 0, -0.02, 0, 0, 0.1, 1} // dx, dy, dz, droll, dpitch, dyaw, gripper
	next := perception.ApplyDelta(cur, perception.DeltaFromAction(a))
	fmt.Printf("position %.2f yaw %.2f\n", perception.VecArray(next.Position), next.Orientation.Yaw())
	d := perception.DeltaBetween(cur, next)
	fmt.Printf("derived %+.2f %+.2f %+.2f %+.2f %+.2f %+.2f\n", d.Translation.X, d.Translation.Y, d.Translation.Z, d.Roll, d.Pitch, d.Yaw)
	// Output:
	// position [0.41 0.00 0.28] yaw 0.10
	// derived +0.01 +0.00 -0.02 +0.00 +0.00 +0.10
}
