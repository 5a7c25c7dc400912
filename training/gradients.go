package training

import (
	"reflect"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX v0.26.0 gaps that block training on the pure-Go (SimpleGo) backend,
// patched through GoMLX's documented extension table VJPRegistration at
// program initialisation (before any graph is built):
//
//   - Rsqrt has no gradient (layer normalisation uses it):
//     d/dx x^(-1/2) = -1/2 · rsqrt(x)³. Registered only if absent.
//   - Slice's gradient is built with Pad, which SimpleGo does not implement,
//     so any model slicing a tensor (boxes, heads, RoPE pairs) fails at the
//     first step. Replaced by an equivalent built from Concatenate with zeros
//     (and Reshape for strided slices), which SimpleGo and ONNX support.
func init() {
	if _, ok := VJPRegistration[NodeTypeRsqrt]; !ok {
		VJPRegistration[NodeTypeRsqrt] = func(node *Node, v []*Node, _ shapes.Shape) []*Node {
			r := node
			return []*Node{Mul(v[0], MulScalar(Mul(Mul(r, r), r), -0.5))}
		}
	}
	if orig, ok := VJPRegistration[NodeTypeSlice]; ok {
		VJPRegistration[NodeTypeSlice] = func(node *Node, v []*Node, out shapes.Shape) []*Node {
			starts, strides, ok := sliceParams(node)
			if !ok {
				return orig(node, v, out)
			}
			return []*Node{unslice(v[0], node.Inputs()[0].Shape().Dimensions, starts, strides)}
		}
	}
}

// sliceParams reads a Slice node's starts and strides, which GoMLX keeps
// unexported (reflection reads ints without needing exported access).
func sliceParams(node *Node) (starts, strides []int, ok bool) {
	rv := reflect.ValueOf(node)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, nil, false
	}
	in := rv.Elem().FieldByName("inputs")
	if !in.IsValid() || in.Kind() != reflect.Interface || in.IsNil() {
		return nil, nil, false
	}
	p := in.Elem()
	if p.Kind() != reflect.Pointer || p.IsNil() || p.Elem().Kind() != reflect.Struct {
		return nil, nil, false
	}
	read := func(name string) ([]int, bool) {
		f := p.Elem().FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Slice {
			return nil, false
		}
		out := make([]int, f.Len())
		for i := range out {
			out[i] = int(f.Index(i).Int())
		}
		return out, true
	}
	starts, ok1 := read("starts")
	strides, ok2 := read("strides")
	if !ok1 || !ok2 || len(starts) != node.Rank() || len(strides) != node.Rank() {
		return nil, nil, false
	}
	return starts, strides, true
}

// unslice scatters the adjoint v of x[starts::strides] back to x's shape
// dims, zeros elsewhere.
func unslice(v *Node, dims, starts, strides []int) *Node {
	g := v.Graph()
	for axis := range dims {
		n := v.Shape().Dimensions[axis]
		s := max(strides[axis], 1)
		if s > 1 && n > 0 {
			// Interleave s−1 zeros after every element, then keep what fits.
			d := v.Shape().Clone()
			d.Dimensions = append(append(append([]int(nil), d.Dimensions[:axis+1]...), s-1), d.Dimensions[axis+1:]...)
			wide := Concatenate([]*Node{ExpandAxes(v, axis+1), Zeros(g, d)}, axis+1)
			merged := append(append(append([]int(nil), v.Shape().Dimensions[:axis]...), n*s), v.Shape().Dimensions[axis+1:]...)
			v = Reshape(wide, merged...)
			keep := min(n*s, dims[axis]-starts[axis])
			v = SliceAxis(v, axis, AxisRange(0, keep))
			n = keep
		}
		before, after := starts[axis], dims[axis]-starts[axis]-n
		parts := make([]*Node, 0, 3)
		zerosOf := func(k int) *Node {
			sh := v.Shape().Clone()
			sh.Dimensions[axis] = k
			return Zeros(g, sh)
		}
		if before > 0 {
			parts = append(parts, zerosOf(before))
		}
		parts = append(parts, v)
		if after > 0 {
			parts = append(parts, zerosOf(after))
		}
		if len(parts) > 1 {
			v = Concatenate(parts, axis)
		}
	}
	return v
}
