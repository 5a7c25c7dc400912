package onnx

import (
	stdctx "context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

// layerNormAsModel is policy/model's layer normalisation, op for op.
func layerNormAsModel(ctx *context.Context, x *Node) *Node {
	y, _ := layerNormParts(ctx, x)
	return y
}

// layerNormParts is layerNormAsModel also returning its mean.
func layerNormParts(ctx *context.Context, x *Node) (y, mean *Node) {
	g := x.Graph()
	d := x.Shape().Dimensions[x.Rank()-1]
	mean = ReduceAndKeep(x, ReduceMean, -1)
	xc := Sub(x, mean)
	variance := ReduceAndKeep(Square(xc), ReduceMean, -1)
	y = Div(xc, Sqrt(AddScalar(variance, 1e-5)))
	gain := ctx.WithInitializer(initializers.RandomNormalFn(ctx, 1)).VariableWithShape("gain", shapes.Make(x.DType(), d)).ValueGraph(g)
	offset := ctx.WithInitializer(initializers.RandomNormalFn(ctx, 1)).VariableWithShape("offset", shapes.Make(x.DType(), d)).ValueGraph(g)
	return Add(Mul(y, ExpandLeftToRank(gain, y.Rank())), ExpandLeftToRank(offset, y.Rank())), mean
}

// TestFuseLayerNorms: the model's layer normalisation exports as one
// LayerNormalization node and GoMLX's softmax (over any axis) as one
// Softmax node, which ONNX Runtime runs to the pure-Go result (inputs far
// from zero mean included); when an intermediate is also read elsewhere
// (the mean, the exponentials, as a second output) nothing is fused.
func TestFuseLayerNorms(t *testing.T) {
	orttest.RequireLibrary(t)
	in := []Input{{Name: "x", DType: dtypes.Float32, Dims: []int{5, 16}}}
	for _, c := range []struct {
		name    string
		outputs []string
		build   BuildFunc
		op      string
		fused   int
	}{
		{"alone", []string{"y"}, func(ctx *context.Context, x []*Node) []*Node {
			return []*Node{layerNormAsModel(ctx.In("a"), layerNormAsModel(ctx.In("b"), x[0]))}
		}, "LayerNormalization", 2},
		{"mean_also_read", []string{"y", "mean"}, func(ctx *context.Context, x []*Node) []*Node {
			y, mean := layerNormParts(ctx, x[0])
			return []*Node{y, mean}
		}, "LayerNormalization", 0},
		{"softmax_each_axis", []string{"y"}, func(_ *context.Context, x []*Node) []*Node {
			return []*Node{Add(Softmax(x[0], -1), Softmax(MulScalar(x[0], 3), 1))}
		}, "Softmax", 2},
		{"softmax_exp_also_read", []string{"y", "e"}, func(_ *context.Context, x []*Node) []*Node {
			m := StopGradient(ReduceAndKeep(x[0], ReduceMax, -1))
			e := Exp(Sub(x[0], m))
			return []*Node{Div(e, ReduceAndKeep(e, ReduceSum, -1)), e}
		}, "Softmax", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.New()
			ctx.SetParam(context.ParamInitialSeed, int64(3))
			m, _, err := buildModel(ctx, in, c.outputs, c.build, Options{FixedBatch: 2})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, node := range m.Graph.Nodes {
				if node.OpType == c.op {
					n++
				}
			}
			if n != c.fused {
				t.Fatalf("%d %s nodes, want %d", n, c.op, c.fused)
			}
			r := rand.New(rand.NewPCG(1, 2))
			x := make([]float32, 2*5*16)
			for i := range x {
				x[i] = 10 + float32(r.NormFloat64())
			}
			got, err := ort.Run(stdctx.Background(), m.marshal(), []ort.Tensor{{Name: "x", Shape: []int64{2, 5, 16}, Data: x}}, c.outputs,
				ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1})
			if err != nil {
				t.Fatal(err)
			}
			backend, err := simplego.New("ops_sequential")
			if err != nil {
				t.Fatal(err)
			}
			defer backend.Finalize()
			exec, err := context.NewExec(backend, ctx.Reuse(), func(ctx *context.Context, x *Node) []*Node { return c.build(ctx, []*Node{x}) })
			if err != nil {
				t.Fatal(err)
			}
			want, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, 2, 5, 16))
			if err != nil {
				t.Fatal(err)
			}
			for k := range c.outputs {
				w := tensors.MustCopyFlatData[float32](want[k])
				for i, g := range got[k].Data.([]float32) {
					if math.Abs(float64(g-w[i])) > 1e-4*math.Max(1, math.Abs(float64(w[i]))) {
						t.Fatalf("%s[%d]: ort %g, gomlx %g", c.outputs[k], i, g, w[i])
					}
				}
			}
		})
	}
}
