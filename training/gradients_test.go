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
