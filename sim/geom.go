package sim

import "math"

// Vec3 is a 3-vector in metres (or a direction).
type Vec3 = [3]float64

// Quat is a unit quaternion stored w, x, y, z (MuJoCo's order; msgs uses x, y, z, w).
type Quat = [4]float64

func add(a, b Vec3) Vec3           { return Vec3{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func sub(a, b Vec3) Vec3           { return Vec3{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func scale(a Vec3, s float64) Vec3 { return Vec3{a[0] * s, a[1] * s, a[2] * s} }
func dot(a, b Vec3) float64        { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func norm(a Vec3) float64          { return math.Sqrt(dot(a, a)) }
func cross(a, b Vec3) Vec3 {
	return Vec3{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
func normalize(a Vec3) Vec3 {
	n := norm(a)
	if n == 0 {
		return a
	}
	return scale(a, 1/n)
}

// quatMul returns a*b (apply b, then a).
func quatMul(a, b Quat) Quat {
	return Quat{
		a[0]*b[0] - a[1]*b[1] - a[2]*b[2] - a[3]*b[3],
		a[0]*b[1] + a[1]*b[0] + a[2]*b[3] - a[3]*b[2],
		a[0]*b[2] - a[1]*b[3] + a[2]*b[0] + a[3]*b[1],
		a[0]*b[3] + a[1]*b[2] - a[2]*b[1] + a[3]*b[0],
	}
}

func quatNormalize(q Quat) Quat {
	n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
	if n == 0 {
		return Quat{1, 0, 0, 0}
	}
	return Quat{q[0] / n, q[1] / n, q[2] / n, q[3] / n}
}

// quatFromRPY builds the rotation Rz(yaw) Ry(pitch) Rx(roll) (fixed-axis roll, pitch, yaw as in ROS).
func quatFromRPY(roll, pitch, yaw float64) Quat {
	cr, sr := math.Cos(roll/2), math.Sin(roll/2)
	cp, sp := math.Cos(pitch/2), math.Sin(pitch/2)
	cy, sy := math.Cos(yaw/2), math.Sin(yaw/2)
	return Quat{
		cr*cp*cy + sr*sp*sy,
		sr*cp*cy - cr*sp*sy,
		cr*sp*cy + sr*cp*sy,
		cr*cp*sy - sr*sp*cy,
	}
}

// quatYaw extracts the yaw (rotation about world z) of q.
func quatYaw(q Quat) float64 {
	return math.Atan2(2*(q[0]*q[3]+q[1]*q[2]), 1-2*(q[2]*q[2]+q[3]*q[3]))
}

// quatToMat returns the row-major rotation matrix of q.
func quatToMat(q Quat) [9]float64 {
	w, x, y, z := q[0], q[1], q[2], q[3]
	return [9]float64{
		1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y),
		2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x),
		2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y),
	}
}

// matToQuat converts a row-major rotation matrix to a quaternion (w >= 0).
func matToQuat(m [9]float64) Quat {
	tr := m[0] + m[4] + m[8]
	var q Quat
	switch {
	case tr > 0:
		s := math.Sqrt(tr+1) * 2
		q = Quat{s / 4, (m[7] - m[5]) / s, (m[2] - m[6]) / s, (m[3] - m[1]) / s}
	case m[0] > m[4] && m[0] > m[8]:
		s := math.Sqrt(1+m[0]-m[4]-m[8]) * 2
		q = Quat{(m[7] - m[5]) / s, s / 4, (m[1] + m[3]) / s, (m[2] + m[6]) / s}
	case m[4] > m[8]:
		s := math.Sqrt(1+m[4]-m[0]-m[8]) * 2
		q = Quat{(m[2] - m[6]) / s, (m[1] + m[3]) / s, s / 4, (m[5] + m[7]) / s}
	default:
		s := math.Sqrt(1+m[8]-m[0]-m[4]) * 2
		q = Quat{(m[3] - m[1]) / s, (m[2] + m[6]) / s, (m[5] + m[7]) / s, s / 4}
	}
	if q[0] < 0 {
		q = Quat{-q[0], -q[1], -q[2], -q[3]}
	}
	return quatNormalize(q)
}

// lookAtAxes returns MuJoCo camera x (right) and y (up) axes for a camera at
// pos looking at target, with up giving the image's upward direction, rolled
// by roll radians about the viewing direction.
func lookAtAxes(pos, target, up Vec3, roll float64) (x, y Vec3) {
	f := normalize(sub(target, pos))
	x = normalize(cross(f, up))
	y = cross(x, f)
	if roll != 0 {
		c, s := math.Cos(roll), math.Sin(roll)
		x, y = add(scale(x, c), scale(y, s)), add(scale(y, c), scale(x, -s))
	}
	return x, y
}

// wrapAngle maps a to (-pi, pi].
func wrapAngle(a float64) float64 {
	a = math.Mod(a+math.Pi, 2*math.Pi)
	if a <= 0 {
		a += 2 * math.Pi
	}
	return a - math.Pi
}
