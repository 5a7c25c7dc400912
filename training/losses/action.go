package losses

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// ActionL1 is the L1 regression loss of the OpenVLA-OFT-style head: the mean
// absolute error between the predicted chunk and the target chunk
// [B,H,A], restricted to valid steps mask [B,H] (chunks that run past the
// end of an episode are padded and masked out).
func ActionL1(pred, target, mask *Node) *Node {
	return MaskedMean(L1(pred, target), mask)
}

// FlowMatching is the π0-style conditional flow-matching loss: the mean
// squared error between the predicted velocity and the target velocity
// (noise − action for the linear path x_t = t·noise + (1−t)·action),
// restricted to valid steps mask [B,H].
func FlowMatching(velocity, targetVelocity, mask *Node) *Node {
	d := Sub(velocity, ConvertDType(targetVelocity, velocity.DType()))
	return MaskedMean(Mul(d, d), mask)
}
