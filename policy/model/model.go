// Package model is the 3DVLA policy as GoMLX graphs: a base
// vision-language-action policy (Base + ActionExpert) and the paper's
// plug-and-play 3D modules — SpatialFusion (Multi-View Spatial Fusion),
// InstanceModule (Object-Centric 3D Instance Module), Predictor
// (Coordinate-Driven 3D Self-Supervised Predictor) and Aggregation
// (Spatially-Conditioned Geometry Aggregation) — each in its own variable
// scope so the trainer can freeze and unfreeze them by stage.
//
// Forward builds the training graph when ctx.IsTraining(g) and the
// deterministic inference graph otherwise. The inference graph keeps to the
// op set agreed with the ONNX exporter (checked by
// TestInferenceGraphOpsAndCost): Add Sub Mul Div Neg Exp Sqrt Tanh Logistic
// Sin Cos Max Abs, Dot/DotGeneral, Reshape Transpose Concatenate Slice
// BroadcastInDim, ReduceSum ReduceMax, Gather (instruction table only),
// Where, Iota, ConvertDType, comparisons (Equal, Greater*, Less*) and
// LogicalAnd/Or for masks and top-k ranks. No Conv, Sort/TopK, Erf or Pad.
//
// On the pure-Go backend use CPUBackend. Importing this package registers
// gradients for Dot/DotGeneral that run as matmuls and a Slice gradient that
// needs no Pad (gradients.go): without them training on the pure-Go backend
// is about 10x slower, or fails with "op Pad not implemented".
package model

import (
	"errors"
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Variable scopes, named after the paper's modules (relative to the context
// scope Forward is called in). The teacher/student paths are absolute and
// assume Forward is called in the root scope, as the trainer does.
const (
	ScopeBase             = "base"
	ScopeSpatialFusion    = "spatial_fusion"
	ScopeInstanceModule   = "instance_module"
	ScopePredictor        = "predictor"
	ScopeAggregation      = "aggregation"
	ScopeActionExpert     = "action_expert"
	ScopePredictorTeacher = "/" + ScopePredictor + "/" + ScopeTeacher
	ScopePredictorStudent = "/" + ScopePredictor + "/" + scopeContextEncoder

	// ScopeTeacher (under the predictor) holds the EMA teacher, which only
	// the EMA update changes; scopeContextEncoder the student it tracks.
	ScopeTeacher        = "teacher"
	scopeContextEncoder = "context_encoder"
)

// Inputs are the graph inputs with the layouts of policy.Input plus a leading
// batch axis. Noise is read only by the flow head. The remaining fields are
// training-only and optional.
type Inputs struct {
	Images      *Node // [B,V,3,H,W] float32 in [0,1]
	Points      *Node // [B,V,N,3] float32, base frame, metres
	PointValid  *Node // [B,V,N] float32 0/1
	Intrinsics  *Node // [B,V,4] fx, fy, cx, cy
	CamFromBase *Node // [B,V,12] row-major [R|t]
	Proprio     *Node // [B,P]
	Instruction *Node // [B,L] int64 token ids
	Noise       *Node // [B,H,A], flow head

	// Features of frozen external encoders, read only when
	// Config.VisualFeatureDim / TextFeatureDim are set (see Base).
	PatchFeatures       *Node // [B,V,N,Fv]
	InstructionFeatures *Node // [B,L,Ft]

	// Frozen, when set, are the frozen modules' outputs computed outside
	// this graph (Model.FrozenFeatures): Forward uses them instead of
	// building the base, fusion, instance module and anchors.
	Frozen *Frozen

	// Training-only.
	TargetActions    *Node // [B,H,A] normalized actions (flow head's x_1)
	FlowTime         *Node // [B] flow time; sampled U[0,1) in-graph when nil
	PredictorMask    *Node // [B,V,N] 1 = masked target; sampled in-graph when nil
	CompletionCoords *Node // [B,6*5,3] when Config.CompletionSource == CompletionInput
	CompletionValid  *Node // [B,6*5] 0/1, with CompletionCoords
}

// Outputs of Forward. Only Actions is set in the inference graph; the rest
// are set in training when the producing module is on.
type Outputs struct {
	Actions *Node // [B,H,A] normalized

	// Instance module (row A and above).
	ClassLogits    *Node // [B,Q] objectness logits of all probes
	Boxes          *Node // [B,Q,V,4] normalized cx,cy,w,h per view
	MaskLogits     *Node // [B,Q,V,H/4,W/4]
	RefPoints      *Node // [B,Q,3] refined reference points, metres
	InstanceTokens *Node // [B,K,d] confident instance tokens (K <= 16)
	InstanceRefs   *Node // [B,K,3]

	// Predictor (row B and above).
	// At the M = V*round(MaskRatio*N) masked target slots.
	PredictorPred    *Node // [B,M,d] predictions
	PredictorTarget  *Node // [B,M,d] EMA-teacher targets (stop-gradient)
	PredictorMask    *Node // [B,M] 1 where the loss applies (slot filled, token had valid depth)
	CompletionCoords *Node // [B,6*5,3] coordinates the completion tokens were queried at
	CompletionTokens *Node // [B,6*5,d]

	// Flow head.
	FlowVelocity, FlowTarget *Node // [B,H,A]

	// AnchorPoints [B,K,3] are the instructed instance anchors
	// (Config.Anchors), AnchorTurns [B,K,2] their (cos 4d, sin 4d) turns.
	AnchorPoints, AnchorTurns *Node
}

// Model builds 3DVLA graphs for one configuration.
type Model struct {
	Config Config
}

// New validates cfg and returns a Model.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	return &Model{Config: cfg}, nil
}

// Forward builds the model graph into the graph of in.Images. It panics (the
// GoMLX convention for graph-building errors) on shape mismatches.
func (m *Model) Forward(ctx *context.Context, in Inputs) *Outputs {
	return m.forward(ctx, in, nil)
}

// forward is Forward recording, when marks is not nil, which graph nodes
// each module created (for per-module FLOP counts).
func (m *Model) forward(ctx *context.Context, in Inputs, marks *moduleMarks) *Outputs {
	cfg := m.Config
	g := in.Images.Graph()
	training := ctx.IsTraining(g)
	out := &Outputs{}

	frozen := in.Frozen
	var base BaseOutput
	if frozen == nil {
		base = Base(ctx, cfg, in)
		marks.mark(g, ScopeBase)
	} else {
		base = BaseOutput{Tokens: frozen.BaseTokens, Mask: frozen.BaseMask}
	}
	tokens, mask := []*Node{base.Tokens}, []*Node{base.Mask}
	b := in.Images.Shape().Dimensions[0]
	var anchorArgs AnchorArgs
	if frozen == nil {
		anchorArgs = anchorArgsOf(cfg, in, base)
	}

	if cfg.fusionActive() {
		var fused FusionOutput
		if frozen == nil {
			fused = SpatialFusion(ctx, cfg, base.Patches, in.Points, in.PointValid)
			marks.mark(g, ScopeSpatialFusion)
			anchorArgs.Memory, anchorArgs.Points, anchorArgs.Valid = fused.Memory, fused.Points, fused.Valid
		} else {
			fused = frozen.Fused
		}
		extra, extraMask := m.forward3D(ctx, in, fused, training, out, marks)
		tokens = append(tokens, extra...)
		mask = append(mask, extraMask...)
	}

	var condition *Node
	if cfg.Anchors > 0 {
		var an AnchorOutput
		if frozen == nil {
			an = InstanceAnchors(ctx, cfg, anchorArgs)
			marks.mark(g, ScopeInstanceModule)
		} else {
			an = frozen.Anchors
		}
		out.AnchorPoints, out.AnchorTurns, condition = an.Points, an.Turn, an.Condition
		tokens = append(tokens, an.Tokens)
		mask = append(mask, Ones(g, shapeOf(dtypeF32, b, cfg.Anchors)))
	}

	ea := ExpertArgs{Context: Concatenate(tokens, 1), Mask: Concatenate(mask, 1), Condition: condition, Noise: in.Noise, Training: training}
	if training && cfg.ActionHead == HeadFlow {
		if in.TargetActions == nil {
			panic(errors.New("model: training the flow head needs Inputs.TargetActions"))
		}
		ea.Targets = in.TargetActions
		ea.FlowTime = in.FlowTime
		if ea.FlowTime == nil {
			ea.FlowTime = ctx.RandomUniform(g, shapeOf(in.Images.DType(), in.Images.Shape().Dimensions[0]))
		}
	}
	exp := ActionExpert(ctx, cfg, ea)
	marks.mark(g, ScopeActionExpert)
	out.Actions, out.FlowVelocity, out.FlowTarget = exp.Actions, exp.Velocity, exp.VelocityTarget
	return out
}
