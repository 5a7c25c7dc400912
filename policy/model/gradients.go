package model

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Slice is differentiated by GoMLX with Pad, which the pure-Go backend does
// not implement; the VJP registered here places the incoming gradient with
// zero blocks concatenated around it instead (strided slices interleave
// zeros first). Rsqrt has no VJP at all in GoMLX v0.26.0; one is added.
// These registrations live here, with the model whose graphs need them, so
// every importer (trainer, exporter, tests) differentiates the same way.
//
// GoMLX v0.26.0 differentiates Dot and DotGeneral by broadcasting both
// operands to the full [batch, M, N, K] product and reducing it: XLA fuses
// that back into a matmul, but the pure-Go backend materialises it, which
// made one batch-8 training step of this model take over a minute (the patch
// embedding alone allocates 8*324*768*64 floats). The VJPs registered here
// compute the same gradients as two DotGenerals:
//
//	dL/dlhs = v . rhs^T   (contract v's rhs-cross axes with rhs's cross axes)
//	dL/drhs = lhs^T . v   (contract lhs's cross axes with v's lhs-cross axes)
//
// GoMLX exposes VJPRegistration as its extension table for exactly this; the
// registration happens once at program initialisation, before any graph is
// built. A node whose axes cannot be read falls back to the library's VJP.
func init() {
	origDotGeneral := VJPRegistration[NodeTypeDotGeneral]
	VJPRegistration[NodeTypeDotGeneral] = func(node *Node, v []*Node, out shapes.Shape) []*Node {
		ax, ok := parseDotGeneralAxes(node)
		if !ok {
			return origDotGeneral(node, v, out)
		}
		return dotGeneralGradients(node.Inputs()[0], node.Inputs()[1], ax, v[0])
	}
	origSlice := VJPRegistration[NodeTypeSlice]
	VJPRegistration[NodeTypeSlice] = func(node *Node, v []*Node, out shapes.Shape) []*Node {
		starts, strides, ok := parseSlice(node)
		if !ok {
			return origSlice(node, v, out)
		}
		return []*Node{unslice(v[0], node.Inputs()[0].Shape().Dimensions, starts, strides)}
	}
	// Rsqrt (used by layer normalisation) has no gradient in GoMLX v0.26.0:
	// d/dx x^(-1/2) = -1/2 · rsqrt(x)³.
	if _, ok := VJPRegistration[NodeTypeRsqrt]; !ok {
		VJPRegistration[NodeTypeRsqrt] = func(node *Node, v []*Node, _ shapes.Shape) []*Node {
			return []*Node{Mul(v[0], MulScalar(Mul(Mul(node, node), node), -0.5))}
		}
	}
	origDot := VJPRegistration[NodeTypeDot]
	VJPRegistration[NodeTypeDot] = func(node *Node, v []*Node, out shapes.Shape) []*Node {
		a, b := node.Inputs()[0], node.Inputs()[1]
		if a.Rank() != 2 || b.Rank() != 2 {
			return origDot(node, v, out)
		}
		return []*Node{
			DotGeneral(v[0], []int{1}, nil, b, []int{1}, nil), // [i,k]x[j,k] -> [i,j]
			DotGeneral(a, []int{0}, nil, v[0], []int{0}, nil), // [i,j]x[i,k] -> [j,k]
		}
	}
}

// dotAxes are the axis lists of a DotGeneral node.
type dotAxes struct {
	lhsContracting, lhsBatch, rhsContracting, rhsBatch []int
}

var dotAxesRE = regexp.MustCompile(`lhsContractingAxes=\[([0-9 ]*)\], lhsBatchAxes=\[([0-9 ]*)\], rhs=\[#\d+\], rhsContractingAxes=\[([0-9 ]*)\], rhsBatchAxes=\[([0-9 ]*)\]`)

// parseDotGeneralAxes reads the axes from the node's description: GoMLX has
// no accessor for them.
func parseDotGeneralAxes(node *Node) (dotAxes, bool) {
	m := dotAxesRE.FindStringSubmatch(node.String())
	if m == nil {
		return dotAxes{}, false
	}
	var lists [4][]int
	for i := range lists {
		for _, f := range strings.Fields(m[i+1]) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return dotAxes{}, false
			}
			lists[i] = append(lists[i], n)
		}
	}
	return dotAxes{lists[0], lists[1], lists[2], lists[3]}, true
}

// crossAxes are the axes of a rank-r operand that are neither contracted
// nor batch, ascending (the order DotGeneral lays them out in its output).
func crossAxes(rank int, contracting, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

// dotGeneralGradients returns [dL/dlhs, dL/drhs] for y = DotGeneral(lhs,
// rhs) with output gradient v laid out [batch..., lhsCross..., rhsCross...].
func dotGeneralGradients(lhs, rhs *Node, ax dotAxes, v *Node) []*Node {
	nb := len(ax.lhsBatch)
	lx := crossAxes(lhs.Rank(), ax.lhsContracting, ax.lhsBatch)
	rx := crossAxes(rhs.Rank(), ax.rhsContracting, ax.rhsBatch)
	vBatch := iotaFrom(0, nb)
	vLhsCross := iotaFrom(nb, len(lx))
	vRhsCross := iotaFrom(nb+len(lx), len(rx))

	// dlhs = DotGeneral(v, rhs): [batch, lhsCross, rhs free] where the rhs free
	// axes are rhs's contracting axes in ascending order.
	dl := DotGeneral(v, vRhsCross, vBatch, rhs, rx, ax.rhsBatch)
	rcSorted := slices.Sorted(slices.Values(ax.rhsContracting))
	permL := make([]int, lhs.Rank())
	for i, a := range ax.lhsBatch {
		permL[a] = i
	}
	for j, a := range lx {
		permL[a] = nb + j
	}
	for k, a := range ax.lhsContracting {
		permL[a] = nb + len(lx) + slices.Index(rcSorted, ax.rhsContracting[k])
	}

	// drhs = DotGeneral(lhs, v): [batch, lhs free (lhs's contracting axes
	// ascending), rhsCross].
	dr := DotGeneral(lhs, lx, ax.lhsBatch, v, vLhsCross, vBatch)
	lcSorted := slices.Sorted(slices.Values(ax.lhsContracting))
	permR := make([]int, rhs.Rank())
	for i, a := range ax.rhsBatch {
		permR[a] = i
	}
	for k, a := range ax.rhsContracting {
		permR[a] = nb + slices.Index(lcSorted, ax.lhsContracting[k])
	}
	for j, a := range rx {
		permR[a] = nb + len(ax.lhsContracting) + j
	}
	return []*Node{transposeIfNeeded(dl, permL), transposeIfNeeded(dr, permR)}
}

// transposeIfNeeded returns x with output axis a = input axis perm[a].
func transposeIfNeeded(x *Node, perm []int) *Node {
	identity := true
	for i, p := range perm {
		if i != p {
			identity = false
		}
	}
	if identity {
		return x
	}
	return TransposeAllAxes(x, perm...)
}

func iotaFrom(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}

var sliceRE = regexp.MustCompile(`starts=\[([0-9 ]*)\], limits=\[([0-9 ]*)\], strides=\[([0-9 ]*)\]`)

// parseSlice reads a Slice node's starts and strides from its description
// (GoMLX has no accessor); empty strides mean 1.
func parseSlice(node *Node) (starts, strides []int, ok bool) {
	m := sliceRE.FindStringSubmatch(node.String())
	if m == nil {
		return nil, nil, false
	}
	var lists [3][]int
	for i := range lists {
		for _, f := range strings.Fields(m[i+1]) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, nil, false
			}
			lists[i] = append(lists[i], n)
		}
	}
	rank := node.Inputs()[0].Rank()
	if len(lists[0]) != rank {
		return nil, nil, false
	}
	strides = lists[2]
	if len(strides) == 0 {
		strides = make([]int, rank)
	}
	if len(strides) != rank {
		return nil, nil, false
	}
	return lists[0], strides, true
}

// unslice scatters the adjoint v of x[starts::strides] back to x's shape
// dims, zeros elsewhere, using only Concatenate and Reshape.
func unslice(v *Node, dims, starts, strides []int) *Node {
	g := v.Graph()
	for axis := range dims {
		n := v.Shape().Dimensions[axis]
		if s := max(strides[axis], 1); s > 1 && n > 0 {
			// Interleave s−1 zeros after every element, then keep what fits.
			d := v.Shape().Clone()
			d.Dimensions = slices.Insert(slices.Clone(d.Dimensions), axis+1, s-1)
			wide := Concatenate([]*Node{ExpandAxes(v, axis+1), Zeros(g, d)}, axis+1)
			merged := slices.Clone(v.Shape().Dimensions)
			merged[axis] = n * s
			v = Reshape(wide, merged...)
			keep := min(n*s, dims[axis]-starts[axis])
			v = SliceAxis(v, axis, AxisRange(0, keep))
			n = keep
		}
		before, after := starts[axis], dims[axis]-starts[axis]-n
		if before == 0 && after == 0 {
			continue
		}
		zerosOf := func(k int) *Node {
			sh := v.Shape().Clone()
			sh.Dimensions[axis] = k
			return Zeros(g, sh)
		}
		parts := make([]*Node, 0, 3)
		if before > 0 {
			parts = append(parts, zerosOf(before))
		}
		parts = append(parts, v)
		if after > 0 {
			parts = append(parts, zerosOf(after))
		}
		v = Concatenate(parts, axis)
	}
	return v
}
