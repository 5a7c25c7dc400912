package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
)

// take returns x[..., from:to, ...] along axis. It is a plain Slice: the
// gradient of Slice (which GoMLX builds with Pad, missing in the pure-Go
// backend) is registered in gradients.go.
func take(x *Node, axis, from, to int) *Node {
	return SliceAxis(x, axis, AxisRange(from, to))
}

// takeElem returns x[..., i, ...] along axis, with the axis removed.
func takeElem(x *Node, axis, i int) *Node {
	axis = AdjustAxisToOperandRank(x, axis)
	return Squeeze(take(x, axis, i, i+1), axis)
}
