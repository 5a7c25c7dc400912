package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// emitter turns symbolic records into ONNX nodes and initializers.
type emitter struct {
	g        graphProto
	recs     []symRecord
	names    []string // ONNX value name of each record
	n        int      // counter for fresh names
	batch    string   // int64 [1] tensor holding B, built on first use
	batchSrc struct {
		name string
		axis int
	}
	consts map[string]string // de-duplicates small int64 constants

	// variableInputs makes variables graph inputs (after the declared ones,
	// named by scope and name, listed in variables) instead of initializers.
	variableInputs bool
	variables      []string
}

func (e *emitter) fresh(prefix string) string {
	e.n++
	return fmt.Sprintf("%s_%d", prefix, e.n)
}

// node appends an ONNX node and returns its (single) output name.
func (e *emitter) node(op string, inputs []string, attrs ...attribute) string {
	out := e.fresh(op)
	e.g.Nodes = append(e.g.Nodes, nodeProto{Name: out, OpType: op, Inputs: inputs, Outputs: []string{out}, Attrs: attrs})
	return out
}

func intAttr(name string, v int64) attribute { return attribute{Name: name, Type: attrInt, I: v} }
func intsAttr(name string, v []int) attribute {
	a := attribute{Name: name, Type: attrInts}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}
func strAttr(name, v string) attribute { return attribute{Name: name, Type: attrString, S: v} }

// constInt64 returns an initializer holding v with the given dims (nil dims: 1-D).
func (e *emitter) constInt64(v []int64, dims []int64) string {
	if dims == nil {
		dims = []int64{int64(len(v))}
	}
	key := fmt.Sprint(dims, v)
	if name, ok := e.consts[key]; ok {
		return name
	}
	name := e.fresh("const_i64")
	e.g.Initializers = append(e.g.Initializers, tensorProto{Name: name, DataType: dtInt64, Dims: dims, Raw: int64Raw(v)})
	e.consts[key] = name
	return name
}

func (e *emitter) ints64(v []int) string {
	w := make([]int64, len(v))
	for i, x := range v {
		w[i] = int64(x)
	}
	return e.constInt64(w, nil)
}

// scalar returns a rank-0 initializer of dtype holding v.
func (e *emitter) scalar(dt dtypes.DType, v float64) (string, error) {
	key := fmt.Sprint("scalar", dt, v)
	if name, ok := e.consts[key]; ok {
		return name, nil
	}
	var flat any
	switch dt {
	case dtypes.Float32:
		flat = []float32{float32(v)}
	case dtypes.Float64:
		flat = []float64{v}
	case dtypes.Int32:
		flat = []int32{int32(v)}
	case dtypes.Int64:
		flat = []int64{int64(v)}
	default:
		return "", fmt.Errorf("onnx export: no scalar constant of dtype %s", dt)
	}
	raw, odt, err := rawData(flat)
	if err != nil {
		return "", err
	}
	name := e.fresh("const")
	e.g.Initializers = append(e.g.Initializers, tensorProto{Name: name, DataType: odt, Dims: []int64{}, Raw: raw})
	e.consts[key] = name
	return name, nil
}

// batchTensor returns an int64 [1] tensor holding the runtime batch size.
func (e *emitter) batchTensor() (string, error) {
	if e.batch != "" {
		return e.batch, nil
	}
	if e.batchSrc.name == "" {
		return "", fmt.Errorf("onnx export: a shape depends on the batch size but no input has a batch axis")
	}
	e.batch = e.node("Shape", []string{e.batchSrc.name}, intAttr("start", int64(e.batchSrc.axis)), intAttr("end", int64(e.batchSrc.axis+1)))
	return e.batch, nil
}

// symTensor returns an int64 [1] tensor holding s at run time.
func (e *emitter) symTensor(s sym) (string, error) {
	if s.static() {
		return e.ints64([]int{s.c}), nil
	}
	b, err := e.batchTensor()
	if err != nil {
		return "", err
	}
	v := b
	if s.a != 1 {
		v = e.node("Mul", []string{v, e.ints64([]int{s.a})})
	}
	if s.c != 0 {
		v = e.node("Add", []string{v, e.ints64([]int{s.c})})
	}
	return v, nil
}

// shapeTensor returns an int64 1-D tensor with the given (possibly dynamic) dims.
func (e *emitter) shapeTensor(dims []sym) (string, error) {
	if allStatic(dims) {
		v := make([]int, len(dims))
		for i, d := range dims {
			v[i] = d.c
		}
		return e.ints64(v), nil
	}
	var parts []string
	var run []int
	flush := func() {
		if len(run) > 0 {
			parts = append(parts, e.ints64(run))
			run = nil
		}
	}
	for _, d := range dims {
		if d.static() {
			run = append(run, d.c)
			continue
		}
		flush()
		t, err := e.symTensor(d)
		if err != nil {
			return "", err
		}
		parts = append(parts, t)
	}
	flush()
	if len(parts) == 1 {
		return parts[0], nil
	}
	return e.node("Concat", parts, intAttr("axis", 0)), nil
}

// onnxDType maps a GoMLX dtype to the ONNX TensorProto.DataType.
func onnxDType(dt dtypes.DType) (int32, error) {
	switch dt {
	case dtypes.Float32:
		return dtFloat, nil
	case dtypes.Float64:
		return dtDouble, nil
	case dtypes.Float16:
		return dtFloat16, nil
	case dtypes.Int8:
		return dtInt8, nil
	case dtypes.Int16:
		return dtInt16, nil
	case dtypes.Int32:
		return dtInt32, nil
	case dtypes.Int64:
		return dtInt64, nil
	case dtypes.Uint8:
		return dtUint8, nil
	case dtypes.Uint16:
		return dtUint16, nil
	case dtypes.Uint32:
		return dtUint32, nil
	case dtypes.Uint64:
		return dtUint64, nil
	case dtypes.Bool:
		return dtBool, nil
	}
	return 0, fmt.Errorf("onnx export: dtype %s has no ONNX equivalent here", dt)
}

// rawData encodes a flat Go slice as little-endian ONNX raw data.
func rawData(flat any) ([]byte, int32, error) {
	switch v := flat.(type) {
	case []float32:
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b, dtFloat, nil
	case []float64:
		b := make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b, dtDouble, nil
	case []int64:
		return int64Raw(v), dtInt64, nil
	case []int32:
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
		}
		return b, dtInt32, nil
	case []int16:
		b := make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
		}
		return b, dtInt16, nil
	case []uint16:
		b := make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], x)
		}
		return b, dtUint16, nil
	case []int8:
		b := make([]byte, len(v))
		for i, x := range v {
			b[i] = byte(x)
		}
		return b, dtInt8, nil
	case []uint8:
		return append([]byte(nil), v...), dtUint8, nil
	case []uint32:
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], x)
		}
		return b, dtUint32, nil
	case []uint64:
		b := make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], x)
		}
		return b, dtUint64, nil
	case []bool:
		b := make([]byte, len(v))
		for i, x := range v {
			if x {
				b[i] = 1
			}
		}
		return b, dtBool, nil
	}
	return nil, 0, fmt.Errorf("onnx export: constant of Go type %T is not supported", flat)
}
