package perception

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func randomRigid(rng *rand.Rand) Rigid {
	for {
		r, err := RigidFromQuaternion(rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(),
			[3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
		if err == nil {
			return r
		}
	}
}

func rigidNear(a, b Rigid, tol float64) bool {
	for i := range 9 {
		if !near(a.R[i], b.R[i], tol) {
			return false
		}
	}
	for i := range 3 {
		if !near(a.T[i], b.T[i], tol) {
			return false
		}
	}
	return true
}

func TestRigidFromQuaternionTable(t *testing.T) {
	s := math.Sqrt2 / 2
	tests := []struct {
		name    string
		q       [4]float64
		p, want [3]float64
		wantErr bool
	}{
		{"identity", [4]float64{0, 0, 0, 1}, [3]float64{1, 2, 3}, [3]float64{1, 2, 3}, false},
		{"z 90deg", [4]float64{0, 0, s, s}, [3]float64{1, 0, 0}, [3]float64{0, 1, 0}, false},
		{"x 90deg unnormalised", [4]float64{2, 0, 0, 2}, [3]float64{0, 1, 0}, [3]float64{0, 0, 1}, false},
		{"y 180deg", [4]float64{0, 1, 0, 0}, [3]float64{1, 0, 1}, [3]float64{-1, 0, -1}, false},
		{"zero quaternion", [4]float64{0, 0, 0, 0}, [3]float64{}, [3]float64{}, true},
		{"NaN quaternion", [4]float64{math.NaN(), 0, 0, 1}, [3]float64{}, [3]float64{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := RigidFromQuaternion(tc.q[0], tc.q[1], tc.q[2], tc.q[3], [3]float64{0.5, 0, 0})
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidTransform) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := r.Apply(tc.p)
			want := [3]float64{tc.want[0] + 0.5, tc.want[1], tc.want[2]}
			for i := range 3 {
				if !near(got[i], want[i], 1e-12) {
					t.Fatalf("Apply = %v want %v", got, want)
				}
			}
		})
	}
}

func TestRigidIdentities(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	id := Identity()
	for range 500 {
		a, b, c := randomRigid(rng), randomRigid(rng), randomRigid(rng)
		if !rigidNear(a.Compose(a.Inverse()), id, 1e-12) || !rigidNear(a.Inverse().Compose(a), id, 1e-12) {
			t.Fatal("a∘a⁻¹ != I")
		}
		if !rigidNear(a.Compose(b).Compose(c), a.Compose(b.Compose(c)), 1e-12) {
			t.Fatal("compose not associative")
		}
		if !rigidNear(a.Compose(b).Inverse(), b.Inverse().Compose(a.Inverse()), 1e-12) {
			t.Fatal("(ab)⁻¹ != b⁻¹a⁻¹")
		}
		p := [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		lhs, rhs := a.Compose(b).Apply(p), a.Apply(b.Apply(p))
		for i := range 3 {
			if !near(lhs[i], rhs[i], 1e-12) {
				t.Fatal("(ab)p != a(bp)")
			}
		}
		q := a.Quaternion()
		a2, err := RigidFromQuaternion(q[0], q[1], q[2], q[3], a.T)
		if err != nil || !rigidNear(a, a2, 1e-12) {
			t.Fatalf("quaternion round trip: %v", err)
		}
		m := a.Matrix3x4()
		var m64 [12]float64
		for i, v := range m {
			m64[i] = float64(v)
		}
		a3, err := RigidFromMatrix3x4(m64)
		if err != nil || !rigidNear(a, a3, 1e-6) {
			t.Fatalf("matrix round trip: %v", err)
		}
	}
}

func TestRigidFromMatrix3x4Refuses(t *testing.T) {
	tests := []struct {
		name string
		m    [12]float64
	}{
		{"scaled", [12]float64{2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0}},
		{"reflection", [12]float64{-1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}},
		{"sheared", [12]float64{1, 0.1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}},
		{"NaN", [12]float64{1, 0, 0, math.NaN(), 0, 1, 0, 0, 0, 0, 1, 0}},
	}
	for _, tc := range tests {
		if _, err := RigidFromMatrix3x4(tc.m); !errors.Is(err, ErrInvalidTransform) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	r, err := RigidFromMatrix3x4([12]float64{0, -1, 0, 1, 1, 0, 0, 2, 0, 0, 1, 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Apply([3]float64{1, 0, 0}); got != [3]float64{1, 3, 3} {
		t.Fatalf("Apply = %v", got)
	}
	if got := r.Matrix3x4(); got != [12]float32{0, -1, 0, 1, 1, 0, 0, 2, 0, 0, 1, 3} {
		t.Fatalf("Matrix3x4 = %v", got)
	}
}

// FuzzRigidFromQuaternion: extrinsics arrive from /tf; any accepted transform
// must be a proper rotation that inverts cleanly.
func FuzzRigidFromQuaternion(f *testing.F) {
	f.Add(0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 3.0)
	f.Add(1e-200, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(1e300, 1e300, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, x, y, z, w, tx, ty, tz float64) {
		r, err := RigidFromQuaternion(x, y, z, w, [3]float64{tx, ty, tz})
		if err != nil {
			return
		}
		if d := det3(r.R); !near(d, 1, 1e-9) {
			t.Fatalf("det %v for q (%v,%v,%v,%v)", d, x, y, z, w)
		}
		id := r.Compose(r.Inverse())
		for i := range 9 {
			if !near(id.R[i], Identity().R[i], 1e-9) {
				t.Fatalf("R Rᵀ != I: %v", id.R)
			}
		}
	})
}

func TestLookAt(t *testing.T) {
	// Looking along base +x from (0,0,1): optical z = +x, x = -y (right), y = -z (down).
	r, err := LookAt([3]float64{0, 0, 1}, [3]float64{5, 0, 1}, [3]float64{0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := Rigid{R: [9]float64{0, 0, 1, -1, 0, 0, 0, -1, 0}, T: [3]float64{0, 0, 1}}
	if !rigidNear(r, want, 1e-12) {
		t.Fatalf("LookAt = %+v want %+v", r, want)
	}
	// The target projects to the principal point of any camera.
	eye, target := [3]float64{0.1, -0.4, 0.7}, [3]float64{0.5, 0.2, 0.05}
	r, err = LookAt(eye, target, [3]float64{0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	cam := Pinhole{Fx: 200, Fy: 200, Cx: 112, Cy: 112, Width: 224, Height: 224}
	u, v, ok := cam.Project(r.Inverse().Apply(target))
	if !ok || !near(u, 112, 1e-9) || !near(v, 112, 1e-9) {
		t.Fatalf("target projects to %v,%v,%v", u, v, ok)
	}
	if d := det3(r.R); !near(d, 1, 1e-12) {
		t.Fatalf("det = %v", d)
	}
	if _, err := LookAt(eye, eye, [3]float64{0, 0, 1}); !errors.Is(err, ErrInvalidTransform) {
		t.Fatalf("coincident err = %v", err)
	}
	if _, err := LookAt([3]float64{0, 0, 1}, [3]float64{0, 0, 0}, [3]float64{0, 0, 1}); !errors.Is(err, ErrInvalidTransform) {
		t.Fatalf("parallel err = %v", err)
	}
}
