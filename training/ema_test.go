package training

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func TestEMAUpdate(t *testing.T) {
	ctx := context.New().Checked(false)
	ctx.InAbsPath("/predictor/teacher/l0").VariableWithValue("w", tensors.FromFlatDataAndDimensions([]float32{0, 10}, 2)).SetTrainable(false)
	ctx.InAbsPath("/predictor/student/l0").VariableWithValue("w", tensors.FromFlatDataAndDimensions([]float32{1, 2}, 2))
	exec, err := context.NewExec(goBackend(t), ctx, func(ctx *context.Context, g *Graph) *Node {
		n, err := EMAUpdateGraph(ctx, g, "/predictor/teacher", "/predictor/student", 0.9)
		if err != nil || n != 1 {
			panic(err)
		}
		return Const(g, float32(0))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 10}
	for range 3 {
		if _, err := exec.Exec(); err != nil {
			t.Fatal(err)
		}
		want[0] = 0.9*want[0] + 0.1*1
		want[1] = 0.9*want[1] + 0.1*2
	}
	got := tensors.MustCopyFlatData[float32](ctx.GetVariableByScopeAndName("/predictor/teacher/l0", "w").MustValue())
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > 1e-5 {
			t.Fatalf("teacher %v, want %v", got, want)
		}
	}
	// A teacher without a student is an error.
	ctx.InAbsPath("/predictor/teacher/l1").VariableWithValue("w", float32(1))
	g := NewGraph(goBackend(t), "ema")
	if _, err := EMAUpdateGraph(ctx, g, "/predictor/teacher", "/predictor/student", 0.9); err == nil {
		t.Fatal("missing student accepted")
	}
}
