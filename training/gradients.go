package training

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX v0.26.0 defines no gradient for Rsqrt, which layer normalisation
// uses (and ONNX export prefers, being one op). Training cannot work
// without it, so the training package registers the VJP in GoMLX's
// extension table (the library's documented hook for ops lacking one) when
// the library does not already provide it:
//
//	d/dx x^(-1/2) = -1/2 · x^(-3/2) = -1/2 · rsqrt(x)³
//
// This runs once at program initialisation, before any graph is built.
func init() {
	if _, ok := VJPRegistration[NodeTypeRsqrt]; !ok {
		VJPRegistration[NodeTypeRsqrt] = func(node *Node, v []*Node, _ shapes.Shape) []*Node {
			r := node
			return []*Node{Mul(v[0], MulScalar(Mul(Mul(r, r), r), -0.5))}
		}
	}
}
