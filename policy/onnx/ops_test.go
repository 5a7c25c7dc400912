package onnx_test

import (
	stdctx "context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"

	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

// requireORT skips when the ONNX Runtime library is truly absent.
func requireORT(t testing.TB) {
	t.Helper()
	orttest.RequireLibrary(t)
}

func newBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := simplego.New("ops_sequential") // parallel op execution deadlocks on 2 cores (GoMLX v0.26 workers pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b
}

// randomData fills an input: floats ~ N(0,1) (or U(0.1,3) when positive),
// integers uniform in [0, intMax).
func randomData(rng *rand.Rand, in onnx.Input, batch int, positive bool, intMax int) any {
	n := batch
	for _, d := range in.Dims {
		n *= d
	}
	switch in.DType {
	case dtypes.Float32:
		v := make([]float32, n)
		for i := range v {
			if positive {
				v[i] = float32(0.1 + 2.9*rng.Float64())
			} else {
				v[i] = float32(rng.NormFloat64())
			}
		}
		return v
	case dtypes.Int64:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(rng.IntN(intMax))
		}
		return v
	case dtypes.Int32:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(rng.IntN(intMax))
		}
		return v
	}
	panic("unsupported dtype in test")
}

// toFloat64 flattens any numeric or bool slice.
func toFloat64(flat any) []float64 {
	v := reflect.ValueOf(flat)
	out := make([]float64, v.Len())
	for i := range out {
		e := v.Index(i)
		switch e.Kind() {
		case reflect.Float32, reflect.Float64:
			out[i] = e.Float()
		case reflect.Bool:
			if e.Bool() {
				out[i] = 1
			}
		case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			out[i] = float64(e.Int())
		default:
			out[i] = float64(e.Uint())
		}
	}
	return out
}

// maxRelErr is max |a-b| / max(|b|, 1): relative for values of magnitude
// above 1, absolute below (so values near zero do not blow it up).
func maxRelErr(got, want []float64) float64 {
	var m float64
	for i := range want {
		if math.IsNaN(want[i]) && math.IsNaN(got[i]) {
			continue
		}
		e := math.Abs(got[i]-want[i]) / math.Max(math.Abs(want[i]), 1)
		if math.IsNaN(e) {
			return math.Inf(1)
		}
		m = math.Max(m, e)
	}
	return m
}

type opCase struct {
	name     string
	inputs   []onnx.Input
	build    func(ctx *context.Context, x []*Node) []*Node
	positive bool // positive float inputs (Log, Sqrt, Pow...)
	intMax   int  // range of integer inputs
	tol      float64
}

// checkCase exports c, runs GoMLX (pure Go) and ONNX Runtime on the same
// random inputs at batch sizes not used by the tracer (1 and 4: this checks
// the dynamic batch axis too) and compares every output.
func checkCase(t *testing.T, c opCase) {
	t.Helper()
	ctx := context.New()
	outNames := []string{}
	backend := newBackend(t)
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, xs []*Node) []*Node { return c.build(ctx, xs) })
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(len(c.name))))
	var model []byte
	for _, batch := range []int{1, 4} {
		var args []any
		var ortIn []ort.Tensor
		for _, in := range c.inputs {
			data := randomData(rng, in, batch, c.positive, max(c.intMax, 1))
			dims := append([]int{batch}, in.Dims...)
			args = append(args, toTensor(data, dims))
			shape := make([]int64, len(dims))
			for i, d := range dims {
				shape[i] = int64(d)
			}
			ortIn = append(ortIn, ort.Tensor{Name: in.Name, Shape: shape, Data: data})
		}
		want, err := exec.Exec(args...)
		if err != nil {
			t.Fatalf("GoMLX: %v", err)
		}
		if model == nil {
			// Export after GoMLX ran so context variables already hold values.
			for i := range want {
				outNames = append(outNames, fmt.Sprintf("out%d", i))
			}
			model, err = onnx.Export(ctx, c.inputs, outNames, c.build, onnx.Options{})
			if err != nil {
				t.Fatalf("export: %v", err)
			}
		}
		got, err := ort.Run(stdctx.Background(), model, ortIn, outNames, ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1})
		if err != nil {
			t.Fatalf("ONNX Runtime (batch %d): %v", batch, err)
		}
		for i := range want {
			var wantFlat any
			if err := want[i].ConstFlatData(func(f any) { wantFlat = reflect.ValueOf(f).Interface() }); err != nil {
				t.Fatal(err)
			}
			w := toFloat64(wantFlat)
			g := toFloat64(got[i].Data)
			if len(w) != len(g) {
				t.Fatalf("batch %d output %d: %d values from ORT (shape %v), %d from GoMLX (shape %s)", batch, i, len(g), got[i].Shape, len(w), want[i].Shape())
			}
			tol := c.tol
			if tol == 0 {
				tol = 1e-5
			}
			if e := maxRelErr(g, w); e > tol {
				t.Errorf("batch %d output %d: max rel err %.3g > %.1g\n ort=%v\n gomlx=%v", batch, i, e, tol, head(g), head(w))
			}
		}
	}
}

func toTensor(data any, dims []int) *tensors.Tensor {
	switch d := data.(type) {
	case []float32:
		return tensors.FromFlatDataAndDimensions(d, dims...)
	case []int64:
		return tensors.FromFlatDataAndDimensions(d, dims...)
	case []int32:
		return tensors.FromFlatDataAndDimensions(d, dims...)
	}
	panic("unsupported test data")
}

func head(v []float64) []float64 { return v[:min(len(v), 8)] }

func f32(name string, dims ...int) onnx.Input {
	return onnx.Input{Name: name, DType: dtypes.Float32, Dims: dims}
}

func one(f func(x *Node) *Node) func(*context.Context, []*Node) []*Node {
	return func(_ *context.Context, x []*Node) []*Node { return []*Node{f(x[0])} }
}

func two(f func(x, y *Node) *Node) func(*context.Context, []*Node) []*Node {
	return func(_ *context.Context, x []*Node) []*Node { return []*Node{f(x[0], x[1])} }
}

func TestElementwiseOps(t *testing.T) {
	requireORT(t)
	unary := map[string]func(*Node) *Node{
		"Abs": Abs, "Neg": Neg, "Exp": Exp, "Tanh": Tanh, "Logistic": Logistic, "Sin": Sin, "Cos": Cos,
		"Floor": Floor, "Ceil": Ceil, "Sign": Sign, "Erf": Erf, "Expm1": Expm1, "Square": Square,
		"Round": Round,
	}
	for name, f := range unary {
		t.Run(name, func(t *testing.T) {
			checkCase(t, opCase{name: name, inputs: []onnx.Input{f32("x", 3, 5)}, build: one(f)})
		})
	}
	positive := map[string]func(*Node) *Node{"Log": Log, "Sqrt": Sqrt, "Rsqrt": Rsqrt, "Log1p": Log1p}
	for name, f := range positive {
		t.Run(name, func(t *testing.T) {
			checkCase(t, opCase{name: name, inputs: []onnx.Input{f32("x", 3, 5)}, build: one(f), positive: true})
		})
	}
	binary := map[string]func(x, y *Node) *Node{
		"Add": Add, "Sub": Sub, "Mul": Mul, "Div": Div, "Max": Max, "Min": Min, "Pow": Pow, "Rem": Mod,
	}
	for name, f := range binary {
		t.Run(name, func(t *testing.T) {
			checkCase(t, opCase{name: name, inputs: []onnx.Input{f32("x", 4, 3), f32("y", 4, 3)}, build: two(f), positive: true})
		})
	}
	cmp := map[string]func(x, y *Node) *Node{
		"GreaterThan": GreaterThan, "GreaterOrEqual": GreaterOrEqual, "LessThan": LessThan,
		"LessOrEqual": LessOrEqual, "Equal": Equal, "NotEqual": NotEqual,
	}
	for name, f := range cmp {
		t.Run(name, func(t *testing.T) {
			checkCase(t, opCase{name: name, inputs: []onnx.Input{f32("x", 6), f32("y", 6)},
				build: two(func(x, y *Node) *Node {
					// Round so that equality actually occurs.
					x, y = Round(x), Round(y)
					return Where(f(x, y), x, ConvertDType(LogicalNot(f(y, x)), dtypes.Float32))
				})})
		})
	}
}

func TestStructuralOps(t *testing.T) {
	requireORT(t)
	cases := []opCase{
		{name: "reshape_batch_fold", inputs: []onnx.Input{f32("x", 3, 4)},
			build: one(func(x *Node) *Node {
				b := x.Shape().Dimensions[0]
				y := Reshape(x, b*3, 4)
				y = Mul(y, Reshape(Add(y, y), -1, 4))
				return Reshape(y, b, 12)
			})},
		{name: "transpose", inputs: []onnx.Input{f32("x", 2, 3, 4)}, build: one(func(x *Node) *Node { return TransposeAllDims(x, 2, 0, 3, 1) })},
		{name: "broadcast", inputs: []onnx.Input{f32("x", 3)}, build: one(func(x *Node) *Node {
			b := x.Shape().Dimensions[0]
			return Add(BroadcastToDims(InsertAxes(x, -1), b, 3, 5), Reshape(Const(x.Graph(), []float32{1, 2, 3, 4, 5}), 1, 1, 5))
		})},
		{name: "broadcast_scalar_batch", inputs: []onnx.Input{f32("x", 2)}, build: one(func(x *Node) *Node {
			return Add(x, Ones(x.Graph(), x.Shape()))
		})},
		{name: "concat_slice", inputs: []onnx.Input{f32("x", 4, 6), f32("y", 4, 2)}, build: two(func(x, y *Node) *Node {
			c := Concatenate([]*Node{x, y}, -1)
			s := Slice(c, AxisRange(), AxisRange(1, 3), AxisRange(0, 8).Stride(3))
			return Add(s, Slice(c, AxisRange(), AxisRange(0, 2), AxisRange(5, 8)))
		})},
		{name: "slice_batch", inputs: []onnx.Input{f32("x", 3)}, build: one(func(x *Node) *Node {
			head := Slice(x, AxisRange(0, 1))
			rest := InsertAxes(ReduceSum(Slice(x, AxisRange(0, -1)), 0), 0) // limit B-1: built at run time
			return Concatenate([]*Node{head, rest, InsertAxes(ReduceSum(x, 0), 0)}, 0)
		})},
		{name: "reductions", inputs: []onnx.Input{f32("x", 3, 5)}, build: func(_ *context.Context, x []*Node) []*Node {
			return []*Node{ReduceSum(x[0], -1), ReduceMax(x[0], 1), ReduceMin(x[0], 0, 2), ReduceMultiply(x[0], -1),
				ReduceMean(x[0], 1), ConvertDType(ArgMax(x[0], -1), dtypes.Float32)}
		}},
		{name: "softmax_where_clamp", inputs: []onnx.Input{f32("x", 2, 7)}, build: one(func(x *Node) *Node {
			m := GreaterThan(x, ZerosLike(x))
			s := Softmax(Where(m, x, MulScalar(OnesLike(x), -1e9)), -1)
			return Add(s, Clip(x, Scalar(x.Graph(), dtypes.Float32, -0.5), Scalar(x.Graph(), dtypes.Float32, 0.5)))
		})},
		{name: "iota", inputs: []onnx.Input{f32("x", 5)}, build: one(func(x *Node) *Node {
			s := shapes.Make(dtypes.Float32, x.Shape().Dimensions...)
			return Add(Mul(x, Iota(x.Graph(), s, 0)), Iota(x.Graph(), s, 1))
		})},
		{name: "clamp_isfinite", inputs: []onnx.Input{f32("x", 3, 4)}, build: one(func(x *Node) *Node {
			g := x.Graph()
			p := Sub(x, Round(x))
			c := Clamp(Scalar(g, dtypes.Float32, -0.3), p, Scalar(g, dtypes.Float32, 0.4))
			fin := ConvertDType(IsFinite(Div(x, Round(x))), dtypes.Float32) // x/0 gives Inf
			return Add(c, fin)
		})},
		{name: "logical_reductions", inputs: []onnx.Input{f32("x", 3, 4)}, build: func(_ *context.Context, x []*Node) []*Node {
			pos := GreaterThan(x[0], ZerosLike(x[0]))
			return []*Node{ConvertDType(ReduceLogicalAnd(pos, -1), dtypes.Float32), ConvertDType(ReduceLogicalOr(pos, 1, 2), dtypes.Float32)}
		}},
		{name: "two_batch_axes", inputs: []onnx.Input{f32("x", 2)}, build: one(func(x *Node) *Node {
			// A [B,B,2] intermediate: the Expand target is built from two runtime batch sizes.
			b := x.Shape().Dimensions[0]
			outer := BroadcastToDims(InsertAxes(x, 0), b, b, 2)
			return ReduceSum(Mul(outer, Iota(x.Graph(), shapes.Make(dtypes.Float32, b, b, 2), 0)), 0)
		})},
		{name: "iota_int32", inputs: []onnx.Input{f32("x", 4)}, build: one(func(x *Node) *Node {
			return Add(x, ConvertDType(Iota(x.Graph(), shapes.Make(dtypes.Int32, x.Shape().Dimensions...), 1), dtypes.Float32))
		})},
		{name: "cast_int", inputs: []onnx.Input{{Name: "ids", DType: dtypes.Int64, Dims: []int{4}}}, intMax: 9,
			build: one(func(x *Node) *Node {
				return ConvertDType(Add(ConvertDType(x, dtypes.Int32), Const(x.Graph(), int32(3))), dtypes.Float32)
			})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkCase(t, c) })
	}
}

func TestContractionOps(t *testing.T) {
	requireORT(t)
	cases := []opCase{
		{name: "dense_variable", inputs: []onnx.Input{f32("x", 5, 6)}, build: func(ctx *context.Context, x []*Node) []*Node {
			return []*Node{layers.Dense(ctx.In("dense"), x[0], true, 3)}
		}},
		{name: "einsum_flat", inputs: []onnx.Input{f32("x", 5, 6)}, build: func(ctx *context.Context, x []*Node) []*Node {
			w := ctx.In("w").VariableWithShape("w", shapes.Make(dtypes.Float32, 6, 4)).ValueGraph(x[0].Graph())
			flat := Reshape(x[0], -1, 6)
			return []*Node{Reshape(Einsum("ni,io->no", flat, w), x[0].Shape().Dimensions[0], 5, 4)}
		}},
		{name: "attention", inputs: []onnx.Input{f32("q", 2, 5, 4), f32("k", 2, 3, 4)}, build: two(func(q, k *Node) *Node {
			l := Einsum("bhqc,bhkc->bhqk", q, k)
			return Einsum("bhqk,bhkc->bhqc", Softmax(l, -1), k)
		})},
		{name: "einsum_general", inputs: []onnx.Input{f32("x", 3, 4, 2), f32("y", 2, 5, 4)}, build: two(func(x, y *Node) *Node {
			return DotGeneral(x, []int{2}, []int{0, 3}, y, []int{3}, []int{0, 1})
		})},
		{name: "dense_transposed_rhs", inputs: []onnx.Input{f32("x", 6)}, build: func(_ *context.Context, x []*Node) []*Node {
			w := Const(x[0].Graph(), [][]float32{{1, 2, 3, 4, 5, 6}, {-1, 0, 1, 0, -1, 0}})
			return []*Node{DotGeneral(x[0], []int{1}, nil, w, []int{1}, nil)}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkCase(t, c) })
	}
}

func TestGatherOps(t *testing.T) {
	requireORT(t)
	table := make([][]float32, 10)
	for i := range table {
		table[i] = []float32{float32(i), float32(i * i), -float32(i), 0.5}
	}
	cases := []opCase{
		{name: "embedding", inputs: []onnx.Input{{Name: "ids", DType: dtypes.Int64, Dims: []int{6}}}, intMax: 12, // 10, 11 are clamped
			build: one(func(ids *Node) *Node {
				return Gather(Const(ids.Graph(), table), InsertAxes(ConvertDType(ids, dtypes.Int32), -1))
			})},
		{name: "batched_points", inputs: []onnx.Input{f32("feat", 7, 3), {Name: "idx", DType: dtypes.Int64, Dims: []int{4}}}, intMax: 7,
			build: two(func(feat, idx *Node) *Node {
				// Gather per-sample rows with (batch, row) index pairs, the bilinear-sampling pattern.
				b := feat.Shape().Dimensions[0]
				bi := Iota(feat.Graph(), shapes.Make(dtypes.Int64, b, 4), 0)
				pairs := Stack([]*Node{bi, idx}, -1)
				return Gather(feat, pairs)
			})},
		{name: "slices", inputs: []onnx.Input{{Name: "start", DType: dtypes.Int32, Dims: []int{2}}}, intMax: 9,
			build: one(func(start *Node) *Node {
				x := IotaFull(start.Graph(), shapes.Make(dtypes.Float32, 3, 10, 10))
				return GatherSlices(x, []int{1, 2}, start, []int{2, 3}, false)
			})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkCase(t, c) })
	}
}

// TestRandomShapes exports a small MLP-with-attention block at random sizes.
func TestRandomShapes(t *testing.T) {
	requireORT(t)
	rng := rand.New(rand.NewPCG(7, 7))
	trials := 6
	if testing.Short() {
		trials = 2
	}
	for trial := range trials {
		n, d, h := 1+rng.IntN(6), 2+rng.IntN(7), 1+rng.IntN(9)
		t.Run(fmt.Sprintf("n%d_d%d_h%d", n, d, h), func(t *testing.T) {
			checkCase(t, opCase{name: fmt.Sprint("rand", trial), inputs: []onnx.Input{f32("x", n, d)},
				build: func(ctx *context.Context, x []*Node) []*Node {
					y := layers.Dense(ctx.In("a"), x[0], true, h)
					y = Tanh(y)
					att := Softmax(Einsum("bnh,bmh->bnm", y, y), -1)
					y = Einsum("bnm,bmh->bnh", att, y)
					return []*Node{ReduceSum(layers.Dense(ctx.In("b"), y, true, 2), 1)}
				}})
		})
	}
}

func TestUnsupportedOpIsAnError(t *testing.T) {
	_, err := onnx.Export(context.New(), []onnx.Input{f32("x", 4)}, []string{"y"},
		func(_ *context.Context, x []*Node) []*Node {
			return []*Node{ConvertDType(Clz(ConvertDType(x[0], dtypes.Int32)), dtypes.Float32)}
		}, onnx.Options{})
	if err == nil {
		t.Fatal("export of an unsupported op succeeded")
	}
	t.Log(err)
}

// TestFixedBatch: a static-batch export runs at its batch and refuses others.
func TestFixedBatch(t *testing.T) {
	requireORT(t)
	in := []onnx.Input{f32("x", 3)}
	build := one(func(x *Node) *Node { return Reshape(MulScalar(x, 2), -1) })
	model, err := onnx.Export(context.New(), in, []string{"y"}, build, onnx.Options{FixedBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	opts := ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1}
	x := []float32{1, 2, 3, 4, 5, 6}
	got, err := ort.Run(stdctx.Background(), model, []ort.Tensor{{Name: "x", Shape: []int64{2, 3}, Data: x}}, []string{"y"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if g := got[0].Data.([]float32); len(g) != 6 || g[5] != 12 {
		t.Fatalf("got %v", g)
	}
	if _, err := ort.Run(stdctx.Background(), model, []ort.Tensor{{Name: "x", Shape: []int64{1, 3}, Data: x[:3]}}, []string{"y"}, opts); err == nil {
		t.Fatal("batch 1 accepted by a batch-2 model")
	}
}
