package training

import (
	"fmt"

	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
)

// Layout fixes every tensor size of a training batch: the model's
// observation layout plus the label sizes.
type Layout struct {
	Cameras, ImageH, ImageW, Patches int
	ProprioDim, InstructionLen       int
	Horizon, ActionDim               int
	// MaxInstances is G, the ground-truth instance slots per sample.
	MaxInstances int
	// MaskH, MaskW is the 1/4-scale mask resolution of the instance module.
	MaskH, MaskW int
	// Completion is the number of completion queries (6 × 5).
	Completion int
	// VisualFeatureDim > 0: samples carry a frozen encoder's patch
	// features [V,N,Dv] (model.Config.VisualFeatureDim).
	VisualFeatureDim int
	// Anchors is K, the model's instructed instance anchors
	// (model.Config.Anchors); 0 when it has none.
	Anchors int
}

// LayoutFor derives the batch layout from a model configuration.
func LayoutFor(cfg model.Config, maxInstances int) Layout {
	return Layout{
		Cameras: cfg.Cameras, ImageH: cfg.ImageHeight, ImageW: cfg.ImageWidth, Patches: cfg.Patches(),
		ProprioDim: cfg.ProprioDim, InstructionLen: cfg.InstructionLen,
		Horizon: cfg.Horizon, ActionDim: cfg.ActionDim,
		MaxInstances: maxInstances, MaskH: cfg.ImageHeight / 4, MaskW: cfg.ImageWidth / 4,
		Completion: cfg.CompletionQueries(), VisualFeatureDim: cfg.VisualFeatureDim,
		Anchors: cfg.Anchors,
	}
}

// Spec is the policy.Spec matching the layout (statistics left empty).
func (l Layout) Spec() policy.Spec {
	return policy.Spec{Cameras: l.Cameras, ImageWidth: l.ImageW, ImageHeight: l.ImageH,
		PatchSize: patchSize(l), ActionDim: l.ActionDim, Horizon: l.Horizon,
		ProprioDim: l.ProprioDim, InstructionLen: l.InstructionLen}
}

func patchSize(l Layout) int {
	for p := 1; p <= l.ImageW; p++ {
		if (l.ImageW/p)*(l.ImageH/p) == l.Patches && l.ImageW%p == 0 && l.ImageH%p == 0 {
			return p
		}
	}
	return 0
}

// InstanceLabels are the pseudo ground-truth instances of one sample, in
// MaxInstances slots; valid slots come first.
type InstanceLabels struct {
	Count     int       // valid instances (≤ MaxInstances)
	Boxes     []float32 // [G,V,4] normalized cx, cy, w, h per view
	BoxValid  []float32 // [G,V] 1 where the instance is visible in the view
	Masks     []float32 // [G,V,MaskH,MaskW] 0/1
	Centroids []float32 // [G,3] base frame, metres
}

// NewInstanceLabels allocates empty labels for l.
func NewInstanceLabels(l Layout) InstanceLabels {
	g, v := l.MaxInstances, l.Cameras
	return InstanceLabels{
		Boxes: make([]float32, g*v*4), BoxValid: make([]float32, g*v),
		Masks: make([]float32, g*v*l.MaskH*l.MaskW), Centroids: make([]float32, g*3),
	}
}

// Sample is one training example: the preprocessed observation, the target
// action chunk (normalized), and optional instance labels and completion
// coordinates.
type Sample struct {
	Input       *policy.Input
	Actions     []float32 // [H,A] normalized
	ActionValid []float32 // [H] 0 for steps past the episode end
	Labels      InstanceLabels
	// CompletionCoords [Completion,3] and CompletionValid [Completion] feed the
	// predictor's completion queries when the model reads them from inputs.
	CompletionCoords, CompletionValid []float32
	// PatchFeatures [V,N,Dv] are the frozen visual encoder's tokens of
	// Input.Images, computed once when the sample is loaded.
	PatchFeatures []float32
	// AnchorTargets [K,3] (base frame, metres), AnchorValid [K] and
	// AnchorTurns [K,2] are the keyframes the model's anchors are taught to
	// find and the turns to them (AnchorTargets); nil: not supervised.
	AnchorTargets, AnchorValid, AnchorTurns []float32
}

// Check verifies every buffer has the layout's size.
func (s *Sample) Check(l Layout) error {
	in := s.Input
	if in == nil {
		return fmt.Errorf("sample: nil input")
	}
	v, n := l.Cameras, l.Patches
	checks := []struct {
		name      string
		got, want int
	}{
		{"images", len(in.Images), v * 3 * l.ImageH * l.ImageW},
		{"points", len(in.Points), v * n * 3},
		{"point_valid", len(in.PointValid), v * n},
		{"intrinsics", len(in.Intrinsics), v * 4},
		{"cam_from_base", len(in.CamFromBase), v * 12},
		{"proprio", len(in.Proprio), l.ProprioDim},
		{"instruction", len(in.Instruction), l.InstructionLen},
		{"actions", len(s.Actions), l.Horizon * l.ActionDim},
		{"action_valid", len(s.ActionValid), l.Horizon},
	}
	if s.Labels.Boxes != nil {
		g := l.MaxInstances
		checks = append(checks, []struct {
			name      string
			got, want int
		}{
			{"boxes", len(s.Labels.Boxes), g * v * 4},
			{"box_valid", len(s.Labels.BoxValid), g * v},
			{"masks", len(s.Labels.Masks), g * v * l.MaskH * l.MaskW},
			{"centroids", len(s.Labels.Centroids), g * 3},
		}...)
		if s.Labels.Count < 0 || s.Labels.Count > g {
			return fmt.Errorf("sample: %d instances, max %d", s.Labels.Count, g)
		}
	}
	if s.CompletionCoords != nil {
		checks = append(checks, []struct {
			name      string
			got, want int
		}{{"completion_coords", len(s.CompletionCoords), l.Completion * 3}, {"completion_valid", len(s.CompletionValid), l.Completion}}...)
	}
	if s.AnchorTargets != nil || s.AnchorValid != nil || s.AnchorTurns != nil {
		checks = append(checks, []struct {
			name      string
			got, want int
		}{{"anchor_targets", len(s.AnchorTargets), l.Anchors * 3}, {"anchor_valid", len(s.AnchorValid), l.Anchors},
			{"anchor_turns", len(s.AnchorTurns), l.Anchors * 2}}...)
	}
	if l.VisualFeatureDim > 0 {
		checks = append(checks, struct {
			name      string
			got, want int
		}{"patch_features", len(s.PatchFeatures), v * n * l.VisualFeatureDim})
	}
	for _, c := range checks {
		if c.got != c.want {
			return fmt.Errorf("sample %s: %d values, want %d", c.name, c.got, c.want)
		}
	}
	return nil
}
