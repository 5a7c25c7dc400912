package perception

import (
	"errors"
	"fmt"
	"math"
)

// Rigid is a proper rigid transform p' = R p + T. Named A-from-B (e.g.
// baseFromCamera) it maps points expressed in frame B into frame A, like a
// geometry_msgs/Transform from parent A to child B.
type Rigid struct {
	R [9]float64 // row-major rotation
	T [3]float64
}

// ErrInvalidTransform is wrapped by every transform construction error.
var ErrInvalidTransform = errors.New("perception: invalid transform")

// Identity returns the identity transform.
func Identity() Rigid {
	return Rigid{R: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}}
}

// RigidFromQuaternion builds a transform from a quaternion (x, y, z, w, as in
// geometry_msgs) and a translation. The quaternion is normalised; a zero or
// non-finite quaternion is refused rather than guessed.
func RigidFromQuaternion(qx, qy, qz, qw float64, t [3]float64) (Rigid, error) {
	n := Quat{X: qx, Y: qy, Z: qz, W: qw}.Norm()
	if !(n > 1e-12) || math.IsInf(n, 0) {
		return Rigid{}, fmt.Errorf("%w: quaternion (%v,%v,%v,%v) has no usable norm", ErrInvalidTransform, qx, qy, qz, qw)
	}
	for _, v := range t {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Rigid{}, fmt.Errorf("%w: translation %v not finite", ErrInvalidTransform, t)
		}
	}
	q := Quat{X: qx / n, Y: qy / n, Z: qz / n, W: qw / n}
	return Rigid{R: q.Matrix(), T: t}, nil
}

// rotationTolerance bounds |RᵀR - I| and |det R - 1| accepted from callers;
// loose enough for float32 round trips, tight enough to catch scaled or
// sheared matrices.
const rotationTolerance = 1e-4

// RigidFromMatrix3x4 builds a transform from a row-major 3x4 [R|t] matrix,
// checking that R is a rotation (orthonormal, det +1) within 1e-4.
func RigidFromMatrix3x4(m [12]float64) (Rigid, error) {
	r := Rigid{
		R: [9]float64{m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]},
		T: [3]float64{m[3], m[7], m[11]},
	}
	for _, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Rigid{}, fmt.Errorf("%w: matrix %v not finite", ErrInvalidTransform, m)
		}
	}
	for i := range 3 {
		for j := range 3 {
			dot := r.R[i]*r.R[j] + r.R[3+i]*r.R[3+j] + r.R[6+i]*r.R[6+j]
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(dot-want) > rotationTolerance {
				return Rigid{}, fmt.Errorf("%w: rotation part is not orthonormal (column %d·%d = %v)", ErrInvalidTransform, i, j, dot)
			}
		}
	}
	if d := det3(r.R); math.Abs(d-1) > rotationTolerance {
		return Rigid{}, fmt.Errorf("%w: rotation determinant %v, want +1 (reflection?)", ErrInvalidTransform, d)
	}
	return r, nil
}

func det3(a [9]float64) float64 {
	return a[0]*(a[4]*a[8]-a[5]*a[7]) - a[1]*(a[3]*a[8]-a[5]*a[6]) + a[2]*(a[3]*a[7]-a[4]*a[6])
}

// Apply maps point p: R p + T.
func (a Rigid) Apply(p [3]float64) [3]float64 {
	return [3]float64{
		a.R[0]*p[0] + a.R[1]*p[1] + a.R[2]*p[2] + a.T[0],
		a.R[3]*p[0] + a.R[4]*p[1] + a.R[5]*p[2] + a.T[1],
		a.R[6]*p[0] + a.R[7]*p[1] + a.R[8]*p[2] + a.T[2],
	}
}

// Rotate maps direction v: R v (no translation).
func (a Rigid) Rotate(v [3]float64) [3]float64 {
	return [3]float64{
		a.R[0]*v[0] + a.R[1]*v[1] + a.R[2]*v[2],
		a.R[3]*v[0] + a.R[4]*v[1] + a.R[5]*v[2],
		a.R[6]*v[0] + a.R[7]*v[1] + a.R[8]*v[2],
	}
}

// Compose returns a∘b, the transform applying b first then a
// (aFromC = aFromB.Compose(bFromC)).
func (a Rigid) Compose(b Rigid) Rigid {
	var out Rigid
	for i := range 3 {
		for j := range 3 {
			out.R[3*i+j] = a.R[3*i]*b.R[j] + a.R[3*i+1]*b.R[3+j] + a.R[3*i+2]*b.R[6+j]
		}
	}
	out.T = a.Apply(b.T)
	return out
}

// Inverse returns the inverse transform (Rᵀ, -Rᵀ T).
func (a Rigid) Inverse() Rigid {
	var out Rigid
	for i := range 3 {
		for j := range 3 {
			out.R[3*i+j] = a.R[3*j+i]
		}
	}
	t := out.Rotate(a.T)
	out.T = [3]float64{-t[0], -t[1], -t[2]}
	return out
}

// Matrix3x4 returns [R|t] as float32 row-major, the layout of
// policy.Input.CamFromBase (pass camFromBase, i.e. baseFromCamera.Inverse()).
func (a Rigid) Matrix3x4() [12]float32 {
	return [12]float32{
		float32(a.R[0]), float32(a.R[1]), float32(a.R[2]), float32(a.T[0]),
		float32(a.R[3]), float32(a.R[4]), float32(a.R[5]), float32(a.T[1]),
		float32(a.R[6]), float32(a.R[7]), float32(a.R[8]), float32(a.T[2]),
	}
}

// Quaternion returns the rotation as a unit quaternion x, y, z, w with w >= 0
// (QuatFromMatrix(a.R).Array()).
func (a Rigid) Quaternion() [4]float64 { return QuatFromMatrix(a.R).Array() }

// LookAt returns baseFromCamera for a camera at eye looking at target, with
// the REP 103 optical axes: z towards target, x to the image's right, y down
// (up is the world's up direction, e.g. (0,0,1)). It fails when eye and
// target coincide or the view is parallel to up (the roll is then undefined).
func LookAt(eye, target, up [3]float64) (Rigid, error) {
	f := [3]float64{target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]}
	fn := math.Sqrt(dot3(f, f))
	if !(fn > 1e-12) || math.IsInf(fn, 0) {
		return Rigid{}, fmt.Errorf("%w: look-at eye %v and target %v", ErrInvalidTransform, eye, target)
	}
	z := [3]float64{f[0] / fn, f[1] / fn, f[2] / fn}
	x := cross3(z, up)
	xn := math.Sqrt(dot3(x, x))
	if !(xn > 1e-9*math.Sqrt(dot3(up, up))) {
		return Rigid{}, fmt.Errorf("%w: look-at direction %v parallel to up %v", ErrInvalidTransform, z, up)
	}
	x = [3]float64{x[0] / xn, x[1] / xn, x[2] / xn}
	y := cross3(z, x)
	// Columns of R are the optical axes expressed in the base frame.
	return Rigid{
		R: [9]float64{x[0], y[0], z[0], x[1], y[1], z[1], x[2], y[2], z[2]},
		T: eye,
	}, nil
}
