package onnx

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// The exporter traces a GoMLX graph through a recording backend: it wraps the
// pure-Go backend (so shape inference and, if wanted, execution stay exactly
// GoMLX's) and writes down every backend op with its static parameters. The
// backend level is used, rather than walking graph.Node, because graph's node
// parameters are unexported while the backend API states every op's exact
// semantics (XLA's). Ops the recorder does not override still run on the
// wrapped builder, but their results are unknown to the tape, so the first op
// consuming one reports it as unsupported by name.

// record is one backend op on the tape.
type record struct {
	op     string
	inputs []int // tape indices
	shape  shapes.Shape
	// ints holds the op's integer parameters (axes, dimensions, slice bounds,
	// ...) by name. Those that scale with the batch size are found by comparing
	// two traces.
	ints  map[string][]int
	dtype dtypes.DType // ConvertDType target
	name  string       // Parameter name
	flat  any          // Constant values (a flat Go slice)
	flag  bool         // ArgMinMax isMin
}

// tape is the ordered list of ops of one traced graph.
type tape struct {
	recs    []record
	params  []int // tape indices of Parameters, in creation order
	outputs []int // tape indices given to Compile
	err     error // first unsupported-op error
}

// recBackend wraps a backend so every Builder it returns records onto a tape.
type recBackend struct {
	backends.Backend
	last *recBuilder
}

// Builder implements backends.Backend.
func (r *recBackend) Builder(name string) backends.Builder {
	b := &recBuilder{Builder: r.Backend.Builder(name), ids: make(map[backends.Op]int), tape: &tape{}}
	r.last = b
	return b
}

// recBuilder records ops while delegating them to the wrapped builder.
type recBuilder struct {
	backends.Builder
	ids  map[backends.Op]int
	tape *tape
}

// record appends op (the wrapped builder's result) to the tape.
func (b *recBuilder) record(kind string, op backends.Op, err error, ints map[string][]int, inputs ...backends.Op) (backends.Op, error) {
	if err != nil {
		return op, err
	}
	r := record{op: kind, ints: ints}
	for _, in := range inputs {
		id, ok := b.ids[in]
		if !ok {
			if b.tape.err == nil {
				b.tape.err = fmt.Errorf("onnx export: op %s consumes the result of backend op %s, which the exporter does not support", kind, opTypeName(in))
			}
			id = -1
		}
		r.inputs = append(r.inputs, id)
	}
	shape, err := b.Builder.OpShape(op)
	if err != nil {
		return op, err
	}
	r.shape = shape
	b.ids[op] = len(b.tape.recs)
	b.tape.recs = append(b.tape.recs, r)
	return op, nil
}

// opTypeName names the backend op that produced op, for error messages. The
// pure-Go backend keeps it in an unexported field, so it is read by reflection.
func opTypeName(op backends.Op) string {
	v := reflect.ValueOf(op)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("opType"); f.IsValid() && f.CanInt() {
			return backends.OpType(f.Int()).String()
		}
	}
	return fmt.Sprintf("%T", op)
}

// Compile records the outputs, then compiles on the wrapped builder so the
// traced graph can also be executed (the op-by-op tests rely on it).
func (b *recBuilder) Compile(outputs []backends.Op, shardings []*backends.ShardingSpec) (backends.Executable, error) {
	for _, o := range outputs {
		id, ok := b.ids[o]
		if !ok && b.tape.err == nil {
			b.tape.err = fmt.Errorf("onnx export: graph output comes from backend op %s, which the exporter does not support", opTypeName(o))
		}
		b.tape.outputs = append(b.tape.outputs, id)
	}
	return b.Builder.Compile(outputs, shardings)
}

// Parameter records a graph input (model input or variable).
func (b *recBuilder) Parameter(name string, shape shapes.Shape, sharding *backends.ShardingSpec) (backends.Op, error) {
	op, err := b.Builder.Parameter(name, shape, sharding)
	op, err = b.record("Parameter", op, err, nil)
	if err == nil {
		b.tape.recs[len(b.tape.recs)-1].name = name
		b.tape.params = append(b.tape.params, len(b.tape.recs)-1)
	}
	return op, err
}

// Constant records a constant tensor.
func (b *recBuilder) Constant(flat any, dims ...int) (backends.Op, error) {
	op, err := b.Builder.Constant(flat, dims...)
	op, err = b.record("Constant", op, err, map[string][]int{"dims": slices.Clone(dims)})
	if err == nil {
		b.tape.recs[len(b.tape.recs)-1].flat = cloneFlat(flat)
	}
	return op, err
}

// cloneFlat copies a flat slice so later mutation by the caller cannot change
// the recorded constant.
func cloneFlat(flat any) any {
	v := reflect.ValueOf(flat)
	if v.Kind() != reflect.Slice {
		return flat
	}
	c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
	reflect.Copy(c, v)
	return c.Interface()
}

// Iota records an iota (counter along one axis).
func (b *recBuilder) Iota(shape shapes.Shape, iotaAxis int) (backends.Op, error) {
	op, err := b.Builder.Iota(shape, iotaAxis)
	return b.record("Iota", op, err, map[string][]int{"axis": {iotaAxis}})
}

// Reshape records a reshape.
func (b *recBuilder) Reshape(x backends.Op, dims ...int) (backends.Op, error) {
	op, err := b.Builder.Reshape(x, dims...)
	return b.record("Reshape", op, err, nil, x)
}

// Transpose records a permutation of axes.
func (b *recBuilder) Transpose(x backends.Op, perm ...int) (backends.Op, error) {
	op, err := b.Builder.Transpose(x, perm...)
	return b.record("Transpose", op, err, map[string][]int{"perm": slices.Clone(perm)}, x)
}

// BroadcastInDim records a broadcast.
func (b *recBuilder) BroadcastInDim(x backends.Op, outputShape shapes.Shape, broadcastAxes []int) (backends.Op, error) {
	op, err := b.Builder.BroadcastInDim(x, outputShape, broadcastAxes)
	return b.record("BroadcastInDim", op, err, map[string][]int{"axes": slices.Clone(broadcastAxes)}, x)
}

// Concatenate records a concatenation.
func (b *recBuilder) Concatenate(axis int, operands ...backends.Op) (backends.Op, error) {
	op, err := b.Builder.Concatenate(axis, operands...)
	return b.record("Concatenate", op, err, map[string][]int{"axis": {axis}}, operands...)
}

// Slice records a strided static slice.
func (b *recBuilder) Slice(x backends.Op, starts, limits, strides []int) (backends.Op, error) {
	op, err := b.Builder.Slice(x, starts, limits, strides)
	return b.record("Slice", op, err, map[string][]int{
		"starts": slices.Clone(starts), "limits": slices.Clone(limits), "strides": slices.Clone(strides)}, x)
}

// ConvertDType records a cast.
func (b *recBuilder) ConvertDType(x backends.Op, dtype dtypes.DType) (backends.Op, error) {
	op, err := b.Builder.ConvertDType(x, dtype)
	op, err = b.record("ConvertDType", op, err, nil, x)
	if err == nil {
		b.tape.recs[len(b.tape.recs)-1].dtype = dtype
	}
	return op, err
}

// Where records a select.
func (b *recBuilder) Where(cond, onTrue, onFalse backends.Op) (backends.Op, error) {
	op, err := b.Builder.Where(cond, onTrue, onFalse)
	return b.record("Where", op, err, nil, cond, onTrue, onFalse)
}

// Clamp records clamp(min, x, max).
func (b *recBuilder) Clamp(lo, x, hi backends.Op) (backends.Op, error) {
	op, err := b.Builder.Clamp(lo, x, hi)
	return b.record("Clamp", op, err, nil, lo, x, hi)
}

// reduce records one of the reductions.
func (b *recBuilder) reduce(kind string, op backends.Op, err error, x backends.Op, axes []int) (backends.Op, error) {
	return b.record(kind, op, err, map[string][]int{"axes": slices.Clone(axes)}, x)
}

// ReduceSum records a sum reduction.
func (b *recBuilder) ReduceSum(x backends.Op, axes ...int) (backends.Op, error) {
	op, err := b.Builder.ReduceSum(x, axes...)
	return b.reduce("ReduceSum", op, err, x, axes)
}

// ReduceMax records a max reduction.
func (b *recBuilder) ReduceMax(x backends.Op, axes ...int) (backends.Op, error) {
	op, err := b.Builder.ReduceMax(x, axes...)
	return b.reduce("ReduceMax", op, err, x, axes)
}

// ReduceMin records a min reduction.
func (b *recBuilder) ReduceMin(x backends.Op, axes ...int) (backends.Op, error) {
	op, err := b.Builder.ReduceMin(x, axes...)
	return b.reduce("ReduceMin", op, err, x, axes)
}

// ReduceProduct records a product reduction.
func (b *recBuilder) ReduceProduct(x backends.Op, axes ...int) (backends.Op, error) {
	op, err := b.Builder.ReduceProduct(x, axes...)
	return b.reduce("ReduceProduct", op, err, x, axes)
}

// ReduceLogicalAnd records an all() reduction.
func (b *recBuilder) ReduceLogicalAnd(x backends.Op, axes ...int) (backends.Op, error) {
	op, err := b.Builder.ReduceLogicalAnd(x, axes...)
	return b.reduce("ReduceLogicalAnd", op, err, x, axes)
}

// ReduceLogicalOr records an any() reduction.
func (b *recBuilder) ReduceLogicalOr(x backends.Op, axes ...int) (backends.Op, error) {
	op, err := b.Builder.ReduceLogicalOr(x, axes...)
	return b.reduce("ReduceLogicalOr", op, err, x, axes)
}

// ArgMinMax records an arg-max/arg-min.
func (b *recBuilder) ArgMinMax(x backends.Op, axis int, outputDType dtypes.DType, isMin bool) (backends.Op, error) {
	op, err := b.Builder.ArgMinMax(x, axis, outputDType, isMin)
	op, err = b.record("ArgMinMax", op, err, map[string][]int{"axis": {axis}}, x)
	if err == nil {
		r := &b.tape.recs[len(b.tape.recs)-1]
		r.dtype, r.flag = outputDType, isMin
	}
	return op, err
}

// DotGeneral records a generalized contraction.
func (b *recBuilder) DotGeneral(lhs backends.Op, lhsContractingAxes, lhsBatchAxes []int, rhs backends.Op, rhsContractingAxes, rhsBatchAxes []int) (backends.Op, error) {
	op, err := b.Builder.DotGeneral(lhs, lhsContractingAxes, lhsBatchAxes, rhs, rhsContractingAxes, rhsBatchAxes)
	return b.record("DotGeneral", op, err, map[string][]int{
		"lc": slices.Clone(lhsContractingAxes), "lb": slices.Clone(lhsBatchAxes),
		"rc": slices.Clone(rhsContractingAxes), "rb": slices.Clone(rhsBatchAxes)}, lhs, rhs)
}

// Gather records an XLA gather.
func (b *recBuilder) Gather(operand, startIndices backends.Op, indexVectorAxis int, offsetOutputAxes, collapsedSliceAxes, startIndexMap, sliceSizes []int, indicesAreSorted bool) (backends.Op, error) {
	op, err := b.Builder.Gather(operand, startIndices, indexVectorAxis, offsetOutputAxes, collapsedSliceAxes, startIndexMap, sliceSizes, indicesAreSorted)
	return b.record("Gather", op, err, map[string][]int{
		"iva": {indexVectorAxis}, "offset": slices.Clone(offsetOutputAxes), "collapsed": slices.Clone(collapsedSliceAxes),
		"map": slices.Clone(startIndexMap), "sizes": slices.Clone(sliceSizes)}, operand, startIndices)
}

// ConvGeneral records a convolution.
func (b *recBuilder) ConvGeneral(input, kernel backends.Op, axes backends.ConvolveAxesConfig, strides []int, paddings [][2]int, inputDilations, kernelDilations []int, channelGroupCount, batchGroupCount int) (backends.Op, error) {
	op, err := b.Builder.ConvGeneral(input, kernel, axes, strides, paddings, inputDilations, kernelDilations, channelGroupCount, batchGroupCount)
	var padLo, padHi []int
	for _, p := range paddings {
		padLo, padHi = append(padLo, p[0]), append(padHi, p[1])
	}
	return b.record("ConvGeneral", op, err, map[string][]int{
		"in":      append([]int{axes.InputBatch, axes.InputChannels}, axes.InputSpatial...),
		"k":       append([]int{axes.KernelInputChannels, axes.KernelOutputChannels}, axes.KernelSpatial...),
		"out":     append([]int{axes.OutputBatch, axes.OutputChannels}, axes.OutputSpatial...),
		"strides": slices.Clone(strides), "padlo": padLo, "padhi": padHi,
		"idil": slices.Clone(inputDilations), "kdil": slices.Clone(kernelDilations),
		"groups": {channelGroupCount, batchGroupCount}}, input, kernel)
}
