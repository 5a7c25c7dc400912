package perception

import (
	"math"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/vla3d/vla3d/msgs"
)

// Delta is one end-effector delta action, the convention the simulator, the
// ROS node's executor and the dataset's derived actions share:
// Translation is added to the position in the base frame, and the rotation
// increment QuatFromRPY(Roll, Pitch, Yaw) is applied on the LEFT (in the
// base frame): q_next = normalize(QuatFromRPY(Roll, Pitch, Yaw) · q_cur).
type Delta struct {
	Translation      r3.Vec // dx, dy, dz in metres, base frame
	Roll, Pitch, Yaw float64
}

// DeltaFromAction reads dx, dy, dz, droll, dpitch, dyaw from an action in
// the msgs layout (msgs.ActionDX … msgs.ActionDYaw); a must hold at least
// those six values.
func DeltaFromAction(a []float32) Delta {
	return Delta{
		Translation: r3.Vec{X: float64(a[msgs.ActionDX]), Y: float64(a[msgs.ActionDY]), Z: float64(a[msgs.ActionDZ])},
		Roll:        float64(a[msgs.ActionDRoll]),
		Pitch:       float64(a[msgs.ActionDPitch]),
		Yaw:         float64(a[msgs.ActionDYaw]),
	}
}

// PutAction writes d into the six delta slots of an action in the msgs
// layout, leaving the gripper slot alone.
func (d Delta) PutAction(a []float32) {
	a[msgs.ActionDX], a[msgs.ActionDY], a[msgs.ActionDZ] = float32(d.Translation.X), float32(d.Translation.Y), float32(d.Translation.Z)
	a[msgs.ActionDRoll], a[msgs.ActionDPitch], a[msgs.ActionDYaw] = float32(d.Roll), float32(d.Pitch), float32(d.Yaw)
}

// Rotation is the rotation increment QuatFromRPY(d.Roll, d.Pitch, d.Yaw).
func (d Delta) Rotation() Quat { return QuatFromRPY(d.Roll, d.Pitch, d.Yaw) }

// ApplyDelta executes d from pose p: the position moves by d.Translation and
// the orientation becomes normalize(d.Rotation() · p.Orientation).
func ApplyDelta(p Pose, d Delta) Pose {
	return Pose{
		Position:    r3.Add(p.Position, d.Translation),
		Orientation: d.Rotation().Mul(p.Orientation).Normalize(),
	}
}

// DeltaBetween is the delta that ApplyDelta executes to move cur to next:
// the position difference and the roll, pitch, yaw of
// q_next · conj(q_cur) taken the shorter way round (W >= 0), so
// ApplyDelta(cur, DeltaBetween(cur, next)) is next up to the sign of its
// quaternion. Orientations need not be unit; if either has no usable norm
// (zero or non-finite) the rotation part is zero.
func DeltaBetween(cur, next Pose) Delta {
	d := Delta{Translation: r3.Sub(next.Position, cur.Position)}
	cq, nq := cur.Orientation, next.Orientation
	cn, nn := cq.Norm(), nq.Norm()
	if !(cn > 0) || !(nn > 0) || math.IsInf(cn, 0) || math.IsInf(nn, 0) {
		return d
	}
	c := Quat{X: cq.X / cn, Y: cq.Y / cn, Z: cq.Z / cn, W: cq.W / cn}
	n := Quat{X: nq.X / nn, Y: nq.Y / nn, Z: nq.Z / nn, W: nq.W / nn}
	r := n.Mul(c.Conj())
	if r.W < 0 { // the shorter way round
		r = r.Neg()
	}
	d.Roll, d.Pitch, d.Yaw = r.RPY()
	return d
}

// ChunkTargets integrates an end-effector delta chunk (msgs action layout)
// from start into the absolute targets it commands, one per step, appended
// to dst: the targets the node's executor sends and the planned path the
// markers and pictures draw.
func ChunkTargets(dst []msgs.Pose, start msgs.Pose, c *msgs.ActionChunk) []msgs.Pose {
	p := PoseFromMsg(start)
	p.Orientation = p.Orientation.Normalize()
	for k := range c.Horizon {
		p = ApplyDelta(p, DeltaFromAction(c.Step(k)))
		dst = append(dst, p.Msg())
	}
	return dst
}
