package ort

import (
	"context"
	"errors"
	"fmt"

	ortapi "github.com/yalue/onnxruntime_go"
	"go.uber.org/zap"
)

// Tensor is a named host tensor for Run. Data is one of []float32,
// []float64, []int32, []int64, []uint8 or []bool.
type Tensor struct {
	Name  string
	Shape []int64
	Data  any
}

func newValue(t Tensor) (ortapi.Value, error) {
	s := ortapi.NewShape(t.Shape...)
	switch d := t.Data.(type) {
	case []float32:
		return ortapi.NewTensor(s, d)
	case []float64:
		return ortapi.NewTensor(s, d)
	case []int32:
		return ortapi.NewTensor(s, d)
	case []int64:
		return ortapi.NewTensor(s, d)
	case []uint8:
		return ortapi.NewTensor(s, d)
	case []bool:
		return ortapi.NewTensor(s, d)
	}
	return nil, fmt.Errorf("ort: tensor %q: unsupported data type %T", t.Name, t.Data)
}

func fromValue(name string, v ortapi.Value) (Tensor, error) {
	t := Tensor{Name: name, Shape: v.GetShape()}
	switch x := v.(type) {
	case *ortapi.Tensor[float32]:
		t.Data = append([]float32(nil), x.GetData()...)
	case *ortapi.Tensor[float64]:
		t.Data = append([]float64(nil), x.GetData()...)
	case *ortapi.Tensor[int32]:
		t.Data = append([]int32(nil), x.GetData()...)
	case *ortapi.Tensor[int64]:
		t.Data = append([]int64(nil), x.GetData()...)
	case *ortapi.Tensor[uint8]:
		t.Data = append([]uint8(nil), x.GetData()...)
	case *ortapi.Tensor[bool]:
		t.Data = append([]bool(nil), x.GetData()...)
	default:
		return t, fmt.Errorf("ort: output %q has unsupported type %T", name, v)
	}
	return t, nil
}

// Run executes an in-memory ONNX model once on the given inputs and returns
// the named outputs. It creates and destroys a session per call: meant for
// tests, export checks and tools, not for the control loop (use Load).
func Run(ctx context.Context, model []byte, inputs []Tensor, outputs []string, opts Options) (res []Tensor, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	log := opts.logger()
	release, err := opts.acquire()
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, release()) }()

	names := make([]string, len(inputs))
	values := make([]ortapi.Value, len(inputs))
	defer func() {
		for _, v := range values {
			if v != nil {
				err = errors.Join(err, v.Destroy())
			}
		}
	}()
	for i, t := range inputs {
		names[i] = t.Name
		if values[i], err = newValue(t); err != nil {
			return nil, err
		}
	}
	var session *ortapi.DynamicAdvancedSession
	_, err = withFallback(&opts, log, func(so *ortapi.SessionOptions) error {
		var e error
		session, e = ortapi.NewDynamicAdvancedSessionWithONNXData(model, names, outputs, so)
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("ort: loading model: %w", err)
	}
	defer func() { err = errors.Join(err, session.Destroy()) }()
	outs := make([]ortapi.Value, len(outputs))
	if err := session.Run(values, outs); err != nil {
		return nil, fmt.Errorf("ort: run: %w", err)
	}
	for i, v := range outs {
		t, e := fromValue(outputs[i], v)
		err = errors.Join(err, e, v.Destroy())
		res = append(res, t)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// acquire initializes ONNX Runtime from the configured library (see
// ResolveLibrary) on first use; every successful acquire must be released.
func (o *Options) acquire() (release func() error, err error) {
	lib, err := ResolveLibrary(o.LibraryPath)
	if err != nil {
		return nil, err
	}
	return AcquireEnvironment(lib)
}

// logger returns the configured logger or a no-op one.
func (o *Options) logger() *zap.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return zap.NewNop()
}
