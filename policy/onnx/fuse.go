package onnx

import (
	"encoding/binary"
	"math"
	"slices"
)

// The model's layer normalisations and softmaxes reach ONNX as chains of
// small nodes (13 and 8) that ONNX Runtime does not fuse by itself: its
// fusions look for ReduceMean and other spellings. On the CPU each node
// costs a dispatch that weighs as much as its arithmetic at this model's
// sizes, so the exporter folds each chain into the one standard node that
// computes it, when none of the chain's intermediate values is read
// elsewhere.

// graphIndex answers who produces and who reads each value of a graph.
type graphIndex struct {
	g         *graphProto
	producer  map[string]int
	consumers map[string][]int
	uses      map[string]int // reads by nodes and graph outputs
	inits     map[string]*tensorProto
	dims      map[string][]dimension
	removed   map[int]bool
}

func indexGraph(g *graphProto) *graphIndex {
	x := &graphIndex{g: g, producer: map[string]int{}, consumers: map[string][]int{}, uses: map[string]int{},
		inits: map[string]*tensorProto{}, dims: map[string][]dimension{}, removed: map[int]bool{}}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			x.producer[o] = i
		}
		for _, in := range n.Inputs {
			x.uses[in]++
			x.consumers[in] = append(x.consumers[in], i)
		}
	}
	for _, o := range g.Outputs {
		x.uses[o.Name]++
	}
	for i := range g.Initializers {
		x.inits[g.Initializers[i].Name] = &g.Initializers[i]
	}
	for _, vs := range [][]valueInfo{g.Inputs, g.ValueInfo, g.Outputs} {
		for _, v := range vs {
			x.dims[v.Name] = v.Dims
		}
	}
	return x
}

// node returns the node producing name if it has op type op and is still
// in the graph.
func (x *graphIndex) node(name, op string) (int, *nodeProto) {
	i, ok := x.producer[name]
	if !ok || x.removed[i] || x.g.Nodes[i].OpType != op {
		return -1, nil
	}
	return i, &x.g.Nodes[i]
}

// readOnlyBy reports whether value name is read exactly n times, all by
// node i.
func (x *graphIndex) readOnlyBy(name string, i, n int) bool {
	if x.uses[name] != n || len(x.consumers[name]) != n {
		return false
	}
	for _, c := range x.consumers[name] {
		if c != i {
			return false
		}
	}
	return true
}

// onlyReader is the node that is the single reader of value name.
func (x *graphIndex) onlyReader(name, op string) (int, *nodeProto) {
	if x.uses[name] != 1 || len(x.consumers[name]) != 1 {
		return -1, nil
	}
	i := x.consumers[name][0]
	if x.removed[i] || x.g.Nodes[i].OpType != op {
		return -1, nil
	}
	return i, &x.g.Nodes[i]
}

// scalar is the value of a float32 scalar initializer.
func (x *graphIndex) scalar(name string) (float64, bool) {
	t := x.inits[name]
	if t == nil || t.DataType != dtFloat || len(t.Raw) != 4 {
		return 0, false
	}
	return float64(math.Float32frombits(binary.LittleEndian.Uint32(t.Raw))), true
}

// axis is the single axis held by an int64 initializer of one element,
// normalised to 0..rank-1.
func (x *graphIndex) axis(name string, rank int) (int, bool) {
	t := x.inits[name]
	if t == nil || t.DataType != dtInt64 || len(t.Raw) != 8 || rank == 0 {
		return 0, false
	}
	a := int(int64(binary.LittleEndian.Uint64(t.Raw)))
	if a < 0 {
		a += rank
	}
	return a, a >= 0 && a < rank
}

// vector reports whether name is a float tensor of shape [d] (an
// initializer or a graph input).
func (x *graphIndex) vector(name string, d int64) bool {
	if t := x.inits[name]; t != nil {
		return t.DataType == dtFloat && len(t.Dims) == 1 && t.Dims[0] == d
	}
	pd := x.dims[name]
	return len(pd) == 1 && pd[0].Param == "" && pd[0].Value == d
}

// reduced matches Reshape(op(src, axes)) — a reduction whose dropped axis
// is put back — read only by node user, returning src, the axis and the two
// nodes.
func (x *graphIndex) reduced(v string, user int, op string) (src string, axis int, nodes []int, ok bool) {
	ri, r := x.node(v, "Reshape")
	if r == nil || !x.readOnlyBy(v, user, 1) {
		return "", 0, nil, false
	}
	si, s := x.node(r.Inputs[0], op)
	if s == nil || len(s.Inputs) != 2 || !x.readOnlyBy(s.Outputs[0], ri, 1) {
		return "", 0, nil, false
	}
	a, ok := x.axis(s.Inputs[1], len(x.dims[s.Inputs[0]]))
	return s.Inputs[0], a, []int{ri, si}, ok
}

// fuse replaces node at with a new node computing its output, and marks
// drop removed.
func (x *graphIndex) fuse(at int, op string, inputs []string, attrs []attribute, drop []int) {
	out := x.g.Nodes[at].Outputs[0]
	x.g.Nodes[at] = nodeProto{Name: op + "_" + out, OpType: op, Inputs: inputs, Outputs: []string{out}, Attrs: attrs}
	for _, i := range drop {
		x.removed[i] = true
	}
}

// compact drops the removed nodes, then every node, initializer and value
// info nothing reads any more.
func (x *graphIndex) compact() {
	kept := x.g.Nodes[:0]
	for i, n := range x.g.Nodes {
		if !x.removed[i] {
			kept = append(kept, n)
		}
	}
	x.g.Nodes = kept
	pruneUnread(x.g)
}

// fuseLayerNorms replaces each layer normalisation over the last axis, as
// policy/model writes it and the emitter lowers it —
//
//	mean = Reshape(Mul(ReduceSum(x, last), 1/d)); xc = Sub(x, mean)
//	var = Reshape(Mul(ReduceSum(Mul(xc, xc), last), 1/d))
//	y = Add(Mul(Div(xc, Sqrt(Add(var, eps))), Reshape(gain)), Reshape(offset))
//
// — with one LayerNormalization node (opset 17), and returns how many.
func fuseLayerNorms(g *graphProto) int {
	x := indexGraph(g)
	fused := 0
	for si := range g.Nodes {
		sqrt := &g.Nodes[si]
		if sqrt.OpType != "Sqrt" || x.removed[si] {
			continue
		}
		ai, add := x.node(sqrt.Inputs[0], "Add")
		if add == nil || !x.readOnlyBy(add.Outputs[0], si, 1) {
			continue
		}
		eps, ok := x.scalar(add.Inputs[1])
		if !ok {
			continue
		}
		sq, d, varNodes, ok := x.scaledSum(add.Inputs[0], ai)
		if !ok {
			continue
		}
		qi, q := x.node(sq, "Mul")
		if q == nil || q.Inputs[0] != q.Inputs[1] || !x.readOnlyBy(sq, varNodes[2], 1) {
			continue
		}
		xc := q.Inputs[0]
		ci, c := x.node(xc, "Sub")
		if c == nil {
			continue
		}
		in := c.Inputs[0]
		src, d2, meanNodes, ok := x.scaledSum(c.Inputs[1], ci)
		if !ok || src != in || d2 != d {
			continue
		}
		// Forwards: Div(xc, sqrt) -> Mul(., Reshape(gain)) -> Add(., Reshape(offset)).
		di, div := x.onlyReader(sqrt.Outputs[0], "Div")
		if div == nil || div.Inputs[0] != xc || x.uses[xc] != 3 {
			continue
		}
		mi, gain, ok := x.affine(div.Outputs[0], "Mul", d)
		if !ok {
			continue
		}
		oi, offset, ok := x.affine(g.Nodes[mi].Outputs[0], "Add", d)
		if !ok {
			continue
		}
		drop := append([]int{si, ai, qi, ci, di, mi}, append(varNodes, meanNodes...)...)
		x.fuse(oi, "LayerNormalization", []string{in, gain, offset},
			[]attribute{intAttr("axis", -1), {Name: "epsilon", Type: attrFloat, F: float32(eps)}}, drop)
		fused++
	}
	if fused > 0 {
		x.compact()
	}
	return fused
}

// scaledSum matches Reshape(Mul(ReduceSum(src, last), 1/d)) read only by
// node user — a mean over src's last axis of static size d — and returns
// src, d and its three nodes.
func (x *graphIndex) scaledSum(v string, user int) (string, int64, []int, bool) {
	ri, r := x.node(v, "Reshape")
	if r == nil || !x.readOnlyBy(v, user, 1) {
		return "", 0, nil, false
	}
	mi, m := x.node(r.Inputs[0], "Mul")
	if m == nil || !x.readOnlyBy(m.Outputs[0], ri, 1) {
		return "", 0, nil, false
	}
	si, s := x.node(m.Inputs[0], "ReduceSum")
	if s == nil || len(s.Inputs) != 2 || !x.readOnlyBy(s.Outputs[0], mi, 1) {
		return "", 0, nil, false
	}
	sd := x.dims[s.Inputs[0]]
	if len(sd) == 0 || sd[len(sd)-1].Param != "" {
		return "", 0, nil, false
	}
	if a, ok := x.axis(s.Inputs[1], len(sd)); !ok || a != len(sd)-1 {
		return "", 0, nil, false
	}
	d := sd[len(sd)-1].Value
	if inv, ok := x.scalar(m.Inputs[1]); !ok || math.Abs(inv*float64(d)-1) > 1e-6 {
		return "", 0, nil, false
	}
	return s.Inputs[0], d, []int{ri, mi, si}, true
}

// affine matches the only reader of v as op(v, Reshape(p)) with p a
// length-d vector, returning that node and p.
func (x *graphIndex) affine(v, op string, d int64) (int, string, bool) {
	i, n := x.onlyReader(v, op)
	if n == nil || n.Inputs[0] != v {
		return 0, "", false
	}
	_, r := x.node(n.Inputs[1], "Reshape")
	if r == nil || !x.vector(r.Inputs[0], d) {
		return 0, "", false
	}
	return i, r.Inputs[0], true
}

// fuseSoftmaxes replaces each softmax as GoMLX writes it —
//
//	m = Identity(Reshape(ReduceMax(x, a))); e = Exp(Sub(x, m))
//	y = Div(e, Reshape(ReduceSum(e, a)))
//
// (the Identity being its stop-gradient, sometimes absent) — with one
// Softmax node over axis a (opset 13), and returns how many.
func fuseSoftmaxes(g *graphProto) int {
	x := indexGraph(g)
	fused := 0
	for di := range g.Nodes {
		div := &g.Nodes[di]
		if div.OpType != "Div" || x.removed[di] {
			continue
		}
		ei, e := x.node(div.Inputs[0], "Exp")
		if e == nil {
			continue
		}
		src, a, sumNodes, ok := x.reduced(div.Inputs[1], di, "ReduceSum")
		// e is read twice: by the sum and by the division.
		if !ok || src != e.Outputs[0] || x.uses[src] != 2 ||
			!slices.Equal(slices.Sorted(slices.Values(x.consumers[src])), slices.Sorted(slices.Values([]int{sumNodes[1], di}))) {
			continue
		}
		bi, sub := x.node(e.Inputs[0], "Sub")
		if sub == nil || !x.readOnlyBy(sub.Outputs[0], ei, 1) {
			continue
		}
		in, m := sub.Inputs[0], sub.Inputs[1]
		user := bi
		var drop []int
		if ii, id := x.node(m, "Identity"); id != nil {
			if !x.readOnlyBy(m, bi, 1) {
				continue
			}
			drop = append(drop, ii)
			m, user = id.Inputs[0], ii
		}
		maxSrc, a2, maxNodes, ok := x.reduced(m, user, "ReduceMax")
		if !ok || maxSrc != in || a2 != a {
			continue
		}
		drop = append(append(append(drop, ei, bi), sumNodes...), maxNodes...)
		x.fuse(di, "Softmax", []string{in}, []attribute{intAttr("axis", int64(a))}, drop)
		fused++
	}
	if fused > 0 {
		x.compact()
	}
	return fused
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
