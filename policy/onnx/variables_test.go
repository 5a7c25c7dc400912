package onnx_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
)

// TestExportWithVariables: weights exported as inputs (a matrix and a
// scalar, which travels as [1]) follow whatever values are fed, so one
// session serves weights that change; the bound session runs it, and its
// profile names the ops it ran.
func TestExportWithVariables(t *testing.T) {
	requireORT(t)
	ctx := context.New()
	build := func(ctx *context.Context, x []*Node) []*Node {
		g := x[0].Graph()
		w := ctx.In("layer").VariableWithShape("w", shapes.Make(dtypes.Float32, 3, 2)).ValueGraph(g)
		s := ctx.In("layer").VariableWithShape("scale", shapes.Make(dtypes.Float32)).ValueGraph(g)
		return []*Node{Mul(Einsum("bk,kn->bn", x[0], w), s)}
	}
	model, vars, err := onnx.ExportWithVariables(ctx, []onnx.Input{f32("x", 3)}, []string{"y"}, build, onnx.Options{FixedBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(vars) != 2 || vars[0] != "/layer/w" || vars[1] != "/layer/scale" {
		t.Fatalf("variable inputs %q", vars)
	}
	prefix := filepath.Join(t.TempDir(), "prof")
	b, err := ort.NewBound(model, []ort.Tensor{
		{Name: "x", Shape: []int64{2, 3}, Data: make([]float32, 6)},
		{Name: vars[0], Shape: []int64{3, 2}, Data: make([]float32, 6)},
		{Name: vars[1], Shape: []int64{1}, Data: make([]float32, 1)},
	}, []ort.Tensor{{Name: "y", Shape: []int64{2, 2}, Data: make([]float32, 4)}},
		ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1, ProfilePrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	copy(b.Data("x").([]float32), []float32{1, 2, 3, 4, 5, 6})
	for _, c := range []struct {
		w     []float32
		scale float32
		want  []float32
	}{
		{[]float32{1, 0, 0, 1, 0, 0}, 1, []float32{1, 2, 4, 5}},
		{[]float32{0, 0, 0, 0, 1, 1}, -2, []float32{-6, -6, -12, -12}},
	} {
		copy(b.Data(vars[0]).([]float32), c.w)
		b.Data(vars[1]).([]float32)[0] = c.scale
		if err := b.Run(); err != nil {
			t.Fatal(err)
		}
		for i, y := range b.Data("y").([]float32) {
			if math.Abs(float64(y-c.want[i])) > 1e-6 {
				t.Fatalf("w %v scale %v: y %v, want %v", c.w, c.scale, b.Data("y"), c.want)
			}
		}
	}
	if b.Data("nope") != nil {
		t.Error("Data of an unknown name")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Run(); err == nil {
		t.Error("Run after Close")
	}
	files, _ := filepath.Glob(prefix + "*.json")
	if len(files) != 1 {
		t.Fatalf("profile files %v", files)
	}
	defer os.Remove(files[0])
	rows, err := ort.SummarizeProfile(files[0], false)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	var share float64
	for _, r := range rows {
		ops[r.Key] = r.Calls
		share += r.Share
	}
	if ops["MatMul"] != 2 || math.Abs(share-1) > 1e-9 {
		t.Errorf("profile rows %+v", rows)
	}
}
