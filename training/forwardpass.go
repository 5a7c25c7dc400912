package training

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
)

// Where a step's forward-only passes run: stage 1's matching pass (the
// instance module's forward pass and the Hungarian cost, before each
// optimizer step) and stage 2's frozen modules. Neither needs gradients,
// and ONNX Runtime's CPU matmuls run an order of magnitude faster than the
// pure-Go backend's (policy/ort BenchmarkMatMulKernel).
const (
	// ForwardAuto runs them in ONNX Runtime when the library loads, else on
	// the training backend.
	ForwardAuto = "auto"
	// ForwardORT runs them in ONNX Runtime on the CPU, or fails.
	ForwardORT = "ort"
	// ForwardGoMLX runs them on the training backend (keep them on a GPU).
	ForwardGoMLX = "gomlx"
)

// stepArg names one of a step's arguments (Batch.tensors) as a pass input.
type stepArg struct {
	name string
	arg  int // index into the step's arguments
}

// modelArgs are the model inputs among a step's arguments, in model.Inputs
// order; with a frozen encoder, its patch features last.
func modelArgs(t *Trainer) []stepArg {
	in := []stepArg{
		{"images", inImages}, {"points", inPoints}, {"point_valid", inPointValid}, {"intrinsics", inIntrinsics},
		{"cam_from_base", inCamFromBase}, {"proprio", inProprio}, {"instruction", inInstruction},
	}
	if t.cfg.Model.VisualFeatureDim > 0 {
		i := numBaseInputs
		if t.matchingOn(t.stage) {
			i += numLabelInputs
		}
		if t.completionIn() {
			i += 2
		}
		in = append(in, stepArg{"patch_features", i})
	}
	return in
}

// modelInputs is model.Inputs over the first nodes of a pass, laid out as
// modelArgs.
func modelInputs(t *Trainer, xs []*Node) model.Inputs {
	in := model.Inputs{Images: xs[0], Points: xs[1], PointValid: xs[2], Intrinsics: xs[3], CamFromBase: xs[4], Proprio: xs[5], Instruction: xs[6]}
	if t.cfg.Model.VisualFeatureDim > 0 {
		in.PatchFeatures = xs[7]
	}
	return in
}

// forwardPass is a forward-only part of a training step exported to ONNX at
// the batch size and run in ONNX Runtime: its inputs are some of the step's
// arguments and, with variableInputs, the current values of the variables
// it reads (so one session follows the weights as they train).
type forwardPass struct {
	what    string
	bound   *ort.Bound
	inputs  []stepArg
	vars    []*mlctx.Variable
	outputs []string
	shapes  [][]int
}

// newForwardPass exports build (over the inputs' nodes, in order) with
// output names outputs and loads it.
func newForwardPass(t *Trainer, what string, args []any, inputs []stepArg, outputs []string, variableInputs bool,
	build func(ctx *mlctx.Context, xs []*Node) []*Node) (*forwardPass, error) {
	p := &forwardPass{what: what, inputs: inputs, outputs: outputs}
	var declared []onnx.Input
	var bound []ort.Tensor
	for _, in := range inputs {
		a, ok := args[in.arg].(*tensors.Tensor)
		if !ok {
			return nil, fmt.Errorf("%s: argument %d is %T", what, in.arg, args[in.arg])
		}
		dims := a.Shape().Dimensions
		declared = append(declared, onnx.Input{Name: in.name, DType: a.DType(), Dims: dims[1:]})
		bound = append(bound, ort.Tensor{Name: in.name, Shape: int64s(dims), Data: zeros(a.DType(), a.Shape().Size())})
	}
	traced := func(ctx *mlctx.Context, xs []*Node) []*Node {
		nodes := build(ctx, xs)
		p.shapes = p.shapes[:0]
		for _, n := range nodes {
			p.shapes = append(p.shapes, slices.Clone(n.Shape().Dimensions))
		}
		return nodes
	}
	opts := onnx.Options{FixedBatch: t.cfg.BatchSize, GraphName: "vla3d_" + what}
	var raw []byte
	var varNames []string
	var err error
	if variableInputs {
		raw, varNames, err = onnx.ExportWithVariables(t.vars.Checked(false), declared, outputs, traced, opts)
	} else {
		raw, err = onnx.Export(t.vars.Checked(false), declared, outputs, traced, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s export: %w", what, err)
	}
	byName := map[string]*mlctx.Variable{}
	for v := range t.vars.IterVariables() {
		byName[v.ScopeAndName()] = v
	}
	for _, name := range varNames {
		v := byName[name]
		if v == nil {
			return nil, fmt.Errorf("%s: variable %s not in the trainer's context", what, name)
		}
		p.vars = append(p.vars, v)
		shape := int64s(v.Shape().Dimensions)
		if len(shape) == 0 {
			shape = []int64{1} // see onnx.ExportWithVariables
		}
		bound = append(bound, ort.Tensor{Name: name, Shape: shape, Data: zeros(v.DType(), v.Shape().Size())})
	}
	var outs []ort.Tensor
	for i, name := range outputs {
		outs = append(outs, ort.Tensor{Name: name, Shape: int64s(p.shapes[i]), Data: make([]float32, shapeSize(p.shapes[i]))})
	}
	if p.bound, err = ort.NewBound(raw, bound, outs, ort.Options{Providers: []string{ort.ProviderCPU}, Logger: t.log}); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return p, nil
}

// run copies a step's arguments (and the current variable values) in and
// runs the pass; output reads the results.
func (p *forwardPass) run(args []any) error {
	for _, in := range p.inputs {
		if err := copyInto(p.bound.Data(in.name), args[in.arg].(*tensors.Tensor)); err != nil {
			return fmt.Errorf("%s input %s: %w", p.what, in.name, err)
		}
	}
	for _, v := range p.vars {
		val, err := v.Value()
		if err == nil {
			err = copyInto(p.bound.Data(v.ScopeAndName()), val)
		}
		if err != nil {
			return fmt.Errorf("%s variable %s: %w", p.what, v.ScopeAndName(), err)
		}
	}
	if err := p.bound.Run(); err != nil {
		return fmt.Errorf("%s: %w", p.what, err)
	}
	return nil
}

// output is the i-th output's buffer, valid until the next run.
func (p *forwardPass) output(i int) []float32 { return p.bound.Data(p.outputs[i]).([]float32) }

// outputTensors copies every output into a new tensor.
func (p *forwardPass) outputTensors() []any {
	out := make([]any, len(p.outputs))
	for i := range p.outputs {
		out[i] = tensors.FromFlatDataAndDimensions(slices.Clone(p.output(i)), p.shapes[i]...)
	}
	return out
}

func (p *forwardPass) close() error {
	if p == nil || p.bound == nil {
		return nil
	}
	err := p.bound.Close()
	p.bound = nil
	return err
}

// newMatchingPass is stage 1's matching pass: the instance path in training
// mode (Model.Instances, with the box head) and the Hungarian cost
// [B,Q,G], with the weights as inputs.
func newMatchingPass(t *Trainer, args []any) (*forwardPass, error) {
	inputs := modelArgs(t)
	n := len(inputs)
	inputs = append(inputs, stepArg{"gt_boxes", numBaseInputs + inGTBoxes}, stepArg{"gt_box_valid", numBaseInputs + inGTBoxValid},
		stepArg{"gt_centroids", numBaseInputs + inGTCentroids})
	return newForwardPass(t, "matching_pass", args, inputs, []string{"match_cost"}, true, func(ctx *mlctx.Context, xs []*Node) []*Node {
		ctx.SetTraining(xs[0].Graph(), true)
		out := t.model.Instances(ctx, modelInputs(t, xs))
		return []*Node{matchCost(t.cfg.Loss, out.ClassLogits, out.Boxes, out.RefPoints, xs[n], xs[n+1], xs[n+2])}
	})
}

// newFrozenPass is stage 2's frozen modules (Model.FrozenFeatures), with
// their trained weights as initializers: they do not change in stage 2.
func newFrozenPass(t *Trainer, args []any) (*forwardPass, error) {
	return newForwardPass(t, "frozen_modules", args, modelArgs(t), t.cfg.Model.FrozenNames(), false, func(ctx *mlctx.Context, xs []*Node) []*Node {
		return t.model.FrozenFeatures(ctx, modelInputs(t, xs)).Nodes(t.cfg.Model)
	})
}

// copyInto copies a tensor's values into a bound buffer of the same type
// and size.
func copyInto(dst any, src *tensors.Tensor) error {
	var err error
	accessErr := src.ConstFlatData(func(flat any) {
		switch d := dst.(type) {
		case []float32:
			err = copySame(d, flat)
		case []int64:
			err = copySame(d, flat)
		default:
			err = fmt.Errorf("unsupported buffer %T", dst)
		}
	})
	return errors.Join(accessErr, err)
}

func copySame[T float32 | int64](dst []T, flat any) error {
	src, ok := flat.([]T)
	if !ok || len(src) != len(dst) {
		return fmt.Errorf("have %T of %d, want %T of %d", flat, len(src), dst, len(dst))
	}
	copy(dst, src)
	return nil
}

func zeros(dt dtypes.DType, n int) any {
	if dt == dtypes.Int64 {
		return make([]int64, n)
	}
	return make([]float32, n)
}

func int64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func shapeSize(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}
