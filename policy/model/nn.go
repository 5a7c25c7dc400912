package model

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/layers"
)

// Small building blocks shared by the modules. They are written with the
// modest op set the ONNX exporter supports (no Erf-based GELU, no fused
// layer-norm op): Dense = DotGeneral + Add, LayerNorm = ReduceSum/Sub/Div/Sqrt.

// maskedNegInf is added to attention logits of masked keys; finite so a fully
// masked row degrades to a uniform softmax instead of NaN.
const maskedNegInf = -1e9

// dense is an affine layer in its own scope.
func dense(ctx *context.Context, name string, x *Node, out int) *Node {
	return layers.Dense(ctx.In(name), x, true, out)
}

// denseZero is an affine layer whose weights start at zero and whose bias
// starts at the constant bias: used where a module must start as an exact
// identity (routing gate, routing output, flow time conditioning).
func denseZero(ctx *context.Context, name string, x *Node, out int, bias float64) *Node {
	c := ctx.In(name).In("dense")
	g := x.Graph()
	in := x.Shape().Dimensions[x.Rank()-1]
	w := c.WithInitializer(initializers.Zero).VariableWithShape("weights", shapes.Make(x.DType(), in, out))
	b := c.WithInitializer(constInit(bias)).VariableWithShape("biases", shapes.Make(x.DType(), out))
	y := linear(x, w.ValueGraph(g))
	return Add(y, ExpandLeftToRank(b.ValueGraph(g), y.Rank()))
}

// linear applies a [in,out] matrix to the last axis of x of any rank.
func linear(x, w *Node) *Node {
	dims := x.Shape().Dimensions
	in := dims[len(dims)-1]
	out := w.Shape().Dimensions[1]
	flat := Reshape(x, x.Shape().Size()/in, in)
	y := Einsum("ni,io->no", flat, w)
	outDims := append(append([]int{}, dims[:len(dims)-1]...), out)
	return Reshape(y, outDims...)
}

// denseInit is an affine layer with zero-initialised weights and the given
// initial bias (its length is the output width).
func denseInit(ctx *context.Context, name string, x *Node, bias []float32) *Node {
	c := ctx.In(name).In("dense")
	g := x.Graph()
	in := x.Shape().Dimensions[x.Rank()-1]
	w := c.WithInitializer(initializers.Zero).VariableWithShape("weights", shapes.Make(x.DType(), in, len(bias)))
	init := func(g *Graph, shape shapes.Shape) *Node { return Reshape(Const(g, bias), shape.Dimensions...) }
	b := c.WithInitializer(init).VariableWithShape("biases", shapes.Make(x.DType(), len(bias)))
	return Add(linear(x, w.ValueGraph(g)), ExpandLeftToRank(b.ValueGraph(g), x.Rank()))
}

// constInit fills a variable with one value.
func constInit(v float64) context.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node { return FillScalar(g, shape, v) }
}

// gelu is the tanh-free sigmoid approximation x*sigmoid(1.702x): it keeps
// the inference graph to Mul/Logistic (Erf is not in the exporter's op set).
func gelu(x *Node) *Node {
	return Mul(x, Logistic(MulScalar(x, 1.702)))
}

// mlp is Dense -> GELU -> Dense.
func mlp(ctx *context.Context, x *Node, hidden, out int) *Node {
	h := gelu(dense(ctx, "fc1", x, hidden))
	return dense(ctx, "fc2", h, out)
}

// layerNorm normalizes the last axis with a learned gain and offset.
func layerNorm(ctx *context.Context, name string, x *Node) *Node {
	c := ctx.In(name)
	g := x.Graph()
	d := x.Shape().Dimensions[x.Rank()-1]
	mean := ReduceAndKeep(x, ReduceMean, -1)
	xc := Sub(x, mean)
	variance := ReduceAndKeep(Square(xc), ReduceMean, -1)
	y := Div(xc, Sqrt(AddScalar(variance, 1e-5))) // Rsqrt has no GoMLX gradient
	gain := c.WithInitializer(initializers.One).VariableWithShape("gain", shapes.Make(x.DType(), d)).ValueGraph(g)
	offset := c.WithInitializer(initializers.Zero).VariableWithShape("offset", shapes.Make(x.DType(), d)).ValueGraph(g)
	return Add(Mul(y, ExpandLeftToRank(gain, y.Rank())), ExpandLeftToRank(offset, y.Rank()))
}

// learned returns a trainable tensor of the given dimensions (embeddings,
// probes, mask tokens) initialised N(0, 0.02^2).
func learned(ctx *context.Context, g *Graph, name string, dims ...int) *Node {
	v := ctx.WithInitializer(initializers.RandomNormalFn(ctx, 0.02)).
		VariableWithShape(name, shapes.Make(dtypes.Float32, dims...))
	return v.ValueGraph(g)
}

// keyBias turns a [B,Tk] 0/1 mask into an additive [B,1,1,Tk] logit bias.
func keyBias(mask *Node) *Node {
	b := MulScalar(OneMinus(mask), maskedNegInf)
	return InsertAxes(b, 1, 1)
}

// shapeOf is shapes.Make, short for the many constant shapes built here.
func shapeOf(dt dtypes.DType, dims ...int) shapes.Shape { return shapes.Make(dt, dims...) }

// relu is max(x, 0).
func relu(x *Node) *Node { return Max(x, ZerosLike(x)) }

// dtypeF32 is the model's float type.
const dtypeF32 = dtypes.Float32
