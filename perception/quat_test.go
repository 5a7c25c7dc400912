package perception

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/num/quat"
	"gonum.org/v1/gonum/spatial/r3"
)

func randomQuat(rng *rand.Rand) Quat {
	return Quat{X: rng.NormFloat64(), Y: rng.NormFloat64(), Z: rng.NormFloat64(), W: rng.NormFloat64()}.Normalize()
}

func quatNear(a, b Quat, tol float64) bool {
	return near(a.X, b.X, tol) && near(a.Y, b.Y, tol) && near(a.Z, b.Z, tol) && near(a.W, b.W, tol)
}

// sameRotation: q and -q are one rotation.
func sameRotation(a, b Quat, tol float64) bool {
	return quatNear(a, b, tol) || quatNear(a, b.Neg(), tol)
}

func vecNear(a, b r3.Vec, tol float64) bool {
	return near(a.X, b.X, tol) && near(a.Y, b.Y, tol) && near(a.Z, b.Z, tol)
}

// axisAngle is gonum's rotation of alpha about axis, an independent oracle.
func axisAngle(alpha float64, axis r3.Vec) Quat {
	return QuatFromNumber(quat.Number(r3.NewRotation(alpha, axis)))
}

var (
	xAxis = r3.Vec{X: 1}
	yAxis = r3.Vec{Y: 1}
	zAxis = r3.Vec{Z: 1}
)

func TestQuatLayouts(t *testing.T) {
	q := Quat{X: 1, Y: 2, Z: 3, W: 4}
	if got := q.Array(); got != [4]float64{1, 2, 3, 4} {
		t.Errorf("Array = %v", got)
	}
	if got := q.WXYZ(); got != [4]float64{4, 1, 2, 3} {
		t.Errorf("WXYZ = %v", got)
	}
	if got := q.Number(); got != (quat.Number{Real: 4, Imag: 1, Jmag: 2, Kmag: 3}) {
		t.Errorf("Number = %v", got)
	}
	if QuatFromArray(q.Array()) != q || QuatFromWXYZ(q.WXYZ()) != q || QuatFromNumber(q.Number()) != q {
		t.Error("layout round trip")
	}
	if IdentityQuat().Array() != [4]float64{0, 0, 0, 1} {
		t.Error("identity is not (0, 0, 0, 1)")
	}
}

func TestQuatMulTable(t *testing.T) {
	i, j, k, one := Quat{X: 1}, Quat{Y: 1}, Quat{Z: 1}, Quat{W: 1}
	tests := []struct {
		name    string
		a, b    Quat
		want    Quat
		wantNeg bool
	}{
		{"ij=k", i, j, k, false},
		{"jk=i", j, k, i, false},
		{"ki=j", k, i, j, false},
		{"ji=-k", j, i, k, true},
		{"ii=-1", i, i, one, true},
		{"1q=q", one, Quat{X: 1, Y: 2, Z: 3, W: 4}, Quat{X: 1, Y: 2, Z: 3, W: 4}, false},
	}
	for _, tc := range tests {
		want := tc.want
		if tc.wantNeg {
			want = want.Neg()
		}
		if got := tc.a.Mul(tc.b); got != want {
			t.Errorf("%s: got %v want %v", tc.name, got, want)
		}
	}
	// Mul composes rotations: a.Mul(b) applies b first.
	a, b := axisAngle(math.Pi/2, zAxis), axisAngle(math.Pi/2, xAxis)
	if got := a.Mul(b).Rotate(yAxis); !vecNear(got, zAxis, 1e-12) { // x90: y -> z, then z90: z -> z
		t.Errorf("z90·x90 y = %v, want (0, 0, 1)", got)
	}
	if got := b.Mul(a).Rotate(yAxis); !vecNear(got, r3.Vec{X: -1}, 1e-12) { // z90: y -> -x, then x90: -x -> -x
		t.Errorf("x90·z90 y = %v, want (-1, 0, 0)", got)
	}
}

func TestQuatMulLaws(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 500 {
		a, b, c := randomQuat(rng), randomQuat(rng), randomQuat(rng)
		if !quatNear(a.Mul(b).Mul(c), a.Mul(b.Mul(c)), 1e-12) {
			t.Fatal("Mul not associative")
		}
		if !quatNear(a.Mul(b).Conj(), b.Conj().Mul(a.Conj()), 1e-12) {
			t.Fatal("conj(ab) != conj(b)conj(a)")
		}
		if !quatNear(a.Mul(a.Conj()), IdentityQuat(), 1e-12) {
			t.Fatal("q·conj(q) != 1")
		}
		s := Quat{X: 2 * a.X, Y: 2 * a.Y, Z: 2 * a.Z, W: 2 * a.W}
		if !quatNear(s.Mul(s.Inverse()), IdentityQuat(), 1e-12) {
			t.Fatal("q·q⁻¹ != 1 for non-unit q")
		}
		if !near(a.Mul(b).Norm(), 1, 1e-12) {
			t.Fatal("|ab| != |a||b|")
		}
		v := r3.Vec{X: rng.NormFloat64(), Y: rng.NormFloat64(), Z: rng.NormFloat64()}
		if !vecNear(a.Mul(b).Rotate(v), a.Rotate(b.Rotate(v)), 1e-12) {
			t.Fatal("(ab)v != a(bv)")
		}
		if !vecNear(a.Rotate(v), a.Neg().Rotate(v), 1e-12) {
			t.Fatal("q and -q rotate differently")
		}
	}
}

func matVec(m [9]float64, v r3.Vec) r3.Vec {
	return r3.Vec{
		X: m[0]*v.X + m[1]*v.Y + m[2]*v.Z,
		Y: m[3]*v.X + m[4]*v.Y + m[5]*v.Z,
		Z: m[6]*v.X + m[7]*v.Y + m[8]*v.Z,
	}
}

func TestQuatNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   Quat
		want Quat
	}{
		{"unit", Quat{W: 1}, Quat{W: 1}},
		{"scaled", Quat{X: 0, Y: 0, Z: 3, W: 4}, Quat{Z: 0.6, W: 0.8}},
		{"negative", Quat{X: -2}, Quat{X: -1}},
		{"zero", Quat{}, IdentityQuat()},
		{"tiny", Quat{X: 1e-13}, IdentityQuat()},
		{"NaN", Quat{X: math.NaN(), W: 1}, IdentityQuat()},
		{"Inf", Quat{X: math.Inf(1), W: 1}, IdentityQuat()},
	}
	for _, tc := range tests {
		if got := tc.in.Normalize(); !quatNear(got, tc.want, 1e-15) {
			t.Errorf("%s: Normalize(%v) = %v want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestQuatFromRPYTable(t *testing.T) {
	tests := []struct {
		name             string
		roll, pitch, yaw float64
		want             Quat
	}{
		{"identity", 0, 0, 0, IdentityQuat()},
		{"roll", 0.3, 0, 0, axisAngle(0.3, xAxis)},
		{"pitch", 0, -0.4, 0, axisAngle(-0.4, yAxis)},
		{"yaw", 0, 0, 1.2, axisAngle(1.2, zAxis)},
		{"yaw pi", 0, 0, math.Pi, Quat{Z: 1}},
		// Fixed axes: roll first, then pitch, then yaw, R = Rz Ry Rx.
		{"all", 0.1, -0.2, 0.3, axisAngle(0.3, zAxis).Mul(axisAngle(-0.2, yAxis)).Mul(axisAngle(0.1, xAxis))},
		{"large", -1, 0.5, 2, axisAngle(2, zAxis).Mul(axisAngle(0.5, yAxis)).Mul(axisAngle(-1, xAxis))},
	}
	for _, tc := range tests {
		if got := QuatFromRPY(tc.roll, tc.pitch, tc.yaw); !sameRotation(got, tc.want, 1e-12) {
			t.Errorf("%s: got %v want %v", tc.name, got, tc.want)
		}
	}
}

func TestQuatRPYTable(t *testing.T) {
	s := math.Sqrt2 / 2
	tests := []struct {
		name             string
		q                Quat
		roll, pitch, yaw float64
	}{
		{"identity", IdentityQuat(), 0, 0, 0},
		{"roll 90", Quat{X: s, W: s}, math.Pi / 2, 0, 0},
		{"yaw 90", Quat{Z: s, W: s}, 0, 0, math.Pi / 2},
		{"roll, pitch, yaw", QuatFromRPY(0.1, -0.2, 0.3), 0.1, -0.2, 0.3},
		// At the lock only yaw - roll is defined; RPY returns (π, π/2, π).
		{"gimbal lock", Quat{Y: s, W: s}, math.Pi, math.Pi / 2, math.Pi},
		// Rounding pushes sin(pitch) just past 1: clamped, not NaN.
		{"past the lock", Quat{Y: s + 1e-9, W: s + 1e-9}, math.Pi, math.Pi / 2, math.Pi},
	}
	for _, tc := range tests {
		r, p, y := tc.q.RPY()
		if !sameRotation(QuatFromRPY(r, p, y), tc.q.Normalize(), 1e-8) {
			t.Errorf("%s: QuatFromRPY(RPY(q)) = %v want %v", tc.name, QuatFromRPY(r, p, y), tc.q)
		}
		if !near(r, tc.roll, 1e-6) || !near(p, tc.pitch, 1e-6) || !near(y, tc.yaw, 1e-6) {
			t.Errorf("%s: RPY = %v %v %v want %v %v %v", tc.name, r, p, y, tc.roll, tc.pitch, tc.yaw)
		}
		if tc.q.Yaw() != y {
			t.Errorf("%s: Yaw %v != RPY yaw %v", tc.name, tc.q.Yaw(), y)
		}
	}
}

// Property: RPY inverts QuatFromRPY away from the gimbal lock.
func TestQuatRPYRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for range 1000 {
		r, p, y := rng.Float64()*6-3, rng.Float64()*3-1.5, rng.Float64()*6-3
		gr, gp, gy := QuatFromRPY(r, p, y).RPY()
		if !near(gr, r, 1e-9) || !near(gp, p, 1e-9) || !near(gy, y, 1e-9) {
			t.Fatalf("rpy %v %v %v -> %v %v %v", r, p, y, gr, gp, gy)
		}
		q := randomQuat(rng)
		if !sameRotation(QuatFromRPY(q.RPY()), q, 1e-9) {
			t.Fatalf("QuatFromRPY(RPY(%v)) = %v", q, QuatFromRPY(q.RPY()))
		}
	}
}

func TestQuatAngleSlerp(t *testing.T) {
	id := IdentityQuat()
	tests := []struct {
		name  string
		a, b  Quat
		t     float64
		angle float64 // between a and b
		want  Quat    // Slerp(a, b, t)
	}{
		{"midpoint", id, QuatFromRPY(0, 0, 1), 0.5, 1, QuatFromRPY(0, 0, 0.5)},
		{"start", id, QuatFromRPY(0.2, 0, 0), 0, 0.2, id},
		{"end", id, QuatFromRPY(0.2, 0, 0), 1, 0.2, QuatFromRPY(0.2, 0, 0)},
		{"short arc", id, QuatFromRPY(0, 0, 1).Neg(), 0.25, 1, QuatFromRPY(0, 0, 0.25)},
		{"nearly equal", id, QuatFromRPY(0, 0, 1e-3), 0.5, 1e-3, QuatFromRPY(0, 0, 5e-4)},
		{"half turn", id, Quat{X: 1}, 0.5, math.Pi, QuatFromRPY(math.Pi/2, 0, 0)},
	}
	for _, tc := range tests {
		if got := tc.a.Angle(tc.b); !near(got, tc.angle, 1e-6) {
			t.Errorf("%s: Angle = %v want %v", tc.name, got, tc.angle)
		}
		if got := tc.a.Slerp(tc.b, tc.t); !sameRotation(got, tc.want, 1e-9) {
			t.Errorf("%s: Slerp = %v want %v", tc.name, got, tc.want)
		}
		if got := tc.a.Nlerp(tc.b, tc.t); tc.t == 0 || tc.t == 1 || tc.t == 0.5 {
			if !sameRotation(got, tc.want, 1e-9) { // nlerp and slerp agree at the ends and the middle
				t.Errorf("%s: Nlerp = %v want %v", tc.name, got, tc.want)
			}
		}
	}
}

// Property: Slerp moves at constant angular speed along the short arc.
func TestQuatSlerpConstantSpeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for range 500 {
		a, b := randomQuat(rng), randomQuat(rng)
		s := rng.Float64()
		m := a.Slerp(b, s)
		full := a.Angle(b)
		if !near(m.Norm(), 1, 1e-12) {
			t.Fatalf("|slerp| = %v", m.Norm())
		}
		if !near(a.Angle(m), s*full, 1e-7) || !near(m.Angle(b), (1-s)*full, 1e-7) {
			t.Fatalf("slerp %v of %v: angles %v %v", s, full, a.Angle(m), m.Angle(b))
		}
		if !near(a.Angle(b), b.Angle(a), 0) || a.Angle(b) > math.Pi {
			t.Fatal("Angle not symmetric or above pi")
		}
	}
}

func TestQuatMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, q := range []Quat{IdentityQuat(), {X: 1}, {Y: 1}, {Z: 1}, QuatFromRPY(math.Pi, 0, 0), QuatFromRPY(0.3, -0.2, 1.1), QuatFromRPY(0, math.Pi/2, 0)} {
		got := QuatFromMatrix(q.Matrix())
		if got.W < 0 || !sameRotation(got, q, 1e-12) {
			t.Errorf("QuatFromMatrix(Matrix(%v)) = %v", q, got)
		}
	}
	for range 500 {
		q := randomQuat(rng)
		v := r3.Vec{X: rng.NormFloat64(), Y: rng.NormFloat64(), Z: rng.NormFloat64()}
		if !vecNear(matVec(q.Matrix(), v), q.Rotate(v), 1e-12) {
			t.Fatal("Matrix·v != Rotate(v)")
		}
		if !vecNear(q.Rotate(v), r3.Rotation(q.Number()).Rotate(v), 1e-12) {
			t.Fatal("Rotate disagrees with gonum's r3.Rotation")
		}
		if got := QuatFromMatrix(q.Matrix()); got.W < 0 || !sameRotation(got, q, 1e-12) {
			t.Fatalf("QuatFromMatrix(Matrix(%v)) = %v", q, got)
		}
	}
}
