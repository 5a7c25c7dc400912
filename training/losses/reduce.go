package losses

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// MaskedMean is sum(x*mask)/max(sum(mask), 1). mask must broadcast to x's
// shape after being expanded on trailing axes (e.g. x [B,Q,4], mask [B,Q]).
// The floor of 1 keeps a batch with no valid entries at zero loss instead of
// NaN, which would poison the optimizer state.
func MaskedMean(x, mask *Node) *Node {
	mask = ConvertDType(mask, x.DType())
	for mask.Rank() < x.Rank() {
		mask = ExpandAxes(mask, -1)
	}
	if !mask.Shape().Equal(x.Shape()) {
		mask = BroadcastToDims(mask, x.Shape().Dimensions...)
	}
	num := ReduceAllSum(Mul(x, mask))
	den := MaxScalar(ReduceAllSum(mask), 1.0)
	return Div(num, den)
}
