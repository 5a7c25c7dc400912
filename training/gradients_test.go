package training

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func TestRsqrtGradient(t *testing.T) {
	xs := []float32{0.25, 1, 4, 9}
	out := MustExecOnce(goBackend(t), func(x *Node) *Node {
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

// The Slice gradient must run on SimpleGo and equal the indicator of the
// sliced elements times the upstream weights.
func TestSliceGradient(t *testing.T) {
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
		out := MustExecOnce(goBackend(t), func(x *Node) *Node {
			s := tc.slice(x)
			w := Add(Iota(x.Graph(), s.Shape(), 0), OnesLike(s)) // distinct weights
			w = Add(MulScalar(w, 10), Iota(x.Graph(), s.Shape(), 1))
			return Gradient(ReduceAllSum(Mul(s, w)), x)[0]
		}, tensors.FromFlatDataAndDimensions(x, r, c))
		got := tensors.MustCopyFlatData[float32](out)
		// Recompute the expected weights from the slice shape.
		sh := MustExecOnce(goBackend(t), func(x *Node) *Node { return tc.slice(x) }, tensors.FromFlatDataAndDimensions(x, r, c)).Shape()
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
