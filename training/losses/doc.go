// Package losses holds the 3DVLA training objectives as GoMLX graph
// functions: the instance module's set-prediction terms (sigmoid focal, L1,
// GIoU, mask BCE, Dice, 3D L1), the predictor's SmoothL1 + (1 − cosine) +
// variance hinge, and the action expert's L1 and flow-matching losses.
//
// Elementwise functions return unreduced tensors so callers can weight them
// by validity masks; MaskedMean does the weighted reduction. All reductions
// guard against empty masks so a batch without instances yields 0, not NaN.
package losses
