package training

import (
	"fmt"
	"slices"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
)

// ortFrozen runs stage 2's frozen modules (model.Model.FrozenFeatures) in
// ONNX Runtime, exported with their trained weights as initializers (they
// do not change in stage 2); the stage-2 step graph then reads their
// outputs as inputs instead of recomputing the modules.
type ortFrozen struct {
	bound  *ort.Bound
	data   []matchInput // step arguments the modules read, in input order
	names  []string     // outputs, model.Config.FrozenNames order
	shapes [][]int
}

// stepInputNames are the model inputs of a step's arguments, by position.
var stepInputNames = []struct {
	name string
	arg  int
}{
	{"images", inImages}, {"points", inPoints}, {"point_valid", inPointValid}, {"intrinsics", inIntrinsics},
	{"cam_from_base", inCamFromBase}, {"proprio", inProprio}, {"instruction", inInstruction},
}

// newORTFrozen exports the frozen modules of t at its batch size and loads
// them.
func newORTFrozen(t *Trainer, args []any) (*ortFrozen, error) {
	cfg := t.cfg.Model
	f := &ortFrozen{names: cfg.FrozenNames()}
	for _, in := range stepInputNames {
		f.data = append(f.data, matchInput{name: in.name, arg: in.arg})
	}
	if cfg.VisualFeatureDim > 0 {
		f.data = append(f.data, matchInput{name: "patch_features", arg: featuresArg(t)})
	}
	var inputs []onnx.Input
	var bound []ort.Tensor
	for _, in := range f.data {
		a, ok := args[in.arg].(*tensors.Tensor)
		if !ok {
			return nil, fmt.Errorf("frozen modules: argument %d is %T", in.arg, args[in.arg])
		}
		dims := a.Shape().Dimensions
		inputs = append(inputs, onnx.Input{Name: in.name, DType: a.DType(), Dims: dims[1:]})
		bound = append(bound, ort.Tensor{Name: in.name, Shape: int64s(dims), Data: zeros(a.DType(), a.Shape().Size())})
	}
	var outShapes [][]int
	build := func(ctx *mlctx.Context, xs []*Node) []*Node {
		in := model.Inputs{Images: xs[0], Points: xs[1], PointValid: xs[2], Intrinsics: xs[3], CamFromBase: xs[4], Proprio: xs[5], Instruction: xs[6]}
		if cfg.VisualFeatureDim > 0 {
			in.PatchFeatures = xs[7]
		}
		nodes := t.model.FrozenFeatures(ctx, in).Nodes(cfg)
		outShapes = outShapes[:0]
		for _, n := range nodes {
			outShapes = append(outShapes, slices.Clone(n.Shape().Dimensions))
		}
		return nodes
	}
	raw, err := onnx.Export(t.vars.Checked(false), inputs, f.names, build,
		onnx.Options{FixedBatch: t.cfg.BatchSize, GraphName: "vla3d_frozen_modules"})
	if err != nil {
		return nil, fmt.Errorf("frozen modules export: %w", err)
	}
	var outs []ort.Tensor
	for i, name := range f.names {
		n := 1
		for _, d := range outShapes[i] {
			n *= d
		}
		outs = append(outs, ort.Tensor{Name: name, Shape: int64s(outShapes[i]), Data: make([]float32, n)})
	}
	f.shapes = outShapes
	if f.bound, err = ort.NewBound(raw, bound, outs, ort.Options{Providers: []string{ort.ProviderCPU}, Logger: t.log}); err != nil {
		return nil, fmt.Errorf("frozen modules: %w", err)
	}
	return f, nil
}

// features runs the frozen modules on a step's arguments and returns their
// outputs as new tensors, in FrozenNames order.
func (f *ortFrozen) features(args []any) ([]any, error) {
	for _, in := range f.data {
		if err := copyInto(f.bound.Data(in.name), args[in.arg].(*tensors.Tensor)); err != nil {
			return nil, fmt.Errorf("frozen modules input %s: %w", in.name, err)
		}
	}
	if err := f.bound.Run(); err != nil {
		return nil, err
	}
	out := make([]any, len(f.names))
	for i, name := range f.names {
		out[i] = tensors.FromFlatDataAndDimensions(slices.Clone(f.bound.Data(name).([]float32)), f.shapes[i]...)
	}
	return out, nil
}

func (f *ortFrozen) close() error {
	if f == nil || f.bound == nil {
		return nil
	}
	err := f.bound.Close()
	f.bound = nil
	return err
}

// featuresArg is the position of the patch-features argument of a step.
func featuresArg(t *Trainer) int {
	i := numBaseInputs
	if t.matchingOn(t.stage) {
		i += numLabelInputs
	}
	if t.completionIn() {
		i += 2
	}
	return i
}
