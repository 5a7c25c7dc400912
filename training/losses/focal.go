package losses

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// BCEWithLogits is the elementwise binary cross-entropy of sigmoid(logits)
// against targets in [0,1], in the overflow-free form
// max(x,0) − x·t + log(1 + exp(−|x|)).
func BCEWithLogits(logits, targets *Node) *Node {
	targets = ConvertDType(targets, logits.DType())
	return Add(Sub(MaxScalar(logits, 0.0), Mul(logits, targets)),
		Log1p(Exp(Neg(Abs(logits)))))
}

// SigmoidFocal is the elementwise sigmoid focal loss (Lin et al.) used for the
// instance probes' objectness: α_t · (1 − p_t)^γ · BCE, with
// p_t = p·t + (1−p)(1−t) and α_t = α·t + (1−α)(1−t).
// γ = 2 is the usual default; 1−p_t is squared via Mul when γ = 2 so the
// gradient never sees Pow at 0.
func SigmoidFocal(logits, targets *Node, alpha, gamma float64) *Node {
	targets = ConvertDType(targets, logits.DType())
	p := Sigmoid(logits)
	ce := BCEWithLogits(logits, targets)
	pt := Add(Mul(p, targets), Mul(OneMinus(p), OneMinus(targets)))
	oneMinusPt := OneMinus(pt)
	var mod *Node
	switch gamma {
	case 0:
		mod = OnesLike(oneMinusPt)
	case 1:
		mod = oneMinusPt
	case 2:
		mod = Mul(oneMinusPt, oneMinusPt)
	default:
		mod = Pow(MaxScalar(oneMinusPt, 1e-12), Scalar(logits.Graph(), logits.DType(), gamma))
	}
	loss := Mul(ce, mod)
	if alpha >= 0 {
		alphaT := AddScalar(MulScalar(targets, 2*alpha-1), 1-alpha) // α·t + (1−α)(1−t)
		loss = Mul(alphaT, loss)
	}
	return loss
}
