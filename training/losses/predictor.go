package losses

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// SmoothL1 is the elementwise Huber-style loss: 0.5·d²/β for |d| < β, else
// |d| − 0.5·β.
func SmoothL1(pred, target *Node, beta float64) *Node {
	d := Abs(Sub(pred, ConvertDType(target, pred.DType())))
	quad := DivScalar(MulScalar(Mul(d, d), 0.5), beta)
	lin := SubScalar(d, 0.5*beta)
	return Where(LessThan(d, Scalar(d.Graph(), d.DType(), beta)), quad, lin)
}

// CosineDistance is 1 − cos(pred, target) along the last axis ([...,C] → [...]).
func CosineDistance(pred, target *Node) *Node {
	target = ConvertDType(target, pred.DType())
	last := pred.Rank() - 1
	dot := ReduceSum(Mul(pred, target), last)
	np := Sqrt(AddScalar(ReduceSum(Mul(pred, pred), last), 1e-12))
	nt := Sqrt(AddScalar(ReduceSum(Mul(target, target), last), 1e-12))
	return OneMinus(Div(dot, Mul(np, nt)))
}

// VarianceHinge is the anti-collapse term mean_c max(0, γ − std_c), where std_c
// is the standard deviation of channel c over all valid tokens of x [...,C]
// (mask [...] selects tokens). It pushes the predictor's outputs to keep
// per-channel spread ≥ γ (VICReg-style), since an EMA-teacher target alone
// admits the constant solution.
func VarianceHinge(x, mask *Node, gamma float64) *Node {
	c := x.Shape().Dimensions[x.Rank()-1]
	flat := Reshape(x, -1, c)
	m := ConvertDType(Reshape(mask, -1, 1), x.DType())
	n := MaxScalar(ReduceAllSum(m), 1.0)
	mean := Div(ReduceSum(Mul(flat, m), 0), n)
	centered := Mul(Sub(flat, ExpandAxes(mean, 0)), m)
	variance := Div(ReduceSum(Mul(centered, centered), 0), n)
	std := Sqrt(AddScalar(variance, 1e-4))
	return ReduceAllMean(MaxScalar(AddScalar(Neg(std), gamma), 0.0))
}

// PredictorTerms are the three parts of the predictor objective, each a scalar.
type PredictorTerms struct {
	SmoothL1, Cosine, Variance *Node
}

// Total is SmoothL1 + cosine + variance with unit weights (the paper sums them).
func (p PredictorTerms) Total() *Node { return Add(Add(p.SmoothL1, p.Cosine), p.Variance) }

// Predictor computes the predictor loss of predictions pred [...,C] against
// (stop-gradient) teacher targets [...,C] at masked positions mask [...].
// SmoothL1 is averaged over valid tokens and channels, cosine over valid
// tokens, and the variance hinge is taken on the predictions.
func Predictor(pred, target, mask *Node, beta, gamma float64) PredictorTerms {
	target = StopGradient(ConvertDType(target, pred.DType()))
	return PredictorTerms{
		SmoothL1: MaskedMean(SmoothL1(pred, target, beta), mask),
		Cosine:   MaskedMean(CosineDistance(pred, target), mask),
		Variance: VarianceHinge(pred, mask, gamma),
	}
}
