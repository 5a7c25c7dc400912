package training

// LossWeights scale the terms of the training objective. The paper's
// extraction lost its coefficients; the instance-module defaults are the
// Deformable-DETR / Mask2Former ones (class 2, L1 5, GIoU 2, mask CE 5,
// Dice 5), the 3D L1 term is weighted like the 2D L1, and the action and
// predictor terms have unit weight.
type LossWeights struct {
	Action    float64 `json:"action"`
	Focal     float64 `json:"focal"`
	BoxL1     float64 `json:"box_l1"`
	GIoU      float64 `json:"giou"`
	MaskCE    float64 `json:"mask_ce"`
	Dice      float64 `json:"dice"`
	Center3D  float64 `json:"center_3d"`
	Predictor float64 `json:"predictor"`
	// Anchor weighs the anchors' keyframe L1 in metres (10: 1 cm costs 0.1);
	// AnchorTurn their turn's squared error.
	Anchor     float64 `json:"anchor"`
	AnchorTurn float64 `json:"anchor_turn"`
	// FocalAlpha and FocalGamma parameterise the focal loss and its matching cost.
	FocalAlpha float64 `json:"focal_alpha"`
	FocalGamma float64 `json:"focal_gamma"`
	// SmoothL1Beta and VarianceGamma parameterise the predictor loss.
	SmoothL1Beta  float64 `json:"smooth_l1_beta"`
	VarianceGamma float64 `json:"variance_gamma"`
}

// DefaultLossWeights returns the defaults described on LossWeights.
func DefaultLossWeights() LossWeights {
	return LossWeights{
		Action: 1, Focal: 2, BoxL1: 5, GIoU: 2, MaskCE: 5, Dice: 5, Center3D: 5, Predictor: 1, Anchor: 10, AnchorTurn: 1,
		FocalAlpha: 0.25, FocalGamma: 2, SmoothL1Beta: 1, VarianceGamma: 1,
	}
}
