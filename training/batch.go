package training

import (
	"fmt"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/vla3d/vla3d/policy/model"
)

// Batch is B samples packed with a leading batch axis, in the layouts of
// policy.Input plus targets.
type Batch struct {
	B                                                   int
	Images, Points, PointValid, Intrinsics, CamFromBase []float32
	Proprio                                             []float32
	Instruction                                         []int64
	Noise, Actions, ActionValid                         []float32
	GTBoxes, GTBoxValid, GTMasks, GTCentroids, GTValid  []float32
	CompletionCoords, CompletionValid                   []float32
	PatchFeatures                                       []float32 // [B,V,N,Dv] when the layout has features
	AnchorTargets, AnchorValid, AnchorTurns             []float32 // [B,K,3], [B,K], [B,K,2] when the layout has anchors
	// Counts are the valid instances per sample (valid slots come first).
	Counts []int
}

// Pack copies samples into a Batch; noise (flow head) is drawn from rng so a
// resumed run replays the same noise for the same step.
func (l Layout) Pack(samples []*Sample, rng *rand.Rand) (*Batch, error) {
	b := &Batch{B: len(samples)}
	withLabels, withCompletion := true, true
	for i, s := range samples {
		if err := s.Check(l); err != nil {
			return nil, fmt.Errorf("batch sample %d: %w", i, err)
		}
		withLabels = withLabels && s.Labels.Boxes != nil
		withCompletion = withCompletion && s.CompletionCoords != nil
	}
	for _, s := range samples {
		in := s.Input
		b.Images = append(b.Images, in.Images...)
		b.Points = append(b.Points, in.Points...)
		b.PointValid = append(b.PointValid, in.PointValid...)
		b.Intrinsics = append(b.Intrinsics, in.Intrinsics...)
		b.CamFromBase = append(b.CamFromBase, in.CamFromBase...)
		b.Proprio = append(b.Proprio, in.Proprio...)
		b.Instruction = append(b.Instruction, in.Instruction...)
		b.Actions = append(b.Actions, s.Actions...)
		b.ActionValid = append(b.ActionValid, s.ActionValid...)
		for range l.Horizon * l.ActionDim {
			b.Noise = append(b.Noise, float32(rng.NormFloat64()))
		}
		if withLabels {
			b.GTBoxes = append(b.GTBoxes, s.Labels.Boxes...)
			b.GTBoxValid = append(b.GTBoxValid, s.Labels.BoxValid...)
			b.GTMasks = append(b.GTMasks, s.Labels.Masks...)
			b.GTCentroids = append(b.GTCentroids, s.Labels.Centroids...)
			for g := range l.MaxInstances {
				b.GTValid = append(b.GTValid, boolf(g < s.Labels.Count))
			}
			b.Counts = append(b.Counts, s.Labels.Count)
		}
		if withCompletion {
			b.CompletionCoords = append(b.CompletionCoords, s.CompletionCoords...)
			b.CompletionValid = append(b.CompletionValid, s.CompletionValid...)
		}
		if l.VisualFeatureDim > 0 {
			b.PatchFeatures = append(b.PatchFeatures, s.PatchFeatures...)
		}
		if l.Anchors > 0 {
			if s.AnchorTargets != nil {
				b.AnchorTargets = append(b.AnchorTargets, s.AnchorTargets...)
				b.AnchorValid = append(b.AnchorValid, s.AnchorValid...)
				b.AnchorTurns = append(b.AnchorTurns, s.AnchorTurns...)
			} else { // not supervised
				b.AnchorTargets = append(b.AnchorTargets, make([]float32, l.Anchors*3)...)
				b.AnchorValid = append(b.AnchorValid, make([]float32, l.Anchors)...)
				b.AnchorTurns = append(b.AnchorTurns, make([]float32, l.Anchors*2)...)
			}
		}
	}
	return b, nil
}

func boolf(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// HasLabels reports whether every sample carried instance labels.
func (b *Batch) HasLabels() bool { return b.GTBoxes != nil }

// graph parameter positions of a step's inputs.
const (
	inImages = iota
	inPoints
	inPointValid
	inIntrinsics
	inCamFromBase
	inProprio
	inInstruction
	inNoise
	inActions
	inActionValid
	numBaseInputs
)

// label inputs, after the base inputs when present.
const (
	inGTBoxes = iota
	inGTBoxValid
	inGTMasks
	inGTCentroids
	inGTValid
	numLabelInputs
)

// tensors returns the step inputs: base inputs, then labels (if withLabels),
// then completion coordinates (if withCompletion), then the patch features
// and the anchor targets (if the layout has them).
func (b *Batch) tensors(l Layout, withLabels, withCompletion bool) ([]any, error) {
	n, v, g := b.B, l.Cameras, l.MaxInstances
	out := []any{
		tensors.FromFlatDataAndDimensions(b.Images, n, v, 3, l.ImageH, l.ImageW),
		tensors.FromFlatDataAndDimensions(b.Points, n, v, l.Patches, 3),
		tensors.FromFlatDataAndDimensions(b.PointValid, n, v, l.Patches),
		tensors.FromFlatDataAndDimensions(b.Intrinsics, n, v, 4),
		tensors.FromFlatDataAndDimensions(b.CamFromBase, n, v, 12),
		tensors.FromFlatDataAndDimensions(b.Proprio, n, l.ProprioDim),
		tensors.FromFlatDataAndDimensions(b.Instruction, n, l.InstructionLen),
		tensors.FromFlatDataAndDimensions(b.Noise, n, l.Horizon, l.ActionDim),
		tensors.FromFlatDataAndDimensions(b.Actions, n, l.Horizon, l.ActionDim),
		tensors.FromFlatDataAndDimensions(b.ActionValid, n, l.Horizon),
	}
	if withLabels {
		if !b.HasLabels() {
			return nil, fmt.Errorf("batch has no instance labels but the instance module is on")
		}
		out = append(out,
			tensors.FromFlatDataAndDimensions(b.GTBoxes, n, g, v, 4),
			tensors.FromFlatDataAndDimensions(b.GTBoxValid, n, g, v),
			tensors.FromFlatDataAndDimensions(b.GTMasks, n, g, v, l.MaskH, l.MaskW),
			tensors.FromFlatDataAndDimensions(b.GTCentroids, n, g, 3),
			tensors.FromFlatDataAndDimensions(b.GTValid, n, g),
		)
	}
	if withCompletion {
		if b.CompletionCoords == nil {
			return nil, fmt.Errorf("batch has no completion coordinates but the model reads them from inputs")
		}
		out = append(out,
			tensors.FromFlatDataAndDimensions(b.CompletionCoords, n, l.Completion, 3),
			tensors.FromFlatDataAndDimensions(b.CompletionValid, n, l.Completion),
		)
	}
	if l.VisualFeatureDim > 0 {
		out = append(out, tensors.FromFlatDataAndDimensions(b.PatchFeatures, n, v, l.Patches, l.VisualFeatureDim))
	}
	if l.Anchors > 0 {
		out = append(out,
			tensors.FromFlatDataAndDimensions(b.AnchorTargets, n, l.Anchors, 3),
			tensors.FromFlatDataAndDimensions(b.AnchorValid, n, l.Anchors),
			tensors.FromFlatDataAndDimensions(b.AnchorTurns, n, l.Anchors, 2))
	}
	return out, nil
}

// stepInputs are a step graph's parameters, named.
type stepInputs struct {
	Model       model.Inputs
	Actions     *Node // [B,H,A]
	ActionValid *Node // [B,H]
	// Labels (nil when the instance module is off).
	GTBoxes, GTBoxValid, GTMasks, GTCentroids, GTValid *Node
	Match                                              *Node // [B,Q,G] one-hot assignment, train graph only
	// Anchor keyframes (nil when the model has no anchors).
	AnchorTargets, AnchorValid, AnchorTurns *Node // [B,K,3], [B,K], [B,K,2]
}

// parseInputs maps graph parameters (in Batch.tensors order, with the match
// matrix appended last in the train graph) to stepInputs.
func parseInputs(p []*Node, withLabels, withMatch, withCompletion, withFeatures, withAnchors bool) stepInputs {
	s := stepInputs{
		Model: model.Inputs{
			Images: p[inImages], Points: p[inPoints], PointValid: p[inPointValid],
			Intrinsics: p[inIntrinsics], CamFromBase: p[inCamFromBase], Proprio: p[inProprio],
			Instruction: p[inInstruction], Noise: p[inNoise], TargetActions: p[inActions],
		},
		Actions: p[inActions], ActionValid: p[inActionValid],
	}
	i := numBaseInputs
	if withLabels {
		s.GTBoxes, s.GTBoxValid, s.GTMasks = p[i+inGTBoxes], p[i+inGTBoxValid], p[i+inGTMasks]
		s.GTCentroids, s.GTValid = p[i+inGTCentroids], p[i+inGTValid]
		i += numLabelInputs
	}
	if withCompletion {
		s.Model.CompletionCoords, s.Model.CompletionValid = p[i], p[i+1]
		i += 2
	}
	if withFeatures {
		s.Model.PatchFeatures = p[i]
		i++
	}
	if withAnchors {
		s.AnchorTargets, s.AnchorValid, s.AnchorTurns = p[i], p[i+1], p[i+2]
		i += 3
	}
	if withMatch {
		s.Match = p[i]
	}
	return s
}
