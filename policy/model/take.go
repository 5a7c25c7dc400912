package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
)

// take returns x[..., from:to, ...] along axis as a contraction with a
// constant one-hot matrix. Used instead of Slice wherever the result needs a
// gradient: GoMLX differentiates Slice with Pad, which the pure-Go backend
// (v0.26.0) does not implement. Selections here are over small axes (<= a
// few hundred), so the extra multiply-adds are negligible; inputs that never
// need gradients (intrinsics, extrinsics, proprio) still use Slice.
func take(x *Node, axis, from, to int) *Node {
	axis = AdjustAxisToOperandRank(x, axis)
	n := x.Shape().Dimensions[axis]
	sel := make([][]float32, n)
	for i := range sel {
		sel[i] = make([]float32, to-from)
		if i >= from && i < to {
			sel[i][i-from] = 1
		}
	}
	letters := []rune("abcdefghijklmnopqrstuvwxy")
	in := string(letters[:x.Rank()])
	out := []rune(in)
	out[axis] = 'z'
	eq := in + "," + string(letters[axis]) + "z->" + string(out)
	return Einsum(eq, x, ConstAsDType(x.Graph(), x.DType(), sel))
}

// takeElem returns x[..., i, ...] along axis, with the axis removed.
func takeElem(x *Node, axis, i int) *Node {
	axis = AdjustAxisToOperandRank(x, axis)
	return Squeeze(take(x, axis, i, i+1), axis)
}
