package sim

import "math"

// Vec3 is a 3-vector in metres (or a direction). Orientations are
// perception.Quat (x, y, z, w); MuJoCo's w-first order appears only where
// sim/mujoco is called and in the MJCF text (Quat.WXYZ, QuatFromWXYZ).
type Vec3 = [3]float64

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
