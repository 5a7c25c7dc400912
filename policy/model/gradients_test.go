package model

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestMatMulGradients checks the registered Dot/DotGeneral VJPs: for
// L = sum(W * f(A, B)) the gradients must equal the forward contractions
// dA = f_A(W, B) and dB = f_B(A, W), written out per equation.
func TestMatMulGradients(t *testing.T) {
	cases := []struct {
		eq, gradA, gradB string
		a, b             []int
	}{
		{"ij,jk->ik", "ik,jk->ij", "ij,ik->jk", []int{3, 4}, []int{4, 5}},
		{"bhqc,bhkc->bhqk", "bhqk,bhkc->bhqc", "bhqc,bhqk->bhkc", []int{2, 3, 4, 5}, []int{2, 3, 6, 5}},
		{"bhqk,bhkc->bhqc", "bhqc,bhkc->bhqk", "bhqk,bhqc->bhkc", []int{2, 2, 3, 4}, []int{2, 2, 4, 5}},
		{"bqvhkx,bvyxhc->bvhqkyc", "bvhqkyc,bvyxhc->bqvhkx", "bqvhkx,bvhqkyc->bvyxhc", []int{2, 3, 2, 2, 2, 4}, []int{2, 2, 3, 4, 2, 3}},
		{"bkq,bqd->bkd", "bkd,bqd->bkq", "bkq,bkd->bqd", []int{2, 3, 4}, []int{2, 4, 5}},
		{"ni,io->no", "no,io->ni", "ni,no->io", []int{6, 3}, []int{3, 2}},
		{"btv,vd->btd", "btd,vd->btv", "btv,btd->vd", []int{2, 3, 4}, []int{4, 5}},
		{"bvij,bqj->bqvi", "bqvi,bqj->bvij", "bvij,bqvi->bqj", []int{2, 3, 3, 3}, []int{2, 4, 3}},
	}
	r := rand.New(rand.NewPCG(5, 6))
	randT := func(dims []int) *tensors.Tensor {
		n := 1
		for _, d := range dims {
			n *= d
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(x, dims...)
	}
	for _, c := range cases {
		t.Run(c.eq, func(t *testing.T) {
			a, b := randT(c.a), randT(c.b)
			var w *tensors.Tensor
			exec, err := context.NewExec(testBackend(t), newTestContext(), func(_ *context.Context, a, b, w *Node) []*Node {
				y := Einsum(c.eq, a, b)
				loss := ReduceAllSum(Mul(y, w))
				grads := Gradient(loss, a, b)
				return []*Node{grads[0], grads[1], Einsum(c.gradA, w, b), Einsum(c.gradB, a, w)}
			})
			if err != nil {
				t.Fatal(err)
			}
			// Output shape of the einsum, for W.
			shapeExec, err := context.NewExec(testBackend(t), newTestContext(), func(_ *context.Context, a, b *Node) *Node { return Einsum(c.eq, a, b) })
			if err != nil {
				t.Fatal(err)
			}
			y, err := shapeExec.Exec1(a, b)
			if err != nil {
				t.Fatal(err)
			}
			w = randT(y.Shape().Dimensions)
			out, err := exec.Exec(a, b, w)
			if err != nil {
				t.Fatal(err)
			}
			for i, name := range []string{"dA", "dB"} {
				got := tensors.MustCopyFlatData[float32](out[i])
				want := tensors.MustCopyFlatData[float32](out[i+2])
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
				}
				for j := range got {
					if math.Abs(float64(got[j]-want[j])) > 1e-4*(1+math.Abs(float64(want[j]))) {
						t.Fatalf("%s[%d] = %v, want %v", name, j, got[j], want[j])
					}
				}
			}
		})
	}
}

// TestDotRank2Gradient covers the Dot (rank-2) VJP used by layers.Dense.
func TestDotRank2Gradient(t *testing.T) {
	a := [][]float32{{1, 2, 3}, {4, 5, 6}}
	b := [][]float32{{1, 0}, {2, 1}, {0, 3}}
	w := [][]float32{{1, -1}, {0.5, 2}}
	out := run1(t, func(_ *context.Context, p []*Node) []*Node {
		loss := ReduceAllSum(Mul(Dot(p[0], p[1]), p[2]))
		g := Gradient(loss, p[0], p[1])
		return []*Node{g[0], g[1]}
	}, a, b, w)
	// dA = W B^T, dB = A^T W.
	wantA := []float32{1, 1, -3, 0.5, 3, 6}
	wantB := []float32{3, 7, 4.5, 8, 6, 9}
	for i, want := range [][]float32{wantA, wantB} {
		got := tensors.MustCopyFlatData[float32](out[i])
		for j := range want {
			if math.Abs(float64(got[j]-want[j])) > 1e-5 {
				t.Errorf("grad %d [%d] = %v, want %v", i, j, got[j], want[j])
			}
		}
	}
}

// TestParseDotGeneralAxes guards the parse the fast VJP depends on (a
// failure would silently fall back to GoMLX's slow VJP).
func TestParseDotGeneralAxes(t *testing.T) {
	g := NewGraph(testBackend(t), "parse")
	a := Parameter(g, "a", shapeOf(dtypeF32, 2, 3, 4))
	b := Parameter(g, "b", shapeOf(dtypeF32, 2, 4, 5))
	y := DotGeneral(a, []int{2}, []int{0}, b, []int{1}, []int{0}).WithAlias("named")
	ax, ok := parseDotGeneralAxes(y)
	if !ok {
		t.Fatalf("cannot parse %s", y)
	}
	if !dimsEqual(ax.lhsContracting, 2) || !dimsEqual(ax.lhsBatch, 0) || !dimsEqual(ax.rhsContracting, 1) || !dimsEqual(ax.rhsBatch, 0) {
		t.Errorf("parsed %+v from %s", ax, y)
	}
}

// TestSliceGradient: the registered Slice VJP (zeros concatenated around
// the incoming gradient) matches the analytic gradient.
func TestSliceGradient(t *testing.T) {
	x := [][]float32{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}
	out := run1(t, func(_ *context.Context, p []*Node) []*Node {
		s := Slice(p[0], AxisRange(1, 3), AxisRange(1, 3)) // [[6 7] [10 11]]
		w := Const(p[0].Graph(), [][]float32{{1, 2}, {3, 4}})
		return Gradient(ReduceAllSum(Mul(s, w)), p[0])
	}, x)
	got := tensors.MustCopyFlatData[float32](out[0])
	want := []float32{0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("grad = %v, want %v", got, want)
		}
	}
}

func TestRsqrtGradient(t *testing.T) {
	xs := []float32{0.25, 1, 4, 9}
	out := MustExecOnce(testBackend(t), func(x *Node) *Node {
		return Gradient(ReduceAllSum(Rsqrt(x)), x)[0]
	}, xs)
	got := tensors.MustCopyFlatData[float32](out)
	for i, x := range xs {
		want := -0.5 * math.Pow(float64(x), -1.5)
		if math.Abs(float64(got[i])-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("d rsqrt(%g) = %g, want %g", x, got[i], want)
		}
	}
}

// TestSliceGradientCases: ranges, single elements and strides, against the
// indicator of the sliced elements times distinct upstream weights.
func TestSliceGradientCases(t *testing.T) {
	const r, c = 4, 7
	x := make([]float32, r*c)
	cases := []struct {
		name  string
		slice func(x *Node) *Node
		// picked reports whether element (i,j) is in the slice and its position k.
		picked func(i, j int) (int, bool)
	}{
		{"range", func(x *Node) *Node { return Slice(x, AxisRange(1, 3), AxisRange(2, 6)) },
			func(i, j int) (int, bool) { return (i-1)*4 + (j - 2), i >= 1 && i < 3 && j >= 2 && j < 6 }},
		{"elem", func(x *Node) *Node { return Slice(x, AxisRange(), AxisElem(6)) },
			func(i, j int) (int, bool) { return i, j == 6 }},
		{"strided", func(x *Node) *Node { return Slice(x, AxisRange(1, 4), AxisRange(1, 7).Stride(3)) },
			func(i, j int) (int, bool) { return (i-1)*2 + (j-1)/3, i >= 1 && j >= 1 && (j-1)%3 == 0 }},
	}
	for _, tc := range cases {
		out := MustExecOnce(testBackend(t), func(x *Node) *Node {
			s := tc.slice(x)
			w := Add(Iota(x.Graph(), s.Shape(), 0), OnesLike(s)) // distinct weights
			w = Add(MulScalar(w, 10), Iota(x.Graph(), s.Shape(), 1))
			return Gradient(ReduceAllSum(Mul(s, w)), x)[0]
		}, tensors.FromFlatDataAndDimensions(x, r, c))
		got := tensors.MustCopyFlatData[float32](out)
		sh := MustExecOnce(testBackend(t), func(x *Node) *Node { return tc.slice(x) }, tensors.FromFlatDataAndDimensions(x, r, c)).Shape()
		cols := sh.Dimensions[1]
		for i := range r {
			for j := range c {
				want := float32(0)
				if k, ok := tc.picked(i, j); ok {
					want = float32((k/cols+1)*10 + k%cols)
				}
				if got[i*c+j] != want {
					t.Fatalf("%s: grad[%d,%d] = %g, want %g (all %v)", tc.name, i, j, got[i*c+j], want, got)
				}
			}
		}
	}
}
