package losses

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func goBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := backends.NewWithConfig("go:ops_sequential") // parallel op execution can deadlock on 2 cores
	if err != nil {
		t.Fatalf("pure-Go backend: %v", err)
	}
	return b
}

// run evaluates fn on float32 inputs given as (data, dims) pairs and returns
// the flat float32 result.
func run(t testing.TB, b backends.Backend, fn func(in []*Node) *Node, inputs ...*tensors.Tensor) []float32 {
	t.Helper()
	args := make([]any, len(inputs))
	for i, x := range inputs {
		args[i] = x
	}
	out, err := ExecOnce(b, func(in []*Node) *Node { return fn(in) }, args...)
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	return tensors.MustCopyFlatData[float32](out)
}

func tf(data []float64, dims ...int) *tensors.Tensor {
	f := make([]float32, len(data))
	for i, v := range data {
		f[i] = float32(v)
	}
	if len(dims) == 0 {
		dims = []int{len(data)}
	}
	return tensors.FromFlatDataAndDimensions(f, dims...)
}

func near(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.7g, want %.7g", name, i, got[i], want[i])
		}
	}
}

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func focal64(x, t, alpha, gamma float64) float64 {
	p := sigmoid64(x)
	ce := -(t*math.Log(p) + (1-t)*math.Log(1-p))
	pt := p*t + (1-p)*(1-t)
	at := alpha*t + (1-alpha)*(1-t)
	return at * math.Pow(1-pt, gamma) * ce
}

func TestSigmoidFocal(t *testing.T) {
	b := goBackend(t)
	xs := []float64{-3, -0.5, 0, 0.7, 2.5, 6}
	ts := []float64{0, 1, 1, 0, 1, 0}
	for _, tc := range []struct{ alpha, gamma float64 }{{0.25, 2}, {0.25, 0}, {0.5, 1}, {0.25, 1.5}} {
		got := run(t, b, func(in []*Node) *Node { return SigmoidFocal(in[0], in[1], tc.alpha, tc.gamma) }, tf(xs), tf(ts))
		want := make([]float64, len(xs))
		for i := range xs {
			want[i] = focal64(xs[i], ts[i], tc.alpha, tc.gamma)
		}
		near(t, "focal", got, want, 1e-5)
	}
}

func TestBCEWithLogitsLargeLogitsFinite(t *testing.T) {
	b := goBackend(t)
	got := run(t, b, func(in []*Node) *Node { return BCEWithLogits(in[0], in[1]) }, tf([]float64{-80, 80, 80}), tf([]float64{1, 0, 1}))
	near(t, "bce", got, []float64{80, 80, 0}, 1e-5)
}

func TestL1AndMaskedMean(t *testing.T) {
	b := goBackend(t)
	pred := tf([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	target := tf([]float64{0, 2, 5, 4, 0, 0}, 2, 3)
	for _, tc := range []struct {
		name string
		mask []float64
		want float64
	}{
		{"all", []float64{1, 1}, (1 + 0 + 2 + 0 + 5 + 6) / 6.0},
		{"first", []float64{1, 0}, 3 / 3.0},
		{"none", []float64{0, 0}, 0},
	} {
		got := run(t, b, func(in []*Node) *Node { return MaskedMean(L1(in[0], in[1]), in[2]) }, pred, target, tf(tc.mask, 2))
		near(t, tc.name, got, []float64{tc.want}, 1e-6)
	}
}

func giou64(a, b [4]float64) float64 {
	ax0, ay0, ax1, ay1 := a[0]-a[2]/2, a[1]-a[3]/2, a[0]+a[2]/2, a[1]+a[3]/2
	bx0, by0, bx1, by1 := b[0]-b[2]/2, b[1]-b[3]/2, b[0]+b[2]/2, b[1]+b[3]/2
	iw := math.Max(0, math.Min(ax1, bx1)-math.Max(ax0, bx0))
	ih := math.Max(0, math.Min(ay1, by1)-math.Max(ay0, by0))
	inter := iw * ih
	union := a[2]*a[3] + b[2]*b[3] - inter
	c := (math.Max(ax1, bx1) - math.Min(ax0, bx0)) * (math.Max(ay1, by1) - math.Min(ay0, by0))
	return inter/union - (c-union)/c
}

func TestGIoU(t *testing.T) {
	b := goBackend(t)
	cases := []struct {
		name string
		a, b [4]float64
		want float64 // hand-computed where simple; else NaN → use giou64
	}{
		{"identical", [4]float64{0.5, 0.5, 0.2, 0.4}, [4]float64{0.5, 0.5, 0.2, 0.4}, 1},
		{"half-overlap", [4]float64{0.5, 0.5, 0.2, 0.2}, [4]float64{0.6, 0.5, 0.2, 0.2}, 1.0 / 3.0},
		// Disjoint boxes x∈[0.1,0.3] and [0.5,0.7]: IoU 0, enclosing 0.6x0.2 = 0.12, union 0.08.
		{"disjoint", [4]float64{0.2, 0.5, 0.2, 0.2}, [4]float64{0.6, 0.5, 0.2, 0.2}, 0 - (0.12-0.08)/0.12},
		{"contained", [4]float64{0.5, 0.5, 0.4, 0.4}, [4]float64{0.5, 0.5, 0.2, 0.2}, 0.25},
		{"general", [4]float64{0.31, 0.62, 0.25, 0.13}, [4]float64{0.40, 0.55, 0.18, 0.3}, math.NaN()},
	}
	var as, bs, want []float64
	for _, c := range cases {
		as = append(as, c.a[:]...)
		bs = append(bs, c.b[:]...)
		w := c.want
		if math.IsNaN(w) {
			w = giou64(c.a, c.b)
		} else if d := math.Abs(w - giou64(c.a, c.b)); d > 1e-9 {
			t.Fatalf("%s: hand value %g disagrees with reference %g", c.name, w, giou64(c.a, c.b))
		}
		want = append(want, w)
	}
	got := run(t, b, func(in []*Node) *Node { return GIoU(in[0], in[1]) }, tf(as, len(cases), 4), tf(bs, len(cases), 4))
	near(t, "giou", got, want, 1e-4)
}

// Property: GIoU is symmetric and lies in (-1, 1].
func TestGIoUSymmetricBounded(t *testing.T) {
	b := goBackend(t)
	const n = 64
	as, bs := make([]float64, 4*n), make([]float64, 4*n)
	seed := uint64(7)
	rnd := func() float64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return float64(seed>>11) / (1 << 53)
	}
	for i := range as {
		as[i], bs[i] = 0.05+0.9*rnd(), 0.05+0.9*rnd()
	}
	ab := run(t, b, func(in []*Node) *Node { return GIoU(in[0], in[1]) }, tf(as, n, 4), tf(bs, n, 4))
	ba := run(t, b, func(in []*Node) *Node { return GIoU(in[0], in[1]) }, tf(bs, n, 4), tf(as, n, 4))
	for i := range ab {
		if math.Abs(float64(ab[i]-ba[i])) > 1e-5 || ab[i] <= -1 || ab[i] > 1+1e-6 {
			t.Fatalf("giou[%d]: ab=%g ba=%g", i, ab[i], ba[i])
		}
	}
}

func TestDiceAndMaskBCE(t *testing.T) {
	b := goBackend(t)
	logits := []float64{2, -1, 0.5, -3, 1, 1, -2, 0}
	targets := []float64{1, 0, 1, 0, 0, 1, 0, 1}
	var wantDice, wantBCE []float64
	for m := 0; m < 2; m++ {
		var pt, ps, ts, bce float64
		for i := 4 * m; i < 4*m+4; i++ {
			p := sigmoid64(logits[i])
			pt += p * targets[i]
			ps += p
			ts += targets[i]
			bce += -(targets[i]*math.Log(p) + (1-targets[i])*math.Log(1-p))
		}
		wantDice = append(wantDice, 1-(2*pt+1)/(ps+ts+1))
		wantBCE = append(wantBCE, bce/4)
	}
	got := run(t, b, func(in []*Node) *Node { return Dice(in[0], in[1], 1, 2) }, tf(logits, 2, 2, 2), tf(targets, 2, 2, 2))
	near(t, "dice", got, wantDice, 1e-5)
	got = run(t, b, func(in []*Node) *Node { return MaskBCE(in[0], in[1], 1, 2) }, tf(logits, 2, 2, 2), tf(targets, 2, 2, 2))
	near(t, "maskbce", got, wantBCE, 1e-5)
}

func TestSmoothL1(t *testing.T) {
	b := goBackend(t)
	pred := []float64{0, 0.5, -0.2, 3, -2}
	target := []float64{0, 0, 0, 1, 0}
	// beta=1: d=0→0, 0.5→0.125, 0.2→0.02, 2→1.5, 2→1.5
	got := run(t, b, func(in []*Node) *Node { return SmoothL1(in[0], in[1], 1) }, tf(pred), tf(target))
	near(t, "smoothl1", got, []float64{0, 0.125, 0.02, 1.5, 1.5}, 1e-6)
}

func TestCosineDistance(t *testing.T) {
	b := goBackend(t)
	pred := []float64{1, 0, 0, 1, 1, 0, 2, 0, 0}
	target := []float64{0, 1, 0, 1, 1, 0, -1, 0, 0}
	got := run(t, b, func(in []*Node) *Node { return CosineDistance(in[0], in[1]) }, tf(pred, 3, 3), tf(target, 3, 3))
	near(t, "cos", got, []float64{1, 0, 2}, 1e-5)
}

func varianceHinge64(x [][]float64, mask []float64, gamma float64) float64 {
	c := len(x[0])
	var n float64
	for _, m := range mask {
		n += m
	}
	var total float64
	for j := 0; j < c; j++ {
		var mean float64
		for i := range x {
			mean += mask[i] * x[i][j]
		}
		mean /= n
		var v float64
		for i := range x {
			d := x[i][j] - mean
			v += mask[i] * d * d
		}
		v /= n
		total += math.Max(0, gamma-math.Sqrt(v+1e-4))
	}
	return total / float64(c)
}

func TestVarianceHinge(t *testing.T) {
	b := goBackend(t)
	x := [][]float64{{1, 0.1, 5}, {1, -0.1, -5}, {1, 0.3, 0}, {9, 9, 9}}
	mask := []float64{1, 1, 1, 0}
	var flat []float64
	for _, r := range x {
		flat = append(flat, r...)
	}
	for _, gamma := range []float64{0, 1, 2} {
		got := run(t, b, func(in []*Node) *Node { return VarianceHinge(in[0], in[1], gamma) }, tf(flat, 4, 3), tf(mask, 4))
		near(t, "varhinge", got, []float64{varianceHinge64(x, mask, gamma)}, 1e-5)
	}
}

func TestPredictorTotal(t *testing.T) {
	b := goBackend(t)
	pred := []float64{1, 2, 0.5, -1, 0, 3}
	target := []float64{1, 1, 0.5, 1, 2, 3}
	mask := []float64{1, 1, 0}
	sl1 := (0 + 0.5 + 0 + 1.5) / 4.0
	cos := func(a, b []float64) float64 {
		return 1 - (a[0]*b[0]+a[1]*b[1])/(math.Hypot(a[0], a[1])*math.Hypot(b[0], b[1]))
	}
	cosine := (cos(pred[0:2], target[0:2]) + cos(pred[2:4], target[2:4])) / 2
	vh := varianceHinge64([][]float64{{1, 2}, {0.5, -1}, {0, 3}}, mask, 1)
	got := run(t, b, func(in []*Node) *Node { return Predictor(in[0], in[1], in[2], 1, 1).Total() },
		tf(pred, 3, 2), tf(target, 3, 2), tf(mask, 3))
	near(t, "predictor", got, []float64{sl1 + cosine + vh}, 1e-5)
}

func TestActionLosses(t *testing.T) {
	b := goBackend(t)
	pred := tf([]float64{1, 2, 3, 4}, 1, 2, 2)
	target := tf([]float64{0, 0, 3, 6}, 1, 2, 2)
	mask := tf([]float64{1, 1}, 1, 2)
	got := run(t, b, func(in []*Node) *Node { return ActionL1(in[0], in[1], in[2]) }, pred, target, mask)
	near(t, "actionl1", got, []float64{(1 + 2 + 0 + 2) / 4.0}, 1e-6)
	got = run(t, b, func(in []*Node) *Node { return FlowMatching(in[0], in[1], in[2]) }, pred, target, mask)
	near(t, "flow", got, []float64{(1 + 4 + 0 + 4) / 4.0}, 1e-6)
	got = run(t, b, func(in []*Node) *Node { return ActionL1(in[0], in[1], in[2]) }, pred, target, tf([]float64{0, 1}, 1, 2))
	near(t, "actionl1-masked", got, []float64{1}, 1e-6)
}

// Gradient of the focal loss must be finite at extreme logits (training
// can push objectness far out).
func TestFocalGradientFinite(t *testing.T) {
	b := goBackend(t)
	got := run(t, b, func(in []*Node) *Node {
		l := ReduceAllSum(SigmoidFocal(in[0], in[1], 0.25, 2))
		return Gradient(l, in[0])[0]
	}, tf([]float64{-60, 60, 0, 60}), tf([]float64{1, 0, 1, 1}))
	for i, g := range got {
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			t.Fatalf("grad[%d]=%g", i, g)
		}
	}
}

func BenchmarkGIoU(b *testing.B) {
	be := goBackend(b)
	const n = 4096
	data := make([]float64, 4*n)
	for i := range data {
		data[i] = 0.1 + 0.8*float64(i%97)/97
	}
	a, c := tf(data, n, 4), tf(data[4:], n-1, 4)
	a = tf(data[:4*(n-1)], n-1, 4)
	exec := MustNewExec(be, func(x, y *Node) *Node { return ReduceAllSum(GIoU(x, y)) })
	b.ReportAllocs()
	for b.Loop() {
		exec.MustExec(a, c)
	}
}
