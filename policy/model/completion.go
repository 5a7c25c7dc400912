package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
)

// completionPattern are the 5 unit offsets of the derived completion queries
// in the (away, side, up) frame of each instance: one straight behind the
// object as seen from the cameras and four around it on the far hemisphere.
var completionPattern = [5][3]float64{
	{1, 0, 0}, {0.6, 0.8, 0}, {0.6, -0.8, 0}, {0.6, 0, 0.8}, {0.6, 0, -0.8},
}

// DeriveCompletionCoords derives the predictor's completion coordinates
// in-graph, where no instance masks exist: the top CompletionInstances
// instance reference points refs [B,K,3] (K sorted by confidence) each get
// CompletionPerInst points r + delta * pattern, with the pattern's first
// axis pointing away from the mean optical centre of the cameras, i.e. into
// the part of the object the cameras cannot see. Returns [B,6*5,3].
func DeriveCompletionCoords(cfg Config, refs, camFromBase *Node) *Node {
	b := refs.Shape().Dimensions[0]
	ni, np := cfg.CompletionInstances, cfg.CompletionPerInst
	r := take(refs, 1, 0, ni) // [B,I,3]

	rt := Reshape(camFromBase, b, cfg.Cameras, 3, 4)
	rot := Slice(rt, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, 3))
	trans := Slice(rt, AxisRange(), AxisRange(), AxisRange(), AxisRange(3, 4)) // [B,V,3,1]
	centres := Neg(Squeeze(Einsum("bvji,bvjk->bvik", rot, trans), -1))         // -R^T t, [B,V,3]
	mean := ReduceAndKeep(centres, ReduceMean, 1)                              // [B,1,3]

	away := unit(Sub(r, mean))
	up := Const(refs.Graph(), [][][]float32{{{0, 0, 1}}})
	side := unit(Add(cross(away, up), Const(refs.Graph(), [][][]float32{{{1e-4, 0, 0}}})))
	ortho := cross(away, side)

	var pts []*Node
	for p := range np {
		c := completionPattern[p]
		off := Add(Add(MulScalar(away, c[0]), MulScalar(side, c[1])), MulScalar(ortho, c[2]))
		pts = append(pts, Add(r, MulScalar(off, cfg.CompletionOffset)))
	}
	return Reshape(Stack(pts, 2), b, ni*np, 3) // instance-major
}

// unit normalizes the last axis (size 3).
func unit(x *Node) *Node {
	return Div(x, Sqrt(AddScalar(ReduceAndKeep(Square(x), ReduceSum, -1), 1e-12)))
}

// cross is the cross product over the last axis (size 3), broadcasting.
func cross(a, b *Node) *Node {
	c := func(x *Node, i int) *Node {
		return take(x, -1, i, i+1)
	}
	return Concatenate([]*Node{
		Sub(Mul(c(a, 1), c(b, 2)), Mul(c(a, 2), c(b, 1))),
		Sub(Mul(c(a, 2), c(b, 0)), Mul(c(a, 0), c(b, 2))),
		Sub(Mul(c(a, 0), c(b, 1)), Mul(c(a, 1), c(b, 0))),
	}, -1)
}
