package perception

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFourier3DReference(t *testing.T) {
	p := [3]float32{0.25, -0.5, 1}
	dst := make([]float32, FourierDim(2))
	Fourier3D(p, 2, dst)
	// x: sin(π/4), cos(π/4), sin(π/2), cos(π/2); y: sin(-π/2), cos(-π/2), sin(-π), cos(-π); z: sin π, cos π, sin 2π, cos 2π.
	s := math.Sqrt2 / 2
	want := []float64{s, s, 1, 0, -1, 0, 0, -1, 0, -1, 0, 1}
	for i := range want {
		if !near(float64(dst[i]), want[i], 1e-6) {
			t.Fatalf("Fourier3D = %v want %v", dst, want)
		}
	}
	// Batch and float64 reference at higher frequencies.
	rng := rand.New(rand.NewPCG(15, 16))
	const L = 10
	pts := make([]float32, 3*50)
	for i := range pts {
		pts[i] = rng.Float32()*4 - 2
	}
	out := make([]float32, 50*FourierDim(L))
	if err := Fourier3DBatch(pts, L, out); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		for a := range 3 {
			for k := range L {
				ang := math.Ldexp(math.Pi, k) * float64(pts[3*i+a])
				o := out[i*6*L+a*2*L+2*k:]
				if !near(float64(o[0]), math.Sin(ang), 1e-6) || !near(float64(o[1]), math.Cos(ang), 1e-6) {
					t.Fatalf("point %d axis %d k %d: %v,%v want %v,%v", i, a, k, o[0], o[1], math.Sin(ang), math.Cos(ang))
				}
			}
		}
	}
	if err := Fourier3DBatch(pts[:4], L, out); err == nil {
		t.Fatal("ragged points accepted")
	}
}

func TestEERelativeEncoding(t *testing.T) {
	pts := []float32{1.25, 0.5, 0, 0.5, 0.5, 0.5}
	ee := [3]float32{0.5, 0.5, 0.5}
	got := make([]float32, 2*FourierDim(3))
	if err := EERelativeEncoding(pts, ee, 3, got); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 2*FourierDim(3))
	Fourier3D([3]float32{0.75, 0, -0.5}, 3, want)
	Fourier3D([3]float32{0, 0, 0}, 3, want[FourierDim(3):])
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	// At the end effector itself: all sines 0, all cosines 1.
	for i, v := range got[FourierDim(3):] {
		if want := float32(i % 2); v != want {
			t.Fatalf("γ(0)[%d] = %v", i, v)
		}
	}
}

func TestRoPE3DAngles(t *testing.T) {
	r, err := NewRoPE3D(12) // 6 pairs: 2 per axis, d_a = 4
	if err != nil {
		t.Fatal(err)
	}
	if r.AxisDims() != [3]int{4, 4, 4} {
		t.Fatalf("AxisDims = %v", r.AxisDims())
	}
	got := make([]float32, 6)
	r.Angles([3]float32{1, 2, 3}, got)
	// θ = p_a / 10000^(2i/4): i=0 -> p, i=1 -> p/100.
	want := []float32{1, 0.01, 2, 0.02, 3, 0.03}
	for i := range want {
		if !near(float64(got[i]), float64(want[i]), 1e-7) {
			t.Fatalf("angles = %v want %v", got, want)
		}
	}
	r14, _ := NewRoPE3D(14) // 7 pairs -> 3,2,2
	if r14.AxisDims() != [3]int{6, 4, 4} {
		t.Fatalf("AxisDims(14) = %v", r14.AxisDims())
	}
	for _, bad := range []int{4, 7, 0} {
		if _, err := NewRoPE3D(bad); err == nil {
			t.Fatalf("dim %d accepted", bad)
		}
	}
	// Apply on a unit pair vector is (cos θ, sin θ).
	v := []float32{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0}
	r.Apply(v, [3]float32{1, 2, 3})
	for j, th := range want {
		if !near(float64(v[2*j]), math.Cos(float64(th)), 1e-6) || !near(float64(v[2*j+1]), math.Sin(float64(th)), 1e-6) {
			t.Fatalf("Apply = %v", v)
		}
	}
}

func dot32(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// Properties: rotation preserves the norm; q·k depends only on relative position.
func TestRoPE3DProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, dim := range []int{6, 12, 32, 64, 70} {
		r, err := NewRoPE3DWith(dim, 10000, 10)
		if err != nil {
			t.Fatal(err)
		}
		for range 100 {
			q, k := make([]float32, dim), make([]float32, dim)
			for i := range q {
				q[i], k[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			pq := [3]float32{rng.Float32()*2 - 1, rng.Float32()*2 - 1, rng.Float32()}
			pk := [3]float32{rng.Float32()*2 - 1, rng.Float32()*2 - 1, rng.Float32()}
			off := [3]float32{rng.Float32() - 0.5, rng.Float32() - 0.5, rng.Float32() - 0.5}
			q1, k1, q2, k2 := slices.Clone(q), slices.Clone(k), slices.Clone(q), slices.Clone(k)
			r.Apply(q1, pq)
			r.Apply(k1, pk)
			r.Apply(q2, [3]float32{pq[0] + off[0], pq[1] + off[1], pq[2] + off[2]})
			r.Apply(k2, [3]float32{pk[0] + off[0], pk[1] + off[1], pk[2] + off[2]})
			if n0, n1 := math.Sqrt(dot32(q, q)), math.Sqrt(dot32(q1, q1)); !near(n0, n1, 1e-5*n0) {
				t.Fatalf("dim %d: norm %v -> %v", dim, n0, n1)
			}
			if d1, d2 := dot32(q1, k1), dot32(q2, k2); !near(d1, d2, 1e-4*(1+math.Abs(d1))) {
				t.Fatalf("dim %d: q·k %v changed to %v under a common translation", dim, d1, d2)
			}
		}
	}
}

func TestApplyRoPE3DMatchesTable(t *testing.T) {
	r, _ := NewRoPE3D(18)
	v1 := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	v2 := slices.Clone(v1)
	p := [3]float32{0.3, -1.2, 2.5}
	r.Apply(v1, p)
	ApplyRoPE3D(v2, p)
	for i := range v1 {
		if !near(float64(v1[i]), float64(v2[i]), 1e-6) {
			t.Fatalf("Apply %v vs ApplyRoPE3D %v", v1, v2)
		}
	}
	angles := make([]float32, 2*9)
	if err := r.AnglesBatch([]float32{0, 0, 0, 1, 1, 1}, angles); err != nil {
		t.Fatal(err)
	}
	for _, a := range angles[:9] {
		if a != 0 {
			t.Fatalf("angles at origin = %v", angles[:9])
		}
	}
}

func BenchmarkRoPE3DApply(b *testing.B) {
	r, _ := NewRoPE3D(64)
	v := make([]float32, 64)
	for i := range v {
		v[i] = float32(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Apply(v, [3]float32{0.1, 0.2, 0.3})
	}
}
