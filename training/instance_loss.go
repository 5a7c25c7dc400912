package training

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/training/losses"
)

// instanceTerms are the instance module's weighted-before-sum loss terms.
type instanceTerms struct {
	Focal, BoxL1, GIoU, MaskCE, Dice, Center3D *Node
	// LocalisationCM is a figure, not a loss: the mean distance (cm)
	// between the matched probes' reference points and their pseudo-label
	// centroids.
	LocalisationCM *Node
}

// instanceLosses computes the set-prediction losses given the one-hot
// assignment match [B,Q,G]. Matched targets are gathered with einsums over
// G (no data-dependent gather), so the graph shape is static. Normalizers
// follow DETR: focal and 3D terms by the number of instances in the batch,
// per-view box and mask terms by the number of visible (instance, view) pairs.
func instanceLosses(w LossWeights, out *model.Outputs, in stepInputs) instanceTerms {
	dims := out.MaskLogits.Shape().Dimensions // [B,Q,V,h,w]
	b, q, v, mh, mw := dims[0], dims[1], dims[2], dims[3], dims[4]
	g := in.GTBoxes.Shape().Dimensions[1]
	dt := out.ClassLogits.DType()
	match := ConvertDType(in.Match, dt)

	matched := ReduceSum(match, -1) // [B,Q]
	numGT := MaxScalar(ReduceAllSum(ConvertDType(in.GTValid, dt)), 1)

	focal := Div(ReduceAllSum(losses.SigmoidFocal(out.ClassLogits, matched, w.FocalAlpha, w.FocalGamma)), numGT)

	tBoxes := Reshape(Einsum("bqg,bgx->bqx", match, Reshape(ConvertDType(in.GTBoxes, dt), b, g, v*4)), b, q, v, 4)
	tVis := Einsum("bqg,bgv->bqv", match, ConvertDType(in.GTBoxValid, dt)) // [B,Q,V]
	numVis := MaxScalar(ReduceAllSum(tVis), 1)
	boxL1 := Div(ReduceAllSum(Mul(ReduceSum(losses.L1(out.Boxes, tBoxes), -1), tVis)), numVis)
	// Unmatched/invisible slots have zero target boxes; GIoU of those is
	// masked out, but keep it finite: a zero box makes the union the predicted box.
	giou := Div(ReduceAllSum(Mul(OneMinus(losses.GIoU(out.Boxes, tBoxes)), tVis)), numVis)

	tMasks := Reshape(Einsum("bqg,bgx->bqx", match, Reshape(ConvertDType(in.GTMasks, dt), b, g, v*mh*mw)), b, q, v, mh, mw)
	maskCE := Div(ReduceAllSum(Mul(losses.MaskBCE(out.MaskLogits, tMasks, 3, 4), tVis)), numVis)
	dice := Div(ReduceAllSum(Mul(losses.Dice(out.MaskLogits, tMasks, 3, 4), tVis)), numVis)

	tCent := Einsum("bqg,bgc->bqc", match, ConvertDType(in.GTCentroids, dt))
	c3 := Div(ReduceAllSum(Mul(ReduceSum(losses.L1(out.RefPoints, tCent), -1), matched)), numGT)
	diff := StopGradient(Sub(out.RefPoints, tCent))
	dist := Sqrt(AddScalar(ReduceSum(Mul(diff, diff), -1), 1e-12)) // [B,Q] metres
	loc := MulScalar(Div(ReduceAllSum(Mul(dist, StopGradient(matched))), StopGradient(numGT)), 100)

	return instanceTerms{Focal: focal, BoxL1: boxL1, GIoU: giou, MaskCE: maskCE, Dice: dice, Center3D: c3, LocalisationCM: loc}
}

// total is the weighted sum.
func (t instanceTerms) total(w LossWeights) *Node {
	s := MulScalar(t.Focal, w.Focal)
	s = Add(s, MulScalar(t.BoxL1, w.BoxL1))
	s = Add(s, MulScalar(t.GIoU, w.GIoU))
	s = Add(s, MulScalar(t.MaskCE, w.MaskCE))
	s = Add(s, MulScalar(t.Dice, w.Dice))
	return Add(s, MulScalar(t.Center3D, w.Center3D))
}
