package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// Direct one-to-one element-wise mappings (XLA semantics equal ONNX's for
// these; NaN propagation included).
var unaryOps = map[string]string{
	"Abs": "Abs", "Ceil": "Ceil", "Cos": "Cos", "Erf": "Erf", "Exp": "Exp", "Floor": "Floor",
	"Identity": "Identity", "IsNaN": "IsNaN", "Log": "Log", "LogicalNot": "Not", "Logistic": "Sigmoid",
	"Neg": "Neg", "Round": "Round", "Sign": "Sign", "Sin": "Sin", "Sqrt": "Sqrt", "Tanh": "Tanh",
}

var binaryOps = map[string]string{
	"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Max": "Max", "Min": "Min", "Pow": "Pow",
	"Equal": "Equal", "GreaterThan": "Greater", "GreaterOrEqual": "GreaterOrEqual", "LessThan": "Less",
	"LessOrEqual": "LessOrEqual", "LogicalAnd": "And", "LogicalOr": "Or", "LogicalXor": "Xor", "Dot": "MatMul",
}

// emit converts record i, returning the name of its ONNX value.
func (e *emitter) emit(i int) (string, error) {
	r := &e.recs[i]
	in := make([]string, len(r.inputs))
	for k, id := range r.inputs {
		in[k] = e.names[id]
	}
	if op, ok := unaryOps[r.op]; ok {
		return e.node(op, in), nil
	}
	if op, ok := binaryOps[r.op]; ok {
		return e.node(op, in), nil
	}
	switch r.op {
	case "Expm1":
		one, err := e.scalar(r.shape.DType, 1)
		if err != nil {
			return "", err
		}
		return e.node("Sub", []string{e.node("Exp", in), one}), nil
	case "Log1p":
		one, err := e.scalar(r.shape.DType, 1)
		if err != nil {
			return "", err
		}
		return e.node("Log", []string{e.node("Add", []string{in[0], one})}), nil
	case "Rsqrt":
		return e.node("Reciprocal", []string{e.node("Sqrt", in)}), nil
	case "IsFinite":
		bad := e.node("Or", []string{e.node("IsNaN", in), e.node("IsInf", in)})
		return e.node("Not", []string{bad}), nil
	case "NotEqual":
		return e.node("Not", []string{e.node("Equal", in)}), nil
	case "Rem":
		// XLA's remainder keeps the dividend's sign, which is C fmod.
		return e.node("Mod", in, intAttr("fmod", 1)), nil
	case "Where":
		return e.node("Where", in), nil
	case "Clamp":
		// XLA Clamp(min, x, max) = min(max(x, lo), hi).
		return e.node("Min", []string{e.node("Max", []string{in[1], in[0]}), in[2]}), nil
	case "ConvertDType":
		to, err := onnxDType(r.dtype)
		if err != nil {
			return "", err
		}
		return e.node("Cast", in, intAttr("to", int64(to))), nil
	case "Reshape":
		return e.reshape(in[0], r.dims)
	case "Transpose":
		perm, err := r.staticInts("perm")
		if err != nil {
			return "", err
		}
		return e.node("Transpose", in, intsAttr("perm", perm)), nil
	case "BroadcastInDim":
		return e.broadcastInDim(r, in[0])
	case "Concatenate":
		axis, err := r.staticInts("axis")
		if err != nil {
			return "", err
		}
		return e.node("Concat", in, intAttr("axis", int64(axis[0]))), nil
	case "Slice":
		return e.slice(r, in[0])
	case "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProduct":
		op := map[string]string{"ReduceSum": "ReduceSum", "ReduceMax": "ReduceMax", "ReduceMin": "ReduceMin", "ReduceProduct": "ReduceProd"}[r.op]
		return e.reduce(r, op, in[0])
	case "ReduceLogicalAnd", "ReduceLogicalOr":
		// ONNX Runtime has no boolean reductions: reduce 0/1 integers.
		x := e.node("Cast", in, intAttr("to", dtInt32))
		op := map[string]string{"ReduceLogicalAnd": "ReduceMin", "ReduceLogicalOr": "ReduceMax"}[r.op]
		y, err := e.reduce(r, op, x)
		if err != nil {
			return "", err
		}
		return e.node("Cast", []string{y}, intAttr("to", dtBool)), nil
	case "ArgMinMax":
		axis, err := r.staticInts("axis")
		if err != nil {
			return "", err
		}
		op := "ArgMax"
		if r.flag {
			op = "ArgMin"
		}
		y := e.node(op, in, intAttr("axis", int64(axis[0])), intAttr("keepdims", 0))
		if r.dtype == dtypes.Int64 {
			return y, nil
		}
		to, err := onnxDType(r.dtype)
		if err != nil {
			return "", err
		}
		return e.node("Cast", []string{y}, intAttr("to", int64(to))), nil
	case "Iota":
		return e.iota(r)
	case "DotGeneral":
		return e.dotGeneral(r, in[0], in[1])
	case "Gather":
		return e.gather(r, in[0], in[1])
	case "ConvGeneral":
		return e.conv(r, in[0], in[1])
	}
	return "", fmt.Errorf("onnx export: backend op %s is not supported by the exporter", r.op)
}

func (e *emitter) reduce(r *symRecord, op, x string) (string, error) {
	axes, err := r.staticInts("axes")
	if err != nil {
		return "", err
	}
	if len(axes) == 0 {
		return e.node("Identity", []string{x}), nil
	}
	return e.node(op, []string{x, e.ints64(axes)}, intAttr("keepdims", 0)), nil
}

// reshape uses a constant target with at most one inferred (-1) axis when it
// can, so ONNX Runtime sees a static-ish shape; otherwise it builds the target
// from the runtime batch size.
func (e *emitter) reshape(x string, dims []sym) (string, error) {
	dyn := 0
	for _, d := range dims {
		if !d.static() {
			dyn++
		}
	}
	if dyn == 1 {
		v := make([]int, len(dims))
		for i, d := range dims {
			v[i] = d.c
			if !d.static() {
				v[i] = -1
			}
		}
		return e.node("Reshape", []string{x, e.ints64(v)}), nil
	}
	shape, err := e.shapeTensor(dims)
	if err != nil {
		return "", err
	}
	return e.node("Reshape", []string{x, shape}), nil
}

// broadcastInDim: XLA maps operand axis i to output axis axes[i]; ONNX needs
// the operand's axes in order, unsqueezed to the output rank, then Expand.
func (e *emitter) broadcastInDim(r *symRecord, x string) (string, error) {
	axes, err := r.staticInts("axes")
	if err != nil {
		return "", err
	}
	src := e.recs[r.inputs[0]].dims
	if !slices.IsSorted(axes) {
		order := make([]int, len(axes))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return axes[a] - axes[b] })
		x = e.node("Transpose", []string{x}, intsAttr("perm", order))
		sorted := make([]int, len(axes))
		srcSorted := make([]sym, len(axes))
		for i, o := range order {
			sorted[i], srcSorted[i] = axes[o], src[o]
		}
		axes, src = sorted, srcSorted
	}
	var missing []int
	mid := make([]sym, len(r.dims))
	for i := range r.dims {
		if k := slices.Index(axes, i); k >= 0 {
			mid[i] = src[k]
		} else {
			missing = append(missing, i)
			mid[i] = sym{c: 1}
		}
	}
	if len(missing) > 0 {
		x = e.node("Unsqueeze", []string{x, e.ints64(missing)})
	}
	if slices.Equal(mid, r.dims) {
		return x, nil
	}
	shape, err := e.shapeTensor(r.dims)
	if err != nil {
		return "", err
	}
	return e.node("Expand", []string{x, shape}), nil
}

func (e *emitter) slice(r *symRecord, x string) (string, error) {
	src := e.recs[r.inputs[0]].dims
	starts, limits, strides := r.ints["starts"], r.ints["limits"], r.ints["strides"]
	var axes []int
	var st, en, sp []sym
	for ax := range src {
		stride := 1
		if ax < len(strides) {
			if !strides[ax].static() {
				return "", fmt.Errorf("onnx export: Slice stride depends on the batch size")
			}
			stride = strides[ax].c
		}
		if starts[ax] == (sym{}) && limits[ax] == src[ax] && stride == 1 {
			continue
		}
		lim := limits[ax]
		if lim == src[ax] {
			// "To the end" needs no runtime arithmetic even on the batch axis.
			lim = sym{c: math.MaxInt64}
		}
		axes = append(axes, ax)
		st, en, sp = append(st, starts[ax]), append(en, lim), append(sp, sym{c: stride})
	}
	if len(axes) == 0 {
		return e.node("Identity", []string{x}), nil
	}
	s, err := e.shapeTensor(st)
	if err != nil {
		return "", err
	}
	l, err := e.shapeTensor(en)
	if err != nil {
		return "", err
	}
	p, err := e.shapeTensor(sp)
	if err != nil {
		return "", err
	}
	return e.node("Slice", []string{x, s, l, e.ints64(axes), p}), nil
}

// iota builds Range(0, n) along the axis, then broadcasts it to the shape.
func (e *emitter) iota(r *symRecord) (string, error) {
	axis, err := r.staticInts("axis")
	if err != nil {
		return "", err
	}
	ax := axis[0]
	dt := r.shape.DType
	rangeDT := dt
	switch dt {
	case dtypes.Float32, dtypes.Float64, dtypes.Int32, dtypes.Int64:
	default:
		rangeDT = dtypes.Int64
	}
	start, err := e.scalar(rangeDT, 0)
	if err != nil {
		return "", err
	}
	delta, err := e.scalar(rangeDT, 1)
	if err != nil {
		return "", err
	}
	var limit string
	if n := r.dims[ax]; n.static() {
		if limit, err = e.scalar(rangeDT, float64(n.c)); err != nil {
			return "", err
		}
	} else {
		t, err := e.symTensor(n)
		if err != nil {
			return "", err
		}
		limit = e.node("Squeeze", []string{t, e.ints64([]int{0})})
		if rangeDT != dtypes.Int64 {
			to, _ := onnxDType(rangeDT)
			limit = e.node("Cast", []string{limit}, intAttr("to", int64(to)))
		}
	}
	x := e.node("Range", []string{start, limit, delta})
	if rangeDT != dt {
		to, err := onnxDType(dt)
		if err != nil {
			return "", err
		}
		x = e.node("Cast", []string{x}, intAttr("to", int64(to)))
	}
	var others []int
	for i := range r.dims {
		if i != ax {
			others = append(others, i)
		}
	}
	if len(others) == 0 {
		return x, nil
	}
	x = e.node("Unsqueeze", []string{x, e.ints64(others)})
	shape, err := e.shapeTensor(r.dims)
	if err != nil {
		return "", err
	}
	return e.node("Expand", []string{x, shape}), nil
}
