package onnx

import (
	"fmt"
	"reflect"
	"slices"
)

// sym is an integer that may scale with the batch size B: a*B + c. The
// exporter traces the graph at several batch sizes and fits every shape
// dimension and integer op parameter to this form, which is what lets the
// exported model keep a dynamic batch axis although GoMLX graphs are static.
type sym struct{ a, c int }

func (s sym) static() bool   { return s.a == 0 }
func (s sym) at(b int) int   { return s.a*b + s.c }
func (s sym) String() string { return fmt.Sprintf("%d*B%+d", s.a, s.c) }

// dynamicBatches are the batch sizes a dynamic-batch export is traced at:
// the first two fit a and c, the third checks the fit (a value that is not
// affine in B, e.g. B*B, is refused rather than silently exported wrong).
var dynamicBatches = [3]int{2, 3, 5}

// fitSym fits v (one value per trace batch b) to a*B + c. With a fixed batch
// (all b equal) every value is static.
func fitSym(b, v [3]int) (sym, bool) {
	if b[0] == b[1] {
		return sym{c: v[0]}, v[0] == v[1] && v[1] == v[2]
	}
	d := v[1] - v[0]
	if d%(b[1]-b[0]) != 0 {
		return sym{}, false
	}
	a := d / (b[1] - b[0])
	s := sym{a: a, c: v[0] - a*b[0]}
	return s, s.at(b[2]) == v[2]
}

// symRecord is a record whose integers are symbolic in the batch size.
type symRecord struct {
	record
	dims []sym            // output shape
	ints map[string][]sym // symbolic integer parameters
}

// symbolize aligns the tapes of the three traces and fits every integer.
func symbolize(tapes [3]*tape, batches [3]int) ([]symRecord, error) {
	t0 := tapes[0]
	for _, t := range tapes[1:] {
		if len(t.recs) != len(t0.recs) || !slices.Equal(t.outputs, t0.outputs) {
			return nil, fmt.Errorf("onnx export: the graph's structure changes with the batch size (%d vs %d ops)", len(t0.recs), len(t.recs))
		}
	}
	out := make([]symRecord, len(t0.recs))
	for i, r := range t0.recs {
		sr := symRecord{record: r, ints: make(map[string][]sym, len(r.ints))}
		for _, t := range tapes[1:] {
			o := t.recs[i]
			if o.op != r.op || !slices.Equal(o.inputs, r.inputs) || o.shape.Rank() != r.shape.Rank() ||
				o.shape.DType != r.shape.DType || o.name != r.name || len(o.ints) != len(r.ints) {
				return nil, fmt.Errorf("onnx export: op #%d (%s) differs between traces at different batch sizes", i, r.op)
			}
			if r.op == "Constant" && !reflect.DeepEqual(o.flat, r.flat) {
				return nil, fmt.Errorf("onnx export: constant #%d (shape %s) depends on the batch size; compute it from the inputs instead", i, r.shape)
			}
		}
		for ax := range r.shape.Rank() {
			s, ok := fitSym(batches, [3]int{tapes[0].recs[i].shape.Dimensions[ax], tapes[1].recs[i].shape.Dimensions[ax], tapes[2].recs[i].shape.Dimensions[ax]})
			if !ok {
				return nil, fmt.Errorf("onnx export: op #%d (%s) axis %d is not affine in the batch size", i, r.op, ax)
			}
			sr.dims = append(sr.dims, s)
		}
		for k, v0 := range r.ints {
			syms := make([]sym, len(v0))
			for j := range v0 {
				var v [3]int
				for ti, t := range tapes {
					vs := t.recs[i].ints[k]
					if len(vs) != len(v0) {
						return nil, fmt.Errorf("onnx export: op #%d (%s) parameter %s changes length with the batch size", i, r.op, k)
					}
					v[ti] = vs[j]
				}
				s, ok := fitSym(batches, v)
				if !ok {
					return nil, fmt.Errorf("onnx export: op #%d (%s) parameter %s is not affine in the batch size", i, r.op, k)
				}
				syms[j] = s
			}
			sr.ints[k] = syms
		}
		out[i] = sr
	}
	return out, nil
}

// staticInts returns the parameter as plain ints, or an error naming it when
// it depends on the batch size (only shape-like parameters may).
func (r *symRecord) staticInts(key string) ([]int, error) {
	s := r.ints[key]
	v := make([]int, len(s))
	for i, x := range s {
		if !x.static() {
			return nil, fmt.Errorf("onnx export: %s parameter %s depends on the batch size, which ONNX cannot express here", r.op, key)
		}
		v[i] = x.c
	}
	return v, nil
}

func allStatic(dims []sym) bool {
	for _, d := range dims {
		if !d.static() {
			return false
		}
	}
	return true
}
