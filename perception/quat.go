package perception

import (
	"math"

	"gonum.org/v1/gonum/num/quat"
	"gonum.org/v1/gonum/spatial/r3"
)

// Quat is a rotation quaternion in geometry_msgs component order: X, Y, Z
// are the vector (imaginary) part and W the scalar (real) part, so the
// identity is Quat{W: 1}. Its [4]float64 form (Array, QuatFromArray) is
// x, y, z, w as in msgs.Pose.Orientation and msgs.Transform.Rotation.
// MuJoCo stores quaternions w, x, y, z; convert with QuatFromWXYZ and WXYZ,
// and only where MuJoCo is called.
//
// Multiplication is Hamilton's: q.Mul(r) rotates by r first, then by q.
// Functions that take a rotation expect a unit quaternion; q and -q are the
// same rotation.
type Quat struct{ X, Y, Z, W float64 }

// IdentityQuat returns the identity rotation (0, 0, 0, 1).
func IdentityQuat() Quat { return Quat{W: 1} }

// QuatFromArray reads a quaternion stored x, y, z, w (the msgs layout).
func QuatFromArray(a [4]float64) Quat { return Quat{X: a[0], Y: a[1], Z: a[2], W: a[3]} }

// Array returns q as x, y, z, w (the msgs layout).
func (q Quat) Array() [4]float64 { return [4]float64{q.X, q.Y, q.Z, q.W} }

// QuatFromWXYZ reads a quaternion stored w, x, y, z, MuJoCo's order. Use it
// only at the MuJoCo boundary.
func QuatFromWXYZ(a [4]float64) Quat { return Quat{X: a[1], Y: a[2], Z: a[3], W: a[0]} }

// WXYZ returns q as w, x, y, z, MuJoCo's order. Use it only at the MuJoCo
// boundary.
func (q Quat) WXYZ() [4]float64 { return [4]float64{q.W, q.X, q.Y, q.Z} }

// QuatFromNumber converts a gonum quaternion (Real is w; Imag, Jmag, Kmag
// are x, y, z).
func QuatFromNumber(n quat.Number) Quat { return Quat{X: n.Imag, Y: n.Jmag, Z: n.Kmag, W: n.Real} }

// Number returns q as a gonum quaternion.
func (q Quat) Number() quat.Number { return quat.Number{Real: q.W, Imag: q.X, Jmag: q.Y, Kmag: q.Z} }

// Mul returns the Hamilton product q·r: the rotation r followed by q.
func (q Quat) Mul(r Quat) Quat { return QuatFromNumber(quat.Mul(q.Number(), r.Number())) }

// Conj returns the conjugate (-x, -y, -z, w), the inverse of a unit
// quaternion.
func (q Quat) Conj() Quat { return QuatFromNumber(quat.Conj(q.Number())) }

// Inverse returns q⁻¹ = conj(q)/|q|², the inverse for any non-zero q (zero
// for an infinite q, and non-finite for a zero q, as gonum's quat.Inv).
func (q Quat) Inverse() Quat { return QuatFromNumber(quat.Inv(q.Number())) }

// Neg returns -q, the same rotation on the other hemisphere.
func (q Quat) Neg() Quat { return Quat{X: -q.X, Y: -q.Y, Z: -q.Z, W: -q.W} }

// Dot is the 4-vector dot product; for unit quaternions |q·r| is the cosine
// of half the angle between the rotations.
func (q Quat) Dot(r Quat) float64 { return q.X*r.X + q.Y*r.Y + q.Z*r.Z + q.W*r.W }

// Norm is the Euclidean norm |q|.
func (q Quat) Norm() float64 { return math.Sqrt(q.Dot(q)) }

// Normalize returns q/|q|. A quaternion with no usable norm (zero, below
// 1e-12, NaN or infinite) becomes the identity, so a malformed orientation
// never propagates NaNs.
func (q Quat) Normalize() Quat {
	n := q.Norm()
	if !(n > 1e-12) || math.IsInf(n, 0) {
		return IdentityQuat()
	}
	return Quat{X: q.X / n, Y: q.Y / n, Z: q.Z / n, W: q.W / n}
}

// QuatFromRPY builds the rotation R = Rz(yaw) Ry(pitch) Rx(roll): fixed-axis
// roll about x, then pitch about y, then yaw about z, the ROS / tf
// convention and the action space's rotation increments.
func QuatFromRPY(roll, pitch, yaw float64) Quat {
	cr, sr := math.Cos(roll/2), math.Sin(roll/2)
	cp, sp := math.Cos(pitch/2), math.Sin(pitch/2)
	cy, sy := math.Cos(yaw/2), math.Sin(yaw/2)
	return Quat{
		X: sr*cp*cy - cr*sp*sy,
		Y: cr*sp*cy + sr*cp*sy,
		Z: cr*cp*sy - sr*sp*cy,
		W: cr*cp*cy + sr*sp*sy,
	}
}

// RPY returns the roll, pitch, yaw of the unit quaternion q (the inverse of
// QuatFromRPY). Pitch is clamped to ±π/2 at the gimbal lock; roll and yaw
// are in [-π, π].
func (q Quat) RPY() (roll, pitch, yaw float64) {
	x, y, z, w := q.X, q.Y, q.Z, q.W
	roll = math.Atan2(2*(w*x+y*z), 1-2*(x*x+y*y))
	sp := 2 * (w*y - z*x)
	sp = math.Max(-1, math.Min(1, sp))
	pitch = math.Asin(sp)
	return roll, pitch, q.Yaw()
}

// Yaw is the rotation of the unit quaternion q about the z axis, the yaw of
// RPY.
func (q Quat) Yaw() float64 {
	return math.Atan2(2*(q.W*q.Z+q.X*q.Y), 1-2*(q.Y*q.Y+q.Z*q.Z))
}

// Angle is the angle in [0, π] of the rotation taking unit quaternion q to
// r (q and -q are one rotation).
func (q Quat) Angle(r Quat) float64 {
	return 2 * math.Acos(math.Min(1, math.Abs(q.Dot(r))))
}

// Slerp interpolates from unit quaternion q (t = 0) to r (t = 1) at constant
// angular speed along the short arc. Nearly equal rotations are
// interpolated linearly and normalised.
func (q Quat) Slerp(r Quat, t float64) Quat {
	d := q.Dot(r)
	if d < 0 {
		r, d = r.Neg(), -d
	}
	if d > 0.9995 {
		return q.lerp(r, t).Normalize()
	}
	th := math.Acos(d)
	s := math.Sin(th)
	wa, wb := math.Sin((1-t)*th)/s, math.Sin(t*th)/s
	return Quat{X: wa*q.X + wb*r.X, Y: wa*q.Y + wb*r.Y, Z: wa*q.Z + wb*r.Z, W: wa*q.W + wb*r.W}
}

// Nlerp interpolates from unit quaternion q (t = 0) to r (t = 1) along the
// short arc by normalised linear interpolation: cheaper than Slerp, the same
// path, but not at constant speed.
func (q Quat) Nlerp(r Quat, t float64) Quat {
	if q.Dot(r) < 0 {
		r = r.Neg()
	}
	return q.lerp(r, t).Normalize()
}

func (q Quat) lerp(r Quat, t float64) Quat {
	return Quat{X: q.X + t*(r.X-q.X), Y: q.Y + t*(r.Y-q.Y), Z: q.Z + t*(r.Z-q.Z), W: q.W + t*(r.W-q.W)}
}

// Matrix returns the row-major rotation matrix of the unit quaternion q (it
// does not normalise).
func (q Quat) Matrix() [9]float64 {
	x, y, z, w := q.X, q.Y, q.Z, q.W
	return [9]float64{
		1 - 2*(y*y+z*z), 2 * (x*y - z*w), 2 * (x*z + y*w),
		2 * (x*y + z*w), 1 - 2*(x*x+z*z), 2 * (y*z - x*w),
		2 * (x*z - y*w), 2 * (y*z + x*w), 1 - 2*(x*x+y*y),
	}
}

// QuatFromMatrix converts a row-major rotation matrix to a unit quaternion
// with W >= 0 (Shepperd's method, pivoting on the largest diagonal term).
func QuatFromMatrix(r [9]float64) Quat {
	tr := r[0] + r[4] + r[8]
	var q Quat
	switch {
	case tr > 0:
		s := math.Sqrt(tr+1) * 2
		q = Quat{W: s / 4, X: (r[7] - r[5]) / s, Y: (r[2] - r[6]) / s, Z: (r[3] - r[1]) / s}
	case r[0] > r[4] && r[0] > r[8]:
		s := math.Sqrt(1+r[0]-r[4]-r[8]) * 2
		q = Quat{W: (r[7] - r[5]) / s, X: s / 4, Y: (r[1] + r[3]) / s, Z: (r[2] + r[6]) / s}
	case r[4] > r[8]:
		s := math.Sqrt(1+r[4]-r[0]-r[8]) * 2
		q = Quat{W: (r[2] - r[6]) / s, X: (r[1] + r[3]) / s, Y: s / 4, Z: (r[5] + r[7]) / s}
	default:
		s := math.Sqrt(1+r[8]-r[0]-r[4]) * 2
		q = Quat{W: (r[3] - r[1]) / s, X: (r[2] + r[6]) / s, Y: (r[5] + r[7]) / s, Z: s / 4}
	}
	if q.W < 0 {
		q = q.Neg()
	}
	return q.Normalize()
}

// Rotate returns v rotated by the unit quaternion q (q v q*).
func (q Quat) Rotate(v r3.Vec) r3.Vec {
	p := q.Mul(Quat{X: v.X, Y: v.Y, Z: v.Z}).Mul(q.Conj())
	return r3.Vec{X: p.X, Y: p.Y, Z: p.Z}
}
