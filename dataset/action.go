package dataset

import (
	"math"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy/preprocess"
)

// DeriveAction is the end-effector delta action that moves pose cur to pose
// next, in the convention the simulator executes: translation difference in
// the base frame, and the roll/pitch/yaw of R_next R_cur^T (the rotation
// increment applied on the left), with the given gripper command.
func DeriveAction(cur, next msgs.Pose, gripper float64) [msgs.EEActionDim]float32 {
	var a [msgs.EEActionDim]float32
	for i := range 3 {
		a[msgs.ActionDX+i] = float32(next.Position[i] - cur.Position[i])
	}
	// q_delta = q_next * conj(q_cur), quaternions x, y, z, w.
	c := cur.Orientation
	cn := math.Sqrt(c[0]*c[0] + c[1]*c[1] + c[2]*c[2] + c[3]*c[3])
	n := next.Orientation
	nn := math.Sqrt(n[0]*n[0] + n[1]*n[1] + n[2]*n[2] + n[3]*n[3])
	if cn > 0 && nn > 0 {
		cx, cy, cz, cw := -c[0]/cn, -c[1]/cn, -c[2]/cn, c[3]/cn
		nx, ny, nz, nw := n[0]/nn, n[1]/nn, n[2]/nn, n[3]/nn
		x := nw*cx + nx*cw + ny*cz - nz*cy
		y := nw*cy - nx*cz + ny*cw + nz*cx
		z := nw*cz + nx*cy - ny*cx + nz*cw
		w := nw*cw - nx*cx - ny*cy - nz*cz
		if w < 0 { // the shorter way round
			x, y, z, w = -x, -y, -z, -w
		}
		r, p, yw := preprocess.QuaternionToRPY(x, y, z, w)
		a[msgs.ActionDRoll], a[msgs.ActionDPitch], a[msgs.ActionDYaw] = float32(r), float32(p), float32(yw)
	}
	a[msgs.ActionGripper] = float32(gripper)
	return a
}
