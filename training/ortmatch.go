package training

import (
	"errors"
	"fmt"

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

// ortMatch is the matching pass exported to ONNX with the model's variables
// as inputs, so one session follows the weights as they train: each step
// copies the batch and the current variable values in and runs.
type ortMatch struct {
	bound *ort.Bound
	data  []matchInput      // step arguments the pass reads, in input order
	vars  []*mlctx.Variable // the graph's variable inputs, in order
	names []string          // their input names
}

type matchInput struct {
	name string
	arg  int // index into the step's arguments
}

// matchCostOutput names the exported cost [B,Q,G].
const matchCostOutput = "match_cost"

// newORTMatch exports the matching pass of t at its batch size and loads it.
func newORTMatch(t *Trainer, args []any) (*ortMatch, error) {
	withFeatures := t.cfg.Model.VisualFeatureDim > 0
	var names []string
	var args0 []int
	for _, in := range stepInputNames {
		names, args0 = append(names, in.name), append(args0, in.arg)
	}
	for k, name := range []string{"gt_boxes", "gt_box_valid", "gt_centroids"} {
		names = append(names, name)
		args0 = append(args0, numBaseInputs+[]int{inGTBoxes, inGTBoxValid, inGTCentroids}[k])
	}
	if withFeatures {
		names = append(names, "patch_features")
		args0 = append(args0, featuresArg(t))
	}
	m := &ortMatch{}
	var inputs []onnx.Input
	var bound []ort.Tensor
	for k, name := range names {
		a, ok := args[args0[k]].(*tensors.Tensor)
		if !ok {
			return nil, fmt.Errorf("matching pass: argument %d is %T", args0[k], args[args0[k]])
		}
		dims := a.Shape().Dimensions
		inputs = append(inputs, onnx.Input{Name: name, DType: a.DType(), Dims: dims[1:]})
		bound = append(bound, ort.Tensor{Name: name, Shape: int64s(dims), Data: zeros(a.DType(), a.Shape().Size())})
		m.data = append(m.data, matchInput{name: name, arg: args0[k]})
	}
	build := func(ctx *mlctx.Context, xs []*Node) []*Node {
		ctx.SetTraining(xs[0].Graph(), true)
		in := model.Inputs{Images: xs[0], Points: xs[1], PointValid: xs[2], Intrinsics: xs[3], CamFromBase: xs[4], Proprio: xs[5], Instruction: xs[6]}
		if withFeatures {
			in.PatchFeatures = xs[10]
		}
		out := t.model.Instances(ctx, in)
		return []*Node{matchCost(t.cfg.Loss, out.ClassLogits, out.Boxes, out.RefPoints, xs[7], xs[8], xs[9])}
	}
	raw, varNames, err := onnx.ExportWithVariables(t.vars.Checked(false), inputs, []string{matchCostOutput}, build,
		onnx.Options{FixedBatch: t.cfg.BatchSize, GraphName: "vla3d_matching"})
	if err != nil {
		return nil, fmt.Errorf("matching pass export: %w", err)
	}
	byName := map[string]*mlctx.Variable{}
	for v := range t.vars.IterVariables() {
		byName[v.ScopeAndName()] = v
	}
	for _, name := range varNames {
		v := byName[name]
		if v == nil {
			return nil, fmt.Errorf("matching pass: variable %s not in the trainer's context", name)
		}
		m.vars, m.names = append(m.vars, v), append(m.names, name)
		shape := int64s(v.Shape().Dimensions)
		if len(shape) == 0 {
			shape = []int64{1} // see onnx.ExportWithVariables
		}
		bound = append(bound, ort.Tensor{Name: name, Shape: shape, Data: zeros(v.DType(), v.Shape().Size())})
	}
	b, q, g := t.cfg.BatchSize, t.cfg.Model.Probes, t.layout.MaxInstances
	out := ort.Tensor{Name: matchCostOutput, Shape: []int64{int64(b), int64(q), int64(g)}, Data: make([]float32, b*q*g)}
	if m.bound, err = ort.NewBound(raw, bound, []ort.Tensor{out}, ort.Options{Providers: []string{ort.ProviderCPU}, Logger: t.log}); err != nil {
		return nil, fmt.Errorf("matching pass: %w", err)
	}
	return m, nil
}

// cost runs the pass on a step's arguments with the current weights and
// returns the cost [B,Q,G] (valid until the next call).
func (m *ortMatch) cost(args []any) ([]float32, error) {
	for _, in := range m.data {
		if err := copyInto(m.bound.Data(in.name), args[in.arg].(*tensors.Tensor)); err != nil {
			return nil, fmt.Errorf("matching pass input %s: %w", in.name, err)
		}
	}
	for i, v := range m.vars {
		val, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("matching pass variable %s: %w", m.names[i], err)
		}
		if err := copyInto(m.bound.Data(m.names[i]), val); err != nil {
			return nil, fmt.Errorf("matching pass variable %s: %w", m.names[i], err)
		}
	}
	if err := m.bound.Run(); err != nil {
		return nil, err
	}
	return m.bound.Data(matchCostOutput).([]float32), nil
}

func (m *ortMatch) close() error {
	if m == nil || m.bound == nil {
		return nil
	}
	err := m.bound.Close()
	m.bound = nil
	return err
}

// copyInto copies a tensor's values into a bound buffer of the same type
// and size.
func copyInto(dst any, src *tensors.Tensor) error {
	var err error
	accessErr := src.ConstFlatData(func(flat any) {
		switch d := dst.(type) {
		case []float32:
			s, ok := flat.([]float32)
			if !ok || len(s) != len(d) {
				err = fmt.Errorf("have %T[%d], want []float32[%d]", flat, len(s), len(d))
				return
			}
			copy(d, s)
		case []int64:
			s, ok := flat.([]int64)
			if !ok || len(s) != len(d) {
				err = fmt.Errorf("have %T[%d], want []int64[%d]", flat, len(s), len(d))
				return
			}
			copy(d, s)
		default:
			err = fmt.Errorf("unsupported buffer %T", dst)
		}
	})
	return errors.Join(accessErr, err)
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
