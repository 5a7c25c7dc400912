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
	if y, ok, err := e.dotAsMatMul(r, lhs, rhs, lc, lb, rc, rb); ok || err != nil {
		return y, err
	}
	eq, err := einsumEquation(lr, rr, lc, lb, rc, rb)
	if err != nil {
		return "", err
	}
	return e.node("Einsum", []string{lhs, rhs}, strAttr("equation", eq)), nil
}

// dotAsMatMul lowers any DotGeneral to Transpose + Reshape + batched MatMul
// + Reshape: lhs to [batch..., M, K], rhs to [batch..., K, N]. ONNX
// Runtime's MatMul is far faster than its generic Einsum on the small,
// high-rank contractions of deformable attention. It declines (ok false)
// when a merged axis would need a product of two batch-sized axes.
func (e *emitter) dotAsMatMul(r *symRecord, lhs, rhs string, lc, lb, rc, rb []int) (string, bool, error) {
	ld, rd := e.recs[r.inputs[0]].dims, e.recs[r.inputs[1]].dims
	free := func(rank int, used ...[]int) []int {
		var f []int
		for i := range rank {
			in := false
			for _, u := range used {
				in = in || slices.Contains(u, i)
			}
			if !in {
				f = append(f, i)
			}
		}
		return f
	}
	lf, rf := free(len(ld), lb, lc), free(len(rd), rb, rc)
	m, ok1 := prodSym(ld, lf)
	k, ok2 := prodSym(ld, lc)
	n, ok3 := prodSym(rd, rf)
	if !ok1 || !ok2 || !ok3 {
		return "", false, nil
	}
	batch := make([]sym, len(lb))
	for i, a := range lb {
		batch[i] = ld[a]
	}
	prep := func(x string, dims []sym, perm []int, target []sym) (string, error) {
		if !isIdentity(perm) {
			x = e.node("Transpose", []string{x}, intsAttr("perm", perm))
		}
		permuted := make([]sym, len(perm))
		for i, p := range perm {
			permuted[i] = dims[p]
		}
		if slices.Equal(permuted, target) {
			return x, nil
		}
		return e.reshape(x, target)
	}
	l, err := prep(lhs, ld, concatInts(lb, lf, lc), append(slices.Clone(batch), m, k))
	if err != nil {
		return "", true, err
	}
	rr, err := prep(rhs, rd, concatInts(rb, rc, rf), append(slices.Clone(batch), k, n))
	if err != nil {
		return "", true, err
	}
	y := e.node("MatMul", []string{l, rr})
	if slices.Equal(append(slices.Clone(batch), m, n), r.dims) {
		return y, true, nil
	}
	y, err = e.reshape(y, r.dims)
	return y, true, err
}

// prodSym multiplies dims[axes]; ok is false if two factors depend on B.
func prodSym(dims []sym, axes []int) (sym, bool) {
	p := sym{c: 1}
	for _, a := range axes {
		d := dims[a]
		switch {
		case d.static():
			p = sym{a: p.a * d.c, c: p.c * d.c}
		case p.static():
			p = sym{a: d.a * p.c, c: d.c * p.c}
		default:
			return sym{}, false
		}
	}
	return p, true
}

func isIdentity(perm []int) bool {
	for i, p := range perm {
		if p != i {
			return false
		}
	}
	return true
}

func concatInts(parts ...[]int) []int {
	var out []int
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
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
