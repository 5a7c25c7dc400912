package model

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Frozen are the outputs of the modules stage 2 keeps frozen — the base,
// Multi-View Spatial Fusion, the instance module and its anchors — that the
// trained modules read. They do not change while stage 2 trains, so the
// trainer computes them outside the training graph (in ONNX Runtime) and
// feeds them back through Inputs.Frozen.
type Frozen struct {
	BaseTokens, BaseMask *Node
	// Fused is the fused memory the predictor reads (rows B and C).
	Fused FusionOutput
	// The K confident instances (rows A to C).
	InstanceTokens, InstanceRefs, InstanceLogits *Node
	// Anchors when Config.Anchors > 0.
	Anchors AnchorOutput
}

// FrozenNames are the names of the Frozen fields cfg uses, in the order
// Frozen.Nodes lists them.
func (c Config) FrozenNames() []string {
	names := []string{"base_tokens", "base_mask"}
	if c.Modules.Predictor {
		names = append(names, "fused_memory", "fused_points", "fused_valid", "fused_angles")
	}
	if c.Modules.Instance {
		names = append(names, "instance_tokens", "instance_refs", "instance_logits")
	}
	if c.Anchors > 0 {
		names = append(names, "anchor_points", "anchor_turn", "anchor_tokens", "anchor_condition")
	}
	return names
}

// fields maps FrozenNames to the struct's fields.
func (f *Frozen) fields() map[string]**Node {
	return map[string]**Node{
		"base_tokens": &f.BaseTokens, "base_mask": &f.BaseMask,
		"fused_memory": &f.Fused.Memory, "fused_points": &f.Fused.Points, "fused_valid": &f.Fused.Valid, "fused_angles": &f.Fused.Angles,
		"instance_tokens": &f.InstanceTokens, "instance_refs": &f.InstanceRefs, "instance_logits": &f.InstanceLogits,
		"anchor_points": &f.Anchors.Points, "anchor_turn": &f.Anchors.Turn, "anchor_tokens": &f.Anchors.Tokens, "anchor_condition": &f.Anchors.Condition,
	}
}

// Nodes lists f's nodes in cfg.FrozenNames order.
func (f *Frozen) Nodes(cfg Config) []*Node {
	fields := f.fields()
	var out []*Node
	for _, name := range cfg.FrozenNames() {
		out = append(out, *fields[name])
	}
	return out
}

// FrozenFrom is the inverse of Frozen.Nodes.
func FrozenFrom(cfg Config, nodes []*Node) (*Frozen, error) {
	names := cfg.FrozenNames()
	if len(nodes) != len(names) {
		return nil, fmt.Errorf("model: %d frozen features, want %d (%v)", len(nodes), len(names), names)
	}
	f := &Frozen{}
	fields := f.fields()
	for i, name := range names {
		*fields[name] = nodes[i]
	}
	return f, nil
}

// FrozenFeatures builds the frozen modules on in, exactly as Forward does
// (the instance module without its training heads, which only stage 1's
// losses read).
func (m *Model) FrozenFeatures(ctx *context.Context, in Inputs) *Frozen {
	cfg := m.Config
	base := Base(ctx, cfg, in)
	f := &Frozen{BaseTokens: base.Tokens, BaseMask: base.Mask}
	args := anchorArgsOf(cfg, in, base)
	if cfg.fusionActive() {
		fused := SpatialFusion(ctx, cfg, base.Patches, in.Points, in.PointValid)
		args.Memory, args.Points, args.Valid = fused.Memory, fused.Points, fused.Valid
		if cfg.Modules.Predictor {
			f.Fused = fused
		}
		inst := InstanceModule(ctx, cfg, InstanceArgs{Fused: fused, Intrinsics: in.Intrinsics, CamFromBase: in.CamFromBase})
		f.InstanceTokens, f.InstanceRefs, f.InstanceLogits = inst.Tokens, inst.Refs, inst.Logits
	}
	if cfg.Anchors > 0 {
		f.Anchors = InstanceAnchors(ctx, cfg, args)
	}
	return f
}

// anchorArgsOf are the anchors' inputs before fusion: the base's patches
// at the observed points (fusion replaces memory, points and validity).
func anchorArgsOf(cfg Config, in Inputs, base BaseOutput) AnchorArgs {
	b := in.Images.Shape().Dimensions[0]
	return AnchorArgs{
		Memory: base.Patches, Points: Reshape(in.Points, b, cfg.Tokens(), 3), Valid: Reshape(in.PointValid, b, cfg.Tokens()),
		Instruction:     take(base.Tokens, 1, cfg.Tokens(), cfg.Tokens()+cfg.InstructionLen),
		InstructionMask: take(base.Mask, 1, cfg.Tokens(), cfg.Tokens()+cfg.InstructionLen),
		EEPosition:      eePosition(cfg, in.Proprio),
	}
}
