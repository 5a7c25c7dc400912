package onnx

import (
	"encoding/binary"
	"math"
	"slices"
)

// fuseLayerNorms replaces each layer normalisation over the last axis, as
// the model writes it and the emitter lowers it —
//
//	mean = Reshape(Mul(ReduceSum(x, last), 1/d)); xc = Sub(x, mean)
//	var = Reshape(Mul(ReduceSum(Mul(xc, xc), last), 1/d))
//	y = Add(Mul(Div(xc, Sqrt(Add(var, eps))), Reshape(gain)), Reshape(offset))
//
// — with one ONNX LayerNormalization node (opset 17), when none of the
// intermediate values is used elsewhere. On the CPU each node costs a
// dispatch that weighs as much as its arithmetic at these sizes, and the
// pattern is 13 nodes that ONNX Runtime does not fuse by itself (its own
// fusion looks for ReduceMean).
func fuseLayerNorms(g *graphProto) int {
	producer := map[string]int{}
	uses := map[string]int{}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			producer[o] = i
		}
		for _, in := range n.Inputs {
			uses[in]++
		}
	}
	for _, o := range g.Outputs {
		uses[o.Name]++
	}
	inits := map[string]*tensorProto{}
	for i := range g.Initializers {
		inits[g.Initializers[i].Name] = &g.Initializers[i]
	}
	dims := map[string][]dimension{}
	for _, vs := range [][]valueInfo{g.Inputs, g.ValueInfo, g.Outputs} {
		for _, v := range vs {
			dims[v.Name] = v.Dims
		}
	}
	// node returns the node producing name if it has op type op.
	node := func(name, op string) (int, *nodeProto) {
		i, ok := producer[name]
		if !ok || g.Nodes[i].OpType != op {
			return -1, nil
		}
		return i, &g.Nodes[i]
	}
	scalar := func(name string) (float64, bool) {
		t := inits[name]
		if t == nil || t.DataType != dtFloat || len(t.Raw) != 4 {
			return 0, false
		}
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(t.Raw))), true
	}
	consumers := map[string][]int{}
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			consumers[in] = append(consumers[in], i)
		}
	}
	removed := map[int]bool{}
	fused := 0
	for si := range g.Nodes {
		sqrt := &g.Nodes[si]
		if sqrt.OpType != "Sqrt" || removed[si] {
			continue
		}
		var drop []int
		single := func(name string, i int) bool { // value used once, by node i
			return uses[name] == 1 && len(consumers[name]) == 1 && consumers[name][0] == i
		}
		// Backwards from the square root: Add(var, eps).
		ai, add := node(sqrt.Inputs[0], "Add")
		if add == nil || !single(add.Outputs[0], si) {
			continue
		}
		eps, ok := scalar(add.Inputs[1])
		if !ok {
			continue
		}
		x, xc, d, stats, ok := matchMoments(g, node, scalar, single, add.Inputs[0], ai, dims)
		if !ok {
			continue
		}
		drop = append(drop, si, ai)
		drop = append(drop, stats...)
		// Forwards: Div(xc, sqrt) -> Mul(., Reshape(gain)) -> Add(., Reshape(offset)).
		if len(consumers[sqrt.Outputs[0]]) != 1 || uses[sqrt.Outputs[0]] != 1 {
			continue
		}
		di := consumers[sqrt.Outputs[0]][0]
		div := &g.Nodes[di]
		if div.OpType != "Div" || div.Inputs[0] != xc || div.Inputs[1] != sqrt.Outputs[0] || uses[xc] != 3 {
			continue
		}
		mi, gain, ok := affine(g, consumers, uses, div.Outputs[0], "Mul", d, dims, producer)
		if !ok {
			continue
		}
		oi, offset, ok := affine(g, consumers, uses, g.Nodes[mi].Outputs[0], "Add", d, dims, producer)
		if !ok {
			continue
		}
		drop = append(drop, di, mi)
		out := g.Nodes[oi].Outputs[0]
		g.Nodes[oi] = nodeProto{Name: "LayerNormalization_" + out, OpType: "LayerNormalization", Inputs: []string{x, gain, offset},
			Outputs: []string{out}, Attrs: []attribute{intAttr("axis", -1), {Name: "epsilon", Type: attrFloat, F: float32(eps)}}}
		for _, i := range drop {
			removed[i] = true
		}
		fused++
	}
	if fused == 0 {
		return 0
	}
	kept := g.Nodes[:0]
	for i, n := range g.Nodes {
		if !removed[i] {
			kept = append(kept, n)
		}
	}
	g.Nodes = kept
	// The gain's and offset's reshapes, and constants, that nothing reads
	// any more.
	pruneUnread(g)
	return fused
}

// matchMoments matches var = Reshape(Mul(ReduceSum(Mul(xc, xc)), 1/d)) with
// xc = Sub(x, Reshape(Mul(ReduceSum(x), 1/d))), both sums over x's last
// axis, and returns x, xc, d and the nodes to drop.
func matchMoments(g *graphProto, node func(string, string) (int, *nodeProto), scalar func(string) (float64, bool),
	single func(string, int) bool, varName string, addIdx int, dims map[string][]dimension) (x, xc string, d int64, drop []int, ok bool) {
	mean := func(v string, user int) (src string, nodes []int, ok bool) {
		ri, r := node(v, "Reshape")
		if r == nil || !single(v, user) {
			return "", nil, false
		}
		mi, m := node(r.Inputs[0], "Mul")
		if m == nil || !single(m.Outputs[0], ri) {
			return "", nil, false
		}
		si, s := node(m.Inputs[0], "ReduceSum")
		if s == nil || !single(s.Outputs[0], mi) || len(s.Inputs) != 2 {
			return "", nil, false
		}
		xd := dims[s.Inputs[0]]
		if len(xd) == 0 || xd[len(xd)-1].Param != "" || !reducesLast(g, s.Inputs[1], len(xd)) {
			return "", nil, false
		}
		inv, ok := scalar(m.Inputs[1])
		n := xd[len(xd)-1].Value
		if !ok || math.Abs(inv*float64(n)-1) > 1e-6 {
			return "", nil, false
		}
		return s.Inputs[0], []int{ri, mi, si}, true
	}
	sq, nodes, ok := mean(varName, addIdx)
	if !ok {
		return "", "", 0, nil, false
	}
	qi, q := node(sq, "Mul")
	if q == nil || q.Inputs[0] != q.Inputs[1] || !single(sq, nodes[2]) {
		return "", "", 0, nil, false
	}
	xc = q.Inputs[0]
	ci, c := node(xc, "Sub")
	if c == nil {
		return "", "", 0, nil, false
	}
	x = c.Inputs[0]
	src, meanNodes, ok := mean(c.Inputs[1], ci)
	if !ok || src != x {
		return "", "", 0, nil, false
	}
	xd := dims[x]
	drop = append(append(nodes, qi, ci), meanNodes...)
	return x, xc, xd[len(xd)-1].Value, drop, true
}

// reducesLast reports whether axes (an int64 initializer) is exactly the
// last axis of a rank-r tensor.
func reducesLast(g *graphProto, axes string, r int) bool {
	for _, t := range g.Initializers {
		if t.Name == axes {
			if t.DataType != dtInt64 || len(t.Raw) != 8 {
				return false
			}
			a := int64(binary.LittleEndian.Uint64(t.Raw))
			return a == int64(r-1) || a == -1
		}
	}
	return false
}

// affine matches the only consumer of v as op(v, Reshape(p)) with p a
// length-d vector, returning that node and p.
func affine(g *graphProto, consumers map[string][]int, uses map[string]int, v, op string, d int64, dims map[string][]dimension, producer map[string]int) (int, string, bool) {
	if uses[v] != 1 || len(consumers[v]) != 1 {
		return 0, "", false
	}
	i := consumers[v][0]
	n := &g.Nodes[i]
	if n.OpType != op || n.Inputs[0] != v {
		return 0, "", false
	}
	ri, ok := producer[n.Inputs[1]]
	if !ok || g.Nodes[ri].OpType != "Reshape" {
		return 0, "", false
	}
	p := g.Nodes[ri].Inputs[0]
	if !isVector(g, p, d, dims) {
		return 0, "", false
	}
	return i, p, true
}

// isVector reports whether name is a float tensor of shape [d] (an
// initializer or a graph input).
func isVector(g *graphProto, name string, d int64, dims map[string][]dimension) bool {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t.DataType == dtFloat && len(t.Dims) == 1 && t.Dims[0] == d
		}
	}
	pd := dims[name]
	return len(pd) == 1 && pd[0].Param == "" && pd[0].Value == d
}

// pruneUnread removes nodes none of whose outputs is read by a node or a
// graph output, until none is left, then the initializers and value infos
// nothing refers to any more.
func pruneUnread(g *graphProto) {
	read := map[string]bool{}
	for {
		clear(read)
		for _, n := range g.Nodes {
			for _, in := range n.Inputs {
				read[in] = true
			}
		}
		for _, o := range g.Outputs {
			read[o.Name] = true
		}
		n0 := len(g.Nodes)
		g.Nodes = slices.DeleteFunc(g.Nodes, func(n nodeProto) bool {
			for _, o := range n.Outputs {
				if read[o] {
					return false
				}
			}
			return true
		})
		if len(g.Nodes) == n0 {
			break
		}
	}
	g.Initializers = slices.DeleteFunc(g.Initializers, func(t tensorProto) bool { return !read[t.Name] })
	g.ValueInfo = slices.DeleteFunc(g.ValueInfo, func(v valueInfo) bool { return !read[v.Name] })
}
