package perception

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFPSHandComputed(t *testing.T) {
	// Points on a line: 0, 1, 2, 10, 11. From 0: farthest 11, then 2 (d=2 vs 1,1,1),
	// then ties at distance 1 between 1 (d to 0/2 =1) and 10 (d to 11 = 1): lowest index 1.
	pts := []float32{0, 0, 0, 1, 0, 0, 2, 0, 0, 10, 0, 0, 11, 0, 0}
	var s FarthestPointSampler
	idx := make([]int, 4)
	if err := s.Sample(pts, 4, 0, idx); err != nil {
		t.Fatal(err)
	}
	// After {0,11}: distances 1,2,1(10->11) -> pick 2 (x=5.. no: index 2 at x=2, d=2);
	// after {0,11,2}: 1 -> 1, 10 -> 1; tie -> index 1.
	if want := []int{0, 4, 2, 1}; !slices.Equal(idx, want) {
		t.Fatalf("idx = %v want %v", idx, want)
	}
	if err := s.Sample([]float32{0, 0, 0, float32(math.NaN()), 0, 0}, 1, 0, idx); !errors.Is(err, ErrBadShape) {
		t.Fatalf("NaN point err = %v", err)
	}
	if err := s.Sample([]float32{0, 0, 0, float32(math.Inf(1)), 0, 0}, 1, 0, idx); !errors.Is(err, ErrBadShape) {
		t.Fatalf("Inf point err = %v", err)
	}
	if err := s.Sample(pts, 6, 0, idx); !errors.Is(err, ErrBadShape) {
		t.Fatalf("k > n err = %v", err)
	}
	all := make([]int, 5)
	if err := s.Sample(pts, 5, 3, all); err != nil {
		t.Fatal(err)
	}
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	if !slices.Equal(sorted, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("k == n must pick every point once: %v", all)
	}
	out := make([]float32, 6)
	if err := GatherPoints(pts, []int{4, 1}, out); err != nil || !slices.Equal(out, []float32{11, 0, 0, 1, 0, 0}) {
		t.Fatalf("GatherPoints = %v %v", out, err)
	}
}

func minPairwise(pts []float32, idx []int) float64 {
	best := math.Inf(1)
	for a := range idx {
		for b := a + 1; b < len(idx); b++ {
			i, j := idx[a], idx[b]
			best = min(best, Distance3([3]float32(pts[3*i:3*i+3]), [3]float32(pts[3*j:3*j+3])))
		}
	}
	return best
}

// Property (Gonzalez 2-approximation): the covering radius of the FPS set is
// at most its minimum pairwise distance, and FPS spreads at least as well as
// random subsets of the same size.
func TestFPSSpread(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	var s FarthestPointSampler
	for trial := range 10 {
		n, k := 300+rng.IntN(300), 5+rng.IntN(30)
		pts := make([]float32, 3*n)
		for i := range pts {
			pts[i] = float32(rng.NormFloat64())
		}
		idx := make([]int, k)
		if err := s.Sample(pts, k, trial%n, idx); err != nil {
			t.Fatal(err)
		}
		sep := minPairwise(pts, idx)
		cover := 0.0
		for i := range n {
			d := math.Inf(1)
			for _, j := range idx {
				d = min(d, Distance3([3]float32(pts[3*i:3*i+3]), [3]float32(pts[3*j:3*j+3])))
			}
			cover = max(cover, d)
		}
		if cover > sep+1e-6 {
			t.Fatalf("covering radius %v exceeds FPS separation %v", cover, sep)
		}
		for range 20 {
			rnd := rng.Perm(n)[:k]
			if r := minPairwise(pts, rnd); r > sep+1e-6 {
				t.Fatalf("random subset separation %v beats FPS %v", r, sep)
			}
		}
	}
}

func BenchmarkFPS4096To256(b *testing.B) {
	rng := rand.New(rand.NewPCG(21, 22))
	pts := make([]float32, 3*4096)
	for i := range pts {
		pts[i] = rng.Float32()
	}
	idx := make([]int, 256)
	var s FarthestPointSampler
	if err := s.Sample(pts, 256, 0, idx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Sample(pts, 256, 0, idx); err != nil {
			b.Fatal(err)
		}
	}
}
