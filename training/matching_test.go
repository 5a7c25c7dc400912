package training

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func giouRef(a, b []float64) float64 {
	ax0, ay0, ax1, ay1 := a[0]-a[2]/2, a[1]-a[3]/2, a[0]+a[2]/2, a[1]+a[3]/2
	bx0, by0, bx1, by1 := b[0]-b[2]/2, b[1]-b[3]/2, b[0]+b[2]/2, b[1]+b[3]/2
	iw := math.Max(0, math.Min(ax1, bx1)-math.Max(ax0, bx0))
	ih := math.Max(0, math.Min(ay1, by1)-math.Max(ay0, by0))
	inter := iw * ih
	union := a[2]*a[3] + b[2]*b[3] - inter
	c := (math.Max(ax1, bx1) - math.Min(ax0, bx0)) * (math.Max(ay1, by1) - math.Min(ay0, by0))
	return inter/union - (c-union)/c
}

// costRef is the float64 matching cost of matchCost's doc comment.
func costRef(w LossWeights, logit float64, boxes [][]float64, ref []float64, gtBoxes [][]float64, vis []float64, cent []float64) float64 {
	p := 1 / (1 + math.Exp(-logit))
	pos := w.FocalAlpha * math.Pow(1-p, w.FocalGamma) * -math.Log(p+1e-8)
	neg := (1 - w.FocalAlpha) * math.Pow(p, w.FocalGamma) * -math.Log(1-p+1e-8)
	c := w.Focal * (pos - neg)
	var sum, n float64
	for v := range boxes {
		if vis[v] == 0 {
			continue
		}
		var l1 float64
		for k := range 4 {
			l1 += math.Abs(boxes[v][k] - gtBoxes[v][k])
		}
		sum += w.BoxL1*l1 - w.GIoU*giouRef(boxes[v], gtBoxes[v])
		n++
	}
	if n > 0 {
		c += sum / n
	}
	var d float64
	for k := range 3 {
		d += math.Abs(ref[k] - cent[k])
	}
	return c + w.Center3D*d
}

func TestMatchCostMatchesReference(t *testing.T) {
	const b, q, g, v = 2, 3, 2, 2
	r := rand.New(rand.NewPCG(5, 5))
	rnd := func(n int, lo, hi float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = lo + (hi-lo)*r.Float64()
		}
		return out
	}
	logits := rnd(b*q, -3, 3)
	boxes := rnd(b*q*v*4, 0.1, 0.5)
	refs := rnd(b*q*3, -0.5, 0.5)
	gtBoxes := rnd(b*g*v*4, 0.1, 0.5)
	vis := []float64{1, 0, 1, 1, 0, 0, 1, 1} // [B,G,V]; one instance visible nowhere
	cents := rnd(b*g*3, -0.5, 0.5)
	w := DefaultLossWeights()
	out := MustExecOnce(goBackend(t), func(p []*Node) *Node {
		return matchCost(w, p[0], p[1], p[2], p[3], p[4], p[5])
	}, tf32(logits, b, q), tf32(boxes, b, q, v, 4), tf32(refs, b, q, 3), tf32(gtBoxes, b, g, v, 4), tf32(vis, b, g, v), tf32(cents, b, g, 3))
	got := tensors.MustCopyFlatData[float32](out)
	for s := range b {
		for i := range q {
			for j := range g {
				var pb, gb [][]float64
				for vv := range v {
					pb = append(pb, boxes[((s*q+i)*v+vv)*4:][:4])
					gb = append(gb, gtBoxes[((s*g+j)*v+vv)*4:][:4])
				}
				want := costRef(w, logits[s*q+i], pb, refs[(s*q+i)*3:][:3], gb, vis[(s*g+j)*v:][:v], cents[(s*g+j)*3:][:3])
				if d := math.Abs(float64(got[(s*q+i)*g+j]) - want); d > 1e-4*(1+math.Abs(want)) {
					t.Errorf("C[%d,%d,%d] = %g, want %g", s, i, j, got[(s*q+i)*g+j], want)
				}
			}
		}
	}
}

func tf32(x []float64, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(f32(x), dims...)
}

// bruteMin is the minimal assignment cost of n columns to distinct rows.
func bruteMin(cost []float32, q, g, n int) float64 {
	best := math.Inf(1)
	used := make([]bool, q)
	var rec func(j int, acc float64)
	rec = func(j int, acc float64) {
		if j == n {
			best = math.Min(best, acc)
			return
		}
		for i := range q {
			if !used[i] {
				used[i] = true
				rec(j+1, acc+float64(cost[i*g+j]))
				used[i] = false
			}
		}
	}
	rec(0, 0)
	return best
}

// Property: the Matcher's one-hot assignment is a valid matching (each valid
// instance exactly once, each probe at most once, padding never) and optimal.
func TestMatcherOptimal(t *testing.T) {
	const b, q, g = 5, 6, 4
	r := rand.New(rand.NewPCG(9, 9))
	cost := make([]float32, b*q*g)
	for i := range cost {
		cost[i] = float32(r.Float64() * 10)
	}
	counts := []int{0, 1, 2, 4, 3}
	match := make([]float32, b*q*g)
	var m Matcher
	if err := m.Match(cost, b, q, g, counts, match); err != nil {
		t.Fatal(err)
	}
	for s := range b {
		var total float64
		for j := range g {
			var col float32
			for i := range q {
				col += match[(s*q+i)*g+j]
				total += float64(match[(s*q+i)*g+j] * cost[(s*q+i)*g+j])
			}
			if want := boolf(j < counts[s]); col != want {
				t.Fatalf("sample %d instance %d matched %v times", s, j, col)
			}
		}
		for i := range q {
			var row float32
			for j := range g {
				row += match[(s*q+i)*g+j]
			}
			if row > 1 {
				t.Fatalf("sample %d probe %d matched %v times", s, i, row)
			}
		}
		if want := bruteMin(cost[s*q*g:(s+1)*q*g], q, g, counts[s]); counts[s] > 0 && math.Abs(total-want) > 1e-4 {
			t.Fatalf("sample %d cost %g, optimum %g", s, total, want)
		}
	}
	if err := m.Match(cost, b, q, g, []int{0, 0, 0, 0, 5}, match); err == nil {
		t.Fatal("more instances than slots accepted")
	}
}

func BenchmarkMatcher(b *testing.B) {
	const n, q, g = 8, 20, 8
	cost := make([]float32, n*q*g)
	for i := range cost {
		cost[i] = float32(i*7919%1000) / 100
	}
	counts := []int{8, 5, 3, 8, 1, 0, 6, 7}
	match := make([]float32, len(cost))
	var m Matcher
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Match(cost, n, q, g, counts, match); err != nil {
			b.Fatal(err)
		}
	}
}
