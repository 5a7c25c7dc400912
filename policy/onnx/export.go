// Package onnx exports GoMLX graphs (the 3DVLA inference graph in
// particular) to ONNX models that ONNX Runtime, and TensorRT through it, can
// run. GoMLX has no ONNX exporter, so this package traces the graph through a
// recording wrapper of the pure-Go backend, fits every shape to the batch
// size so the batch axis stays dynamic, and writes the ModelProto with a
// hand-written protobuf subset. Trained variables become initializers.
package onnx

import (
	"errors"
	"fmt"
	"os"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// DefaultOpset is the ONNX opset written: 18 is the first with every
// reduction taking axes as an input (uniform lowering), and is supported by
// ONNX Runtime 1.30 and its TensorRT execution provider.
const DefaultOpset = 18

// irVersion is the ONNX IR version matching opset 18.
const irVersion = 8

// BatchDim is the symbolic name of the dynamic batch axis in the model.
const BatchDim = "batch"

// Input describes one model input; a leading batch axis is added to Dims.
type Input struct {
	Name  string
	DType dtypes.DType
	Dims  []int // per-sample dimensions
}

// BuildFunc builds the graph from the input nodes (one per Input, in order,
// each with the leading batch axis) and returns the output nodes.
type BuildFunc func(ctx *context.Context, inputs []*graph.Node) []*graph.Node

// Options configures an export.
type Options struct {
	Opset           int // default DefaultOpset
	GraphName       string
	ProducerVersion string
	DocString       string
	// Metadata is written as ModelProto.metadata_props (e.g. the sidecar JSON).
	Metadata map[string]string
	// VariableInputs makes the context's variables graph inputs instead of
	// initializers, so one session can run with weights that change, e.g.
	// a training step's forward pass (see ExportWithVariables).
	VariableInputs bool
	// FixedBatch > 0 exports a static batch of that size instead of a
	// dynamic batch axis. Static shapes let ONNX Runtime plan memory much
	// faster at session creation (its planner is slow on large graphs with
	// symbolic shapes) and are what TensorRT engines prefer.
	FixedBatch int
}

// Export traces build at several batch sizes and returns the serialized ONNX
// model with the given output names. ctx must hold the trained variables (or
// will have missing ones initialized by their initializers).
func Export(ctx *context.Context, inputs []Input, outputs []string, build BuildFunc, opts Options) ([]byte, error) {
	m, _, err := buildModel(ctx, inputs, outputs, build, opts)
	if err != nil {
		return nil, err
	}
	return m.marshal(), nil
}

// ExportWithVariables is Export with opts.VariableInputs set: it also
// returns the variables (by Variable.ScopeAndName) that follow the declared
// inputs as graph inputs, in input order. A scalar variable's input has
// shape [1].
func ExportWithVariables(ctx *context.Context, inputs []Input, outputs []string, build BuildFunc, opts Options) (model []byte, variables []string, err error) {
	opts.VariableInputs = true
	m, vars, err := buildModel(ctx, inputs, outputs, build, opts)
	if err != nil {
		return nil, nil, err
	}
	return m.marshal(), vars, nil
}

// WriteFile exports to path (see Export).
func WriteFile(path string, ctx *context.Context, inputs []Input, outputs []string, build BuildFunc, opts Options) error {
	b, err := Export(ctx, inputs, outputs, build, opts)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("onnx export: %w", err)
	}
	return nil
}

// trace builds the graph once at batch size b on a recording backend.
func trace(rb *recBackend, ctx *context.Context, inputs []Input, nOut int, build BuildFunc, b int) (t *tape, err error) {
	defer func() {
		if p := recover(); p != nil {
			if pe, ok := p.(error); ok {
				err = fmt.Errorf("onnx export: building the graph at batch %d: %w", b, pe)
			} else {
				err = fmt.Errorf("onnx export: building the graph at batch %d: %v", b, p)
			}
		}
	}()
	g := graph.NewGraph(rb, fmt.Sprintf("onnx_export_b%d", b))
	defer g.Finalize()
	nodes := make([]*graph.Node, len(inputs))
	for i, in := range inputs {
		nodes[i] = graph.Parameter(g, in.Name, shapes.Make(in.DType, append([]int{b}, in.Dims...)...))
	}
	ctx.SetTraining(g, false)
	outs := build(ctx, nodes)
	if len(outs) != nOut {
		return nil, fmt.Errorf("onnx export: build returned %d outputs, want %d", len(outs), nOut)
	}
	g.Compile(outs...)
	t = rb.last.tape
	if t.err != nil {
		return nil, t.err
	}
	return t, nil
}

func buildModel(ctx *context.Context, inputs []Input, outputs []string, build BuildFunc, opts Options) (*modelProto, []string, error) {
	if opts.Opset == 0 {
		opts.Opset = DefaultOpset
	}
	if opts.GraphName == "" {
		opts.GraphName = "vla3d"
	}
	inner, err := simplego.New("ops_sequential") // see ops_test.go: avoids a workers-pool deadlock
	if err != nil {
		return nil, nil, fmt.Errorf("onnx export: pure-Go backend: %w", err)
	}
	defer inner.Finalize()
	batches := dynamicBatches
	if opts.FixedBatch > 0 {
		batches = [3]int{opts.FixedBatch, opts.FixedBatch, opts.FixedBatch}
	}
	tapes, err := traceBatches(&recBackend{Backend: inner}, ctx, inputs, len(outputs), build, batches)
	if err != nil {
		return nil, nil, err
	}
	if err := initializeToHost(ctx, inner); err != nil {
		return nil, nil, err
	}
	recs, err := symbolize(tapes, batches)
	if err != nil {
		return nil, nil, err
	}
	e := &emitter{recs: recs, names: make([]string, len(recs)), consts: make(map[string]string), variableInputs: opts.VariableInputs}
	e.g.Name = opts.GraphName
	if err := e.emitParameters(ctx, tapes[0], inputs); err != nil {
		return nil, nil, err
	}
	if err := e.emitOps(); err != nil {
		return nil, nil, err
	}
	if err := e.emitValueInfo(); err != nil {
		return nil, nil, err
	}
	if err := e.emitOutputs(tapes[0], outputs); err != nil {
		return nil, nil, err
	}
	if opts.Opset >= 17 { // LayerNormalization's opset (Softmax's is 13)
		fuseLayerNorms(&e.g)
		fuseSoftmaxes(&e.g)
	}
	m := &modelProto{
		IRVersion:       irVersion,
		Opset:           int64(opts.Opset),
		ProducerName:    "vla3d",
		ProducerVersion: opts.ProducerVersion,
		DocString:       opts.DocString,
		Graph:           e.g,
	}
	for k, v := range opts.Metadata {
		m.Metadata = append(m.Metadata, [2]string{k, v})
	}
	return m, e.variables, nil
}

// traceBatches records the graph once per batch size (the dynamic batch is
// fitted from the three traces; a fixed batch needs one).
func traceBatches(rb *recBackend, ctx *context.Context, inputs []Input, nOut int, build BuildFunc, batches [3]int) ([3]*tape, error) {
	var tapes [3]*tape
	for i, b := range batches {
		if i > 0 && b == batches[0] {
			tapes[i] = tapes[0]
			continue
		}
		c := ctx
		if i > 0 || ctx.NumVariables() > 0 {
			// Later traces (and an already populated context) reuse variables.
			c = ctx.Reuse()
		}
		var err error
		if tapes[i], err = trace(rb, c, inputs, nOut, build, b); err != nil {
			return tapes, err
		}
	}
	return tapes, nil
}

// initializeToHost initializes the variables the traces created and moves
// their values to host memory: they live on the exporter's private backend,
// finalized on return, and the caller's context must stay usable.
func initializeToHost(ctx *context.Context, backend backends.Backend) error {
	if !ctx.NeedsInitialization() {
		return nil
	}
	var fresh []*context.Variable
	for v := range ctx.IterVariables() {
		if !v.HasValue() {
			fresh = append(fresh, v)
		}
	}
	if err := ctx.InitializeVariables(backend, nil); err != nil {
		return fmt.Errorf("onnx export: initializing variables: %w", err)
	}
	for _, v := range fresh {
		t, err := v.Value()
		if err == nil {
			err = t.ToLocal()
		}
		if err != nil {
			return fmt.Errorf("onnx export: variable %s: %w", v.ScopeAndName(), err)
		}
	}
	return nil
}

// emitParameters turns the traced parameters into graph inputs (the named
// inputs) and initializers (the variables), and finds the batch axis.
func (e *emitter) emitParameters(ctx *context.Context, t *tape, inputs []Input) error {
	var variables []valueInfo
	inputByName := make(map[string]bool, len(inputs))
	for _, in := range inputs {
		inputByName[in.Name] = true
	}
	for _, id := range t.params {
		r := &e.recs[id]
		if !inputByName[r.name] && e.variableInputs {
			v, err := paramVariable(ctx, r)
			if err != nil {
				return err
			}
			vi, err := valueInfoOf(v.ScopeAndName(), r)
			if err != nil {
				return err
			}
			e.names[id] = v.ScopeAndName()
			if len(r.dims) == 0 {
				// Scalars travel as [1] (runtimes' tensor APIs refuse rank
				// 0) and are reshaped back.
				vi.Dims = []dimension{{Value: 1}}
				e.names[id] = e.node("Reshape", []string{v.ScopeAndName(), e.ints64(nil)})
			}
			variables = append(variables, vi)
			e.variables = append(e.variables, v.ScopeAndName())
			continue
		}
		if !inputByName[r.name] {
			init, err := variableInitializer(ctx, r)
			if err != nil {
				return err
			}
			e.g.Initializers = append(e.g.Initializers, init)
			e.names[id] = init.Name
			continue
		}
		vi, err := valueInfoOf(r.name, r)
		if err != nil {
			return err
		}
		e.g.Inputs = append(e.g.Inputs, vi)
		e.names[id] = r.name
		if e.batchSrc.name == "" {
			for ax, d := range r.dims {
				if d == (sym{a: 1}) {
					e.batchSrc.name, e.batchSrc.axis = r.name, ax
					break
				}
			}
		}
	}
	if len(e.g.Inputs) != len(inputs) {
		return fmt.Errorf("onnx export: %d of %d inputs are used by the graph; unused inputs cannot be exported", len(e.g.Inputs), len(inputs))
	}
	e.g.Inputs = append(e.g.Inputs, variables...)
	return nil
}

// emitOps emits every recorded op (constants become initializers).
func (e *emitter) emitOps() error {
	recs := e.recs
	for i := range recs {
		switch recs[i].op {
		case "Parameter":
			continue
		case "Constant":
			raw, dt, err := rawData(recs[i].flat)
			if err != nil {
				return err
			}
			name := e.fresh("const")
			dims := make([]int64, len(recs[i].dims))
			for k, d := range recs[i].dims {
				dims[k] = int64(d.c)
			}
			e.g.Initializers = append(e.g.Initializers, tensorProto{Name: name, DataType: dt, Dims: dims, Raw: raw})
			e.names[i] = name
			continue
		}
		var err error
		if e.names[i], err = e.emit(i); err != nil {
			return fmt.Errorf("%w (op #%d, output shape %s)", err, i, recs[i].shape)
		}
	}
	return nil
}

// emitValueInfo records the shape of every intermediate value, with
// batch-dependent axes named after their affine form: ONNX shape inference
// cannot see through a runtime-built Reshape target, and without these ONNX
// Runtime's memory planner treats each such axis as a fresh unknown, which
// made session creation of the full policy take seconds.
func (e *emitter) emitValueInfo() error {
	seen := make(map[string]bool)
	for _, vi := range e.g.Inputs {
		seen[vi.Name] = true
	}
	for _, t := range e.g.Initializers {
		seen[t.Name] = true
	}
	for i := range e.recs {
		if seen[e.names[i]] {
			continue
		}
		seen[e.names[i]] = true
		vi, err := valueInfoOf(e.names[i], &e.recs[i])
		if err != nil {
			return err
		}
		e.g.ValueInfo = append(e.g.ValueInfo, vi)
	}
	return nil
}

// emitOutputs names the graph outputs (Identity nodes onto the traced values).
func (e *emitter) emitOutputs(t *tape, outputs []string) error {
	for k, id := range t.outputs {
		e.g.Nodes = append(e.g.Nodes, nodeProto{Name: "output_" + outputs[k], OpType: "Identity", Inputs: []string{e.names[id]}, Outputs: []string{outputs[k]}})
		vi, err := valueInfoOf(outputs[k], &e.recs[id])
		if err != nil {
			return err
		}
		e.g.Outputs = append(e.g.Outputs, vi)
	}
	return nil
}

// valueInfoOf describes a graph input/output, with the batch axis symbolic.
func valueInfoOf(name string, r *symRecord) (valueInfo, error) {
	dt, err := onnxDType(r.shape.DType)
	if err != nil {
		return valueInfo{}, err
	}
	vi := valueInfo{Name: name, ElemType: dt}
	for _, d := range r.dims {
		switch {
		case d.static():
			vi.Dims = append(vi.Dims, dimension{Value: int64(d.c)})
		case d == sym{a: 1}:
			vi.Dims = append(vi.Dims, dimension{Param: BatchDim})
		default:
			vi.Dims = append(vi.Dims, dimension{Param: fmt.Sprintf("%d*%s%+d", d.a, BatchDim, d.c)})
		}
	}
	return vi, nil
}

// variableInitializer turns a variable parameter into an initializer holding
// its current value.
func variableInitializer(ctx *context.Context, r *symRecord) (tensorProto, error) {
	v, err := paramVariable(ctx, r)
	if err != nil {
		return tensorProto{}, err
	}
	t, err := v.Value()
	if err != nil {
		return tensorProto{}, fmt.Errorf("onnx export: variable %s: %w", v.ScopeAndName(), err)
	}
	raw, dt, err := tensorRaw(t)
	if err != nil {
		return tensorProto{}, fmt.Errorf("onnx export: variable %s: %w", v.ScopeAndName(), err)
	}
	dims := make([]int64, t.Rank())
	for i, d := range t.Shape().Dimensions {
		dims[i] = int64(d)
	}
	return tensorProto{Name: v.ScopeAndName(), DataType: dt, Dims: dims, Raw: raw}, nil
}

// paramVariable is the context variable behind a traced parameter that is
// not a declared input.
func paramVariable(ctx *context.Context, r *symRecord) (*context.Variable, error) {
	if !allStatic(r.dims) {
		return nil, fmt.Errorf("onnx export: parameter %q has a batch-sized shape but is not a declared input", r.name)
	}
	scope, name := context.VariableScopeAndNameFromParameterName(r.name)
	v := ctx.InspectVariable(scope, name)
	if v == nil {
		return nil, fmt.Errorf("onnx export: parameter %q is neither an input nor a context variable", r.name)
	}
	return v, nil
}

func tensorRaw(t *tensors.Tensor) (raw []byte, dt int32, err error) {
	accessErr := t.ConstFlatData(func(flat any) { raw, dt, err = rawData(flat) })
	return raw, dt, errors.Join(accessErr, err)
}

// Interface check: the recorder is a full backend.
var _ backends.Backend = (*recBackend)(nil)
