package perception

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// visibleCylinder samples the camera-facing half of a vertical cylinder
// (axis through (ax, 0), radius r, height 0..h) seen from -x, plus outliers.
func visibleCylinder(rng *rand.Rand, ax, r, h float64, n, outliers int) []float32 {
	pts := make([]float32, 0, 3*(n+outliers))
	for range n {
		y := (2*rng.Float64() - 1) * r
		x := ax - math.Sqrt(r*r-y*y)
		pts = append(pts, float32(x), float32(y), float32(rng.Float64()*h))
	}
	for i := range outliers {
		pts = append(pts, float32(ax+1+float64(i)), 2, 1)
	}
	return pts
}

func TestAxisReflectionCylinder(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	const ax, r = 0.5, 0.04
	obs := visibleCylinder(rng, ax, r, 0.1, 4000, 0)
	comp := AxisReflection{}.Complete(obs, [3]float32{0, 0, 0.3}, nil)
	if len(comp) != len(obs) {
		t.Fatalf("completed %d values for %d", len(comp), len(obs))
	}
	// The reflected points lie on the hidden back half, near the true surface.
	var sumErr float64
	for i := range len(comp) / 3 {
		x, y, z := float64(comp[3*i]), float64(comp[3*i+1]), comp[3*i+2]
		if x < ax-0.005 || z != obs[3*i+2] {
			t.Fatalf("point %d (%v,%v,%v) not on the back half / height changed", i, x, y, z)
		}
		sumErr += math.Abs(math.Hypot(x-ax, y) - r)
	}
	if mean := sumErr / float64(len(comp)/3); mean > 0.1*r {
		t.Fatalf("mean radial error %v m exceeds 10%% of the radius", mean)
	}
	// Looking straight down there is no horizontal direction: the axis is the centroid.
	top := AxisReflection{}.Complete([]float32{1, 0, 0, 3, 0, 0}, [3]float32{2, 0, 5}, nil)
	if top[0] != 3 || top[3] != 1 {
		t.Fatalf("top-down reflection = %v", top)
	}
}

func TestCompletionTargetsCylinder(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	const ax, r = 0.5, 0.04
	obs := visibleCylinder(rng, ax, r, 0.1, 3000, 8)
	g, err := NewCompletionTargets(CompletionConfig{Eps: 0.01, MinPts: 5})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 3*5)
	n, err := g.Generate(obs, [3]float32{0, 0, 0.3}, 5, dst)
	if err != nil || n != 5 {
		t.Fatalf("n = %d err = %v", n, err)
	}
	for i := range n {
		x, y, z := float64(dst[3*i]), float64(dst[3*i+1]), float64(dst[3*i+2])
		// Occluded: behind the axis, away from the silhouette, on the object, never an outlier.
		if x < ax || math.Abs(math.Hypot(x-ax, y)-r) > 0.3*r || z < 0 || z > 0.1 {
			t.Fatalf("query %d = (%v,%v,%v) is not on the occluded back", i, x, y, z)
		}
	}
	// Deterministic: same input, same queries.
	again := make([]float32, 15)
	if m, _ := g.Generate(obs, [3]float32{0, 0, 0.3}, 5, again); m != n || [15]float32(again) != [15]float32(dst) {
		t.Fatal("Generate is not deterministic")
	}
	// Too few points for k queries, only noise, nothing at all, bad args.
	if m, err := g.Generate(obs[:3*12], [3]float32{0, 0, 0.3}, 5, dst); err != nil || m > 5 {
		t.Fatalf("few points: %d %v", m, err)
	}
	if m, err := g.Generate([]float32{0, 0, 0, 5, 5, 5}, [3]float32{}, 5, dst); err != nil || m != 0 {
		t.Fatalf("noise only: %d %v", m, err)
	}
	if m, err := g.Generate(nil, [3]float32{}, 5, dst); err != nil || m != 0 {
		t.Fatalf("empty: %d %v", m, err)
	}
	if _, err := g.Generate(obs, [3]float32{}, 6, dst); !errors.Is(err, ErrBadShape) {
		t.Fatalf("short dst err = %v", err)
	}
	if _, err := NewCompletionTargets(CompletionConfig{KeepFraction: 2}); !errors.Is(err, ErrBadShape) {
		t.Fatalf("bad config err = %v", err)
	}
}

func BenchmarkCompletionTargets(b *testing.B) {
	rng := rand.New(rand.NewPCG(39, 40))
	obs := visibleCylinder(rng, 0.5, 0.04, 0.1, 2000, 8)
	g, _ := NewCompletionTargets(CompletionConfig{Eps: 0.01})
	dst := make([]float32, 15)
	if _, err := g.Generate(obs, [3]float32{0, 0, 0.3}, 5, dst); err != nil { // warm the buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Generate(obs, [3]float32{0, 0, 0.3}, 5, dst); err != nil {
			b.Fatal(err)
		}
	}
}
