package model

import (
	"errors"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// forward3D runs the plug-and-play 3D modules on the fused memory and returns
// the extra context tokens (and masks) for the action expert: K instance
// tokens (row A) and C completion tokens (row B), each with a learned
// token-type embedding, the latter refined by aggregation (row C).
func (m *Model) forward3D(ctx *context.Context, in Inputs, fused FusionOutput, training bool, out *Outputs, marks *moduleMarks) ([]*Node, []*Node) {
	cfg := m.Config
	g := in.Images.Graph()
	b := in.Images.Shape().Dimensions[0]
	var inst InstanceOutput
	if in.Frozen == nil {
		inst = InstanceModule(ctx, cfg, InstanceArgs{Fused: fused, Intrinsics: in.Intrinsics, CamFromBase: in.CamFromBase, Heads: training})
		marks.mark(g, ScopeInstanceModule)
	} else {
		inst = InstanceOutput{Tokens: in.Frozen.InstanceTokens, Refs: in.Frozen.InstanceRefs, Logits: in.Frozen.InstanceLogits}
	}
	out.RefPoints, out.ClassLogits = inst.RefPoints, inst.ClassLogits
	out.Boxes, out.MaskLogits = inst.Boxes, inst.MaskLogits
	instTokens := inst.Tokens
	out.InstanceRefs = inst.Refs

	var compTokens, compValid *Node
	if cfg.Modules.Predictor {
		coords := in.CompletionCoords
		compValid = in.CompletionValid
		if cfg.CompletionSource != CompletionInput || coords == nil {
			// Query positions, not a learned signal: the action loss must not
			// move the instance references through them.
			coords = StopGradient(DeriveCompletionCoords(cfg, inst.Refs, in.CamFromBase))
			compValid = nil
		}
		if compValid == nil {
			compValid = Ones(g, shapeOf(dtypeF32, b, cfg.CompletionQueries()))
		}
		pr := Predictor(ctx, cfg, PredictorArgs{
			Fused: fused, CompletionCoords: coords, CompletionValid: compValid,
			Training: training, Mask: in.PredictorMask,
		})
		marks.mark(g, ScopePredictor)
		out.PredictorPred, out.PredictorTarget, out.PredictorMask = pr.Pred, pr.Target, pr.LossMask
		out.CompletionCoords = coords
		compTokens = pr.Completion
		if cfg.Modules.Routing {
			instTokens, compTokens = Aggregation(ctx, cfg, AggregationArgs{
				Instances: instTokens, InstanceRefs: inst.Refs, InstanceLogit: inst.Logits,
				Completion: compTokens, CompletionPos: coords, CompletionOK: compValid,
				EEPosition: eePosition(cfg, in.Proprio),
			})
			marks.mark(g, ScopeAggregation)
		}
	}
	out.InstanceTokens = instTokens

	ae := ctx.In(ScopeActionExpert)
	tokens := []*Node{Add(instTokens, learned(ae, g, "instance_type_embedding", 1, 1, cfg.Width))}
	masks := []*Node{Ones(g, shapeOf(dtypeF32, b, cfg.KeepInstances))}
	if compTokens != nil {
		out.CompletionTokens = compTokens
		tokens = append(tokens, Add(compTokens, learned(ae, g, "completion_type_embedding", 1, 1, cfg.Width)))
		masks = append(masks, compValid)
	}
	return tokens, masks
}

// eePosition de-normalizes proprio[:, 0:3] to metres with the configured
// statistics (identity when none are set).
func eePosition(cfg Config, proprio *Node) *Node {
	p := Slice(proprio, AxisRange(), AxisRange(0, 3))
	if len(cfg.ProprioMean) == 0 {
		return p
	}
	g := proprio.Graph()
	return Add(Mul(p, Const(g, [][]float32{cfg.ProprioStd[:3]})), Const(g, [][]float32{cfg.ProprioMean[:3]}))
}

// Instances builds only the path to the instance module's outputs — base,
// Multi-View Spatial Fusion and the instance module, with the box and mask
// heads in training — under the same scopes and with the same arithmetic as
// Forward. The trainer's matching pass needs nothing else, and a graph of
// just this path exports without the predictor's in-graph sampling.
func (m *Model) Instances(ctx *context.Context, in Inputs) InstanceOutput {
	cfg := m.Config
	if !cfg.Modules.Instance {
		panic(errors.New("model: Instances needs the instance module (row A and above)"))
	}
	base := Base(ctx, cfg, in)
	fused := SpatialFusion(ctx, cfg, base.Patches, in.Points, in.PointValid)
	return InstanceModule(ctx, cfg, InstanceArgs{Fused: fused, Intrinsics: in.Intrinsics, CamFromBase: in.CamFromBase, Heads: ctx.IsTraining(in.Images.Graph())})
}
