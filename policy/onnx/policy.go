package onnx

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
)

// SpecMetadataKey is the ModelProto metadata entry holding the sidecar JSON,
// so a model file stays self-describing even without its model.json.
const SpecMetadataKey = "vla3d.spec"

// PolicyInputs are the model inputs for cfg, per sample (the batch axis is
// added by Export). Noise is an input only for the flow head, whose
// inference graph is deterministic given it. With a frozen visual encoder
// (cfg.VisualFeatureDim > 0) the first input is its patch features
// [V,N,Dv] instead of the images, which the graph then never reads.
func PolicyInputs(cfg model.Config) []Input {
	v, n := cfg.Cameras, cfg.Patches()
	visual := Input{Name: policy.TensorImages, DType: dtypes.Float32, Dims: []int{v, 3, cfg.ImageHeight, cfg.ImageWidth}}
	if cfg.VisualFeatureDim > 0 {
		visual = Input{Name: policy.TensorPatchFeatures, DType: dtypes.Float32, Dims: []int{v, n, cfg.VisualFeatureDim}}
	}
	in := observationInputs(visual, v, n, cfg.ProprioDim, cfg.InstructionLen)
	if cfg.ActionHead == model.HeadFlow {
		in = append(in, Input{Name: policy.TensorNoise, DType: dtypes.Float32, Dims: []int{cfg.Horizon, cfg.ActionDim}})
	}
	return in
}

// SpecInputs are the inputs the node feeds a model of spec s, per sample:
// images and the observation tensors, no noise (a deterministic head).
func SpecInputs(s policy.Spec) []Input {
	v, n := s.Cameras, s.PatchesPerView()
	visual := Input{Name: policy.TensorImages, DType: dtypes.Float32, Dims: []int{v, 3, s.ImageHeight, s.ImageWidth}}
	return observationInputs(visual, v, n, s.ProprioDim, s.InstructionLen)
}

// observationInputs lists the visual input, then the geometry, proprio and
// instruction inputs of v views of n patches each.
func observationInputs(visual Input, v, n, proprioDim, instructionLen int) []Input {
	return []Input{
		visual,
		{Name: policy.TensorPoints, DType: dtypes.Float32, Dims: []int{v, n, 3}},
		{Name: policy.TensorPointValid, DType: dtypes.Float32, Dims: []int{v, n}},
		{Name: policy.TensorIntrinsics, DType: dtypes.Float32, Dims: []int{v, 4}},
		{Name: policy.TensorCamFromBase, DType: dtypes.Float32, Dims: []int{v, 12}},
		{Name: policy.TensorProprio, DType: dtypes.Float32, Dims: []int{proprioDim}},
		{Name: policy.TensorInstruction, DType: dtypes.Int64, Dims: []int{instructionLen}},
	}
}

// PolicyOutputs are the exported model's outputs for cfg: the normalized
// actions, then what the 3D modules perceived (policy.Perception): instance
// points and scores with the instance module, completion points with the
// predictor, anchor points with anchors.
func PolicyOutputs(cfg model.Config) []string {
	out := []string{policy.TensorActions}
	if cfg.Modules.Instance {
		out = append(out, policy.TensorInstancePoints, policy.TensorInstanceScores)
		if cfg.Modules.Predictor {
			out = append(out, policy.TensorCompletionPoints)
		}
	}
	if cfg.Anchors > 0 {
		out = append(out, policy.TensorAnchorPoints)
	}
	return out
}

// PolicyBuild is the inference graph of m, taking the nodes of PolicyInputs
// in order and returning the nodes of PolicyOutputs.
func PolicyBuild(m *model.Model) BuildFunc {
	return func(ctx *context.Context, x []*graph.Node) []*graph.Node {
		in := model.Inputs{
			Images: x[0], Points: x[1], PointValid: x[2], Intrinsics: x[3],
			CamFromBase: x[4], Proprio: x[5], Instruction: x[6],
		}
		if c := m.Config; c.VisualFeatureDim > 0 {
			// The model takes its graph and batch size from Images; with
			// features it reads nothing else of them, so a placeholder that
			// the compiled graph prunes stands in.
			in.PatchFeatures = x[0]
			b := x[0].Shape().Dimensions[0]
			in.Images = graph.Zeros(x[0].Graph(), shapes.Make(dtypes.Float32, b, c.Cameras, 3, c.ImageHeight, c.ImageWidth))
		}
		if len(x) > 7 {
			in.Noise = x[7]
		}
		out := m.Forward(ctx, in)
		nodes := []*graph.Node{out.Actions}
		for _, name := range PolicyOutputs(m.Config)[1:] {
			switch name {
			case policy.TensorInstancePoints:
				nodes = append(nodes, out.RefPoints)
			case policy.TensorInstanceScores:
				nodes = append(nodes, graph.Logistic(out.ClassLogits))
			case policy.TensorCompletionPoints:
				nodes = append(nodes, out.CompletionCoords)
			case policy.TensorAnchorPoints:
				nodes = append(nodes, out.AnchorPoints)
			}
		}
		return nodes
	}
}

// ExportPolicy writes the inference graph of m with the variables of ctx to
// modelPath (e.g. out/model.onnx) and spec to the sidecar next to it
// (out/model.json). spec carries what only the trainer knows (normalization
// statistics, vocabulary); its layout must agree with m's configuration.
func ExportPolicy(ctx *context.Context, m *model.Model, spec policy.Spec, modelPath string) error {
	if err := sameLayout(spec, m.Config.Spec()); err != nil {
		return err
	}
	if err := sameEncoder(spec, m.Config); err != nil {
		return err
	}
	spec.Opset = DefaultOpset
	outputs := PolicyOutputs(m.Config)
	spec.Outputs = outputs[1:]
	js, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return fmt.Errorf("onnx export: encoding sidecar: %w", err)
	}
	opts := Options{
		GraphName: "vla3d_policy",
		DocString: "3DVLA policy exported by vla3d: inputs are policy.Input with a leading batch axis; output actions are normalized (de-normalize with the sidecar's action_mean/action_std).",
		Metadata:  map[string]string{SpecMetadataKey: string(js)},
	}
	if err := WriteFile(modelPath, ctx, PolicyInputs(m.Config), outputs, PolicyBuild(m), opts); err != nil {
		return err
	}
	side := strings.TrimSuffix(modelPath, ".onnx") + ".json"
	if err := os.WriteFile(side, append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("onnx export: writing sidecar: %w", err)
	}
	return nil
}

// sameLayout checks the tensor layout fields of two specs.
func sameLayout(got, want policy.Spec) error {
	type pair struct {
		name string
		g, w int
	}
	for _, p := range []pair{
		{"cameras", got.Cameras, want.Cameras}, {"image_width", got.ImageWidth, want.ImageWidth},
		{"image_height", got.ImageHeight, want.ImageHeight}, {"patch_size", got.PatchSize, want.PatchSize},
		{"action_dim", got.ActionDim, want.ActionDim}, {"horizon", got.Horizon, want.Horizon},
		{"proprio_dim", got.ProprioDim, want.ProprioDim}, {"instruction_len", got.InstructionLen, want.InstructionLen},
	} {
		if p.g != p.w {
			return fmt.Errorf("onnx export: spec %s is %d but the model's configuration has %d", p.name, p.g, p.w)
		}
	}
	if got.Modules != want.Modules {
		return fmt.Errorf("onnx export: spec modules %+v differ from the model's %+v", got.Modules, want.Modules)
	}
	return nil
}

// sameEncoder checks the sidecar names a frozen encoder exactly when the
// model reads patch features, with the model's feature width.
func sameEncoder(s policy.Spec, c model.Config) error {
	switch {
	case c.VisualFeatureDim > 0 && s.Encoder == nil:
		return fmt.Errorf("onnx export: the model reads %d-dim patch features but the spec names no encoder", c.VisualFeatureDim)
	case c.VisualFeatureDim == 0 && s.Encoder != nil:
		return fmt.Errorf("onnx export: the spec names encoder %s but the model reads images", s.Encoder.Path)
	case s.Encoder != nil && s.Encoder.FeatureDim != c.VisualFeatureDim:
		return fmt.Errorf("onnx export: spec encoder feature_dim is %d but the model's is %d", s.Encoder.FeatureDim, c.VisualFeatureDim)
	}
	return nil
}
