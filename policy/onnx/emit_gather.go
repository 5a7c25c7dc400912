package onnx

import (
	"fmt"
	"slices"
)

// gather lowers XLA Gather. Embedding-style lookups (one index into axis 0,
// full rows) become ONNX Gather; every other form becomes GatherND over
// explicit per-element indices. XLA clamps start indices so the slice fits in
// the operand; ONNX Runtime instead fails on out-of-range indices, so the
// clamp is made explicit in both paths.
func (e *emitter) gather(r *symRecord, operand, indices string) (string, error) {
	names := []string{"iva", "offset", "collapsed", "map", "sizes"}
	p := make(map[string][]int, len(names))
	for _, k := range names {
		v, err := r.staticInts(k)
		if err != nil {
			return "", err
		}
		p[k] = v
	}
	iva, offset, collapsed, smap, sizes := p["iva"][0], p["offset"], p["collapsed"], p["map"], p["sizes"]
	opd := e.recs[r.inputs[0]].dims
	idxd := e.recs[r.inputs[1]].dims
	rank, s := len(opd), len(idxd)

	// Normalize indices to [batch..., K] int64.
	idx := indices
	if iva == s {
		idx = e.node("Unsqueeze", []string{idx, e.ints64([]int{s})})
		idxd = append(slices.Clone(idxd), sym{c: 1})
		s++
	} else if iva != s-1 {
		perm := make([]int, 0, s)
		for i := range s {
			if i != iva {
				perm = append(perm, i)
			}
		}
		perm = append(perm, iva)
		idx = e.node("Transpose", []string{idx}, intsAttr("perm", perm))
		d := make([]sym, 0, s)
		for _, i := range perm {
			d = append(d, idxd[i])
		}
		idxd = d
	}
	nb := s - 1
	idx = e.node("Cast", []string{idx}, intAttr("to", dtInt64))

	clampTo := func(x string, hi sym) (string, error) {
		hiT, err := e.symTensor(hi)
		if err != nil {
			return "", err
		}
		return e.node("Min", []string{e.node("Max", []string{x, e.ints64([]int{0})}), hiT}), nil
	}

	// Fast path: rows of axis 0.
	fullRows := rank >= 1 && slices.Equal(smap, []int{0}) && slices.Equal(collapsed, []int{0}) && sizes[0] == 1
	for d := 1; fullRows && d < rank; d++ {
		fullRows = opd[d].static() && sizes[d] == opd[d].c
	}
	if fullRows {
		for k := range offset {
			if offset[k] != nb+k {
				fullRows = false
			}
		}
	}
	if fullRows && idxd[nb] == (sym{c: 1}) {
		flat := e.node("Squeeze", []string{idx, e.ints64([]int{nb})})
		clamped, err := clampTo(flat, sym{a: opd[0].a, c: opd[0].c - 1})
		if err != nil {
			return "", err
		}
		return e.node("Gather", []string{operand, clamped}, intAttr("axis", 0)), nil
	}

	// General path: build full start indices [batch..., rank].
	for d, sz := range sizes {
		if d < len(opd) && !opd[d].static() && sz != 1 && !slices.Contains(smap, d) {
			return "", fmt.Errorf("onnx export: Gather slice along batch-sized axis %d is not supported", d)
		}
	}
	var zero string
	cols := make([]string, rank)
	for d := range rank {
		j := slices.Index(smap, d)
		if j < 0 {
			if zero == "" {
				first := e.node("Slice", []string{idx, e.ints64([]int{0}), e.ints64([]int{1}), e.ints64([]int{nb})})
				zero = e.node("Mul", []string{first, e.ints64([]int{0})})
			}
			cols[d] = zero
			continue
		}
		col := e.node("Slice", []string{idx, e.ints64([]int{j}), e.ints64([]int{j + 1}), e.ints64([]int{nb})})
		c, err := clampTo(col, sym{a: opd[d].a, c: opd[d].c - sizes[d]})
		if err != nil {
			return "", err
		}
		cols[d] = c
	}
	full := cols[0]
	if rank > 1 {
		full = e.node("Concat", cols, intAttr("axis", int64(nb)))
	}
	win := make([]int, rank)
	for d := range win {
		win[d] = nb + d
	}
	full = e.node("Unsqueeze", []string{full, e.ints64(win)})
	windowed := false
	for _, sz := range sizes {
		windowed = windowed || sz != 1
	}
	if windowed {
		full = e.node("Add", []string{full, e.windowOffsets(nb, sizes)})
	}
	x := e.node("GatherND", []string{operand, full})
	if len(collapsed) > 0 {
		ax := make([]int, len(collapsed))
		for i, d := range collapsed {
			ax[i] = nb + d
		}
		slices.Sort(ax)
		x = e.node("Squeeze", []string{x, e.ints64(ax)})
	}
	// Move offset axes to the output positions XLA asks for.
	outRank := nb + len(offset)
	perm := make([]int, outRank)
	bi := 0
	for p := range outRank {
		if k := slices.Index(offset, p); k >= 0 {
			perm[p] = nb + k
		} else {
			perm[p] = bi
			bi++
		}
	}
	for p := range perm {
		if perm[p] != p {
			return e.node("Transpose", []string{x}, intsAttr("perm", perm)), nil
		}
	}
	return x, nil
}

// windowOffsets is the constant [1 x nb, sizes..., rank] whose entry at
// (w_0..w_{rank-1}, d) is w_d: added to the start index it enumerates every
// element of the gathered slice.
func (e *emitter) windowOffsets(nb int, sizes []int) string {
	rank := len(sizes)
	n := 1
	for _, s := range sizes {
		n *= s
	}
	v := make([]int64, 0, n*rank)
	pos := make([]int, rank)
	for range n {
		for d := range rank {
			v = append(v, int64(pos[d]))
		}
		for d := rank - 1; d >= 0; d-- {
			pos[d]++
			if pos[d] < sizes[d] {
				break
			}
			pos[d] = 0
		}
	}
	dims := make([]int64, 0, nb+rank+1)
	for range nb {
		dims = append(dims, 1)
	}
	for _, s := range sizes {
		dims = append(dims, int64(s))
	}
	dims = append(dims, int64(rank))
	return e.constInt64(v, dims)
}

// conv is not lowered: the policy's inference graph avoids convolutions (the
// model contract prefers linear layers on patches). Refusing loudly keeps a
// model that adds one from exporting wrong.
func (e *emitter) conv(r *symRecord, _, _ string) (string, error) {
	return "", fmt.Errorf("onnx export: ConvGeneral (shape %s) is not supported yet", r.shape)
}
