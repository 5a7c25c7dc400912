package onnx

import (
	"fmt"
	"slices"
)

// dotGeneral lowers XLA DotGeneral (output axes: batch, lhs free, rhs free).
// The common layouts become MatMul (ONNX Runtime's fastest kernel, and what
// TensorRT fuses best); anything else becomes an equivalent Einsum.
func (e *emitter) dotGeneral(r *symRecord, lhs, rhs string) (string, error) {
	lc, err := r.staticInts("lc")
	if err != nil {
		return "", err
	}
	lb, err := r.staticInts("lb")
	if err != nil {
		return "", err
	}
	rc, err := r.staticInts("rc")
	if err != nil {
		return "", err
	}
	rb, err := r.staticInts("rb")
	if err != nil {
		return "", err
	}
	lr, rr := len(e.recs[r.inputs[0]].dims), len(e.recs[r.inputs[1]].dims)
	nb := len(lb)
	iotaN := func(n int) []int {
		v := make([]int, n)
		for i := range v {
			v[i] = i
		}
		return v
	}
	swapLast := func(x string, rank int) string {
		perm := iotaN(rank)
		perm[rank-1], perm[rank-2] = perm[rank-2], perm[rank-1]
		return e.node("Transpose", []string{x}, intsAttr("perm", perm))
	}
	// Dense layer: x[..., K] . W[K, N] (or W[N, K]).
	if nb == 0 && len(lc) == 1 && lc[0] == lr-1 && rr == 2 && len(rc) == 1 {
		if rc[0] == 0 {
			return e.node("MatMul", []string{lhs, rhs}), nil
		}
		return e.node("MatMul", []string{lhs, swapLast(rhs, 2)}), nil
	}
	// Batched matmul with leading batch axes in both operands.
	if len(lc) == 1 && len(rc) == 1 && lr == nb+2 && rr == nb+2 &&
		slices.Equal(lb, iotaN(nb)) && slices.Equal(rb, iotaN(nb)) {
		if lc[0] == nb {
			lhs = swapLast(lhs, lr)
		}
		if rc[0] == nb+1 {
			rhs = swapLast(rhs, rr)
		}
		return e.node("MatMul", []string{lhs, rhs}), nil
	}
	eq, err := einsumEquation(lr, rr, lc, lb, rc, rb)
	if err != nil {
		return "", err
	}
	return e.node("Einsum", []string{lhs, rhs}, strAttr("equation", eq)), nil
}

// einsumEquation writes the DotGeneral as an einsum equation.
func einsumEquation(lr, rr int, lc, lb, rc, rb []int) (string, error) {
	if lr+rr > 26 {
		return "", fmt.Errorf("onnx export: DotGeneral of rank %d x %d is too large for an einsum equation", lr, rr)
	}
	next := 'a'
	l, rt := make([]rune, lr), make([]rune, rr)
	var out []rune
	for i := range lb {
		l[lb[i]], rt[rb[i]] = next, next
		out = append(out, next)
		next++
	}
	for i := range lc {
		l[lc[i]], rt[rc[i]] = next, next
		next++
	}
	for i := range l {
		if l[i] == 0 {
			l[i] = next
			out = append(out, next)
			next++
		}
	}
	for i := range rt {
		if rt[i] == 0 {
			rt[i] = next
			out = append(out, next)
			next++
		}
	}
	return string(l) + "," + string(rt) + "->" + string(out), nil
}
