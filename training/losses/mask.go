package losses

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// Dice is the soft Dice loss 1 − (2Σ p·t + 1)/(Σ p + Σ t + 1) of sigmoid mask
// logits against binary targets, reduced over pixelAxes (the +1 smoothing
// keeps empty masks finite). The result has the remaining axes.
func Dice(logits, targets *Node, pixelAxes ...int) *Node {
	targets = ConvertDType(targets, logits.DType())
	p := Sigmoid(logits)
	num := AddScalar(MulScalar(ReduceSum(Mul(p, targets), pixelAxes...), 2.0), 1.0)
	den := AddScalar(Add(ReduceSum(p, pixelAxes...), ReduceSum(targets, pixelAxes...)), 1.0)
	return OneMinus(Div(num, den))
}

// MaskBCE is the per-mask mean binary cross-entropy over pixelAxes.
func MaskBCE(logits, targets *Node, pixelAxes ...int) *Node {
	return ReduceMean(BCEWithLogits(logits, targets), pixelAxes...)
}
