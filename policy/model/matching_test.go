package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vla3d/vla3d/perception"
)

func TestGIoU(t *testing.T) {
	cases := []struct {
		name string
		a, b [4]float64
		want float64
	}{
		{"identical", [4]float64{0.5, 0.5, 0.2, 0.2}, [4]float64{0.5, 0.5, 0.2, 0.2}, 1},
		// Half overlap along x: inter 0.02, union 0.06, hull 0.06 -> 1/3.
		{"half overlap", [4]float64{0.5, 0.5, 0.2, 0.2}, [4]float64{0.6, 0.5, 0.2, 0.2}, 1.0 / 3},
		// Disjoint, touching hull: inter 0, union 0.08, hull 0.2*0.6=0.12 -> -1/3.
		{"disjoint", [4]float64{0.2, 0.5, 0.2, 0.2}, [4]float64{0.6, 0.5, 0.2, 0.2}, -(0.12 - 0.08) / 0.12},
	}
	for _, c := range cases {
		if got := GIoU(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: GIoU = %v, want %v", c.name, got, c.want)
		}
	}
}

func randomBox(r *rand.Rand) [4]float64 {
	return [4]float64{0.2 + 0.6*r.Float64(), 0.2 + 0.6*r.Float64(), 0.05 + 0.3*r.Float64(), 0.05 + 0.3*r.Float64()}
}

// bruteForceMin enumerates every injective assignment of targets to probes.
func bruteForceMin(cost []float64, q, g int) float64 {
	best := math.Inf(1)
	used := make([]bool, q)
	var rec func(j int, acc float64)
	rec = func(j int, acc float64) {
		if j == g {
			best = math.Min(best, acc)
			return
		}
		for i := range q {
			if !used[i] {
				used[i] = true
				rec(j+1, acc+cost[i*g+j])
				used[i] = false
			}
		}
	}
	rec(0, 0)
	return best
}

// TestMatchCostWithHungarian checks that the matching cost, solved by
// perception's Hungarian, gives the brute-force optimum, and that a planted
// matching (probes that reproduce a permutation of the targets) is recovered.
func TestMatchCostWithHungarian(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h perception.Hungarian
	const views = 3
	for trial := range 30 {
		q, g := 2+r.IntN(4), 1+r.IntN(3)
		if g > q {
			g = q
		}
		targets := make([]InstanceTarget, g)
		for j := range targets {
			for range views {
				targets[j].Boxes = append(targets[j].Boxes, randomBox(r))
				targets[j].Visible = append(targets[j].Visible, r.Float64() < 0.7)
			}
			targets[j].Centroid = [3]float64{r.Float64(), r.Float64() - 0.5, r.Float64() * 0.3}
		}
		preds := make([]ProbePrediction, q)
		perm := r.Perm(q)
		for i := range preds {
			preds[i].Logit = r.NormFloat64()
			if j := perm[i]; j < g && trial%2 == 0 {
				// Planted: probe i reproduces target perm[i] exactly.
				preds[i].Boxes = append([][4]float64{}, targets[j].Boxes...)
				preds[i].Ref = targets[j].Centroid
				preds[i].Logit = 3
				continue
			}
			for range views {
				preds[i].Boxes = append(preds[i].Boxes, randomBox(r))
			}
			preds[i].Ref = [3]float64{r.Float64(), r.Float64() - 0.5, r.Float64() * 0.3}
		}
		cost := MatchCost(preds, targets, DefaultMatchWeights())
		rowToCol := make([]int, q)
		total, err := h.Solve(cost, q, g, rowToCol)
		if err != nil {
			t.Fatal(err)
		}
		if want := bruteForceMin(cost, q, g); math.Abs(total-want) > 1e-9 {
			t.Errorf("trial %d: Hungarian total %v, brute force %v", trial, total, want)
		}
		if trial%2 == 0 {
			for i, j := range rowToCol {
				if perm[i] < g && j != perm[i] {
					t.Errorf("trial %d: planted probe %d matched to %d, want %d", trial, i, j, perm[i])
				}
			}
		}
	}
}

// FuzzGIoU checks GIoU's laws on arbitrary boxes: symmetric, in [-1, 1],
// never above IoU, and 1 for a box with itself.
func FuzzGIoU(f *testing.F) {
	f.Add(0.5, 0.5, 0.2, 0.2, 0.6, 0.5, 0.2, 0.2)
	f.Add(0.1, 0.9, 0.05, 0.3, 0.9, 0.1, 0.5, 0.01)
	f.Fuzz(func(t *testing.T, ax, ay, aw, ah, bx, by, bw, bh float64) {
		for _, x := range []float64{ax, ay, aw, ah, bx, by, bw, bh} {
			if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e6 {
				return
			}
		}
		aw, ah, bw, bh = math.Abs(aw)+1e-3, math.Abs(ah)+1e-3, math.Abs(bw)+1e-3, math.Abs(bh)+1e-3
		a, b := [4]float64{ax, ay, aw, ah}, [4]float64{bx, by, bw, bh}
		g1, g2 := GIoU(a, b), GIoU(b, a)
		if math.Abs(g1-g2) > 1e-9 || g1 < -1-1e-9 || g1 > 1+1e-9 {
			t.Fatalf("GIoU(a,b)=%v GIoU(b,a)=%v", g1, g2)
		}
		if s := GIoU(a, a); math.Abs(s-1) > 1e-9 {
			t.Fatalf("GIoU(a,a)=%v", s)
		}
	})
}
