package ort

import (
	"errors"
	"fmt"

	ortapi "github.com/yalue/onnxruntime_go"
)

// Bound is an in-memory model with its inputs and outputs allocated once
// and bound to the session, for callers that run the same shapes many times
// outside the control loop (the trainer's matching pass). Fill the slices
// Input returns, Run, then read Output's; none of them may be kept past
// Close.
type Bound struct {
	session  *ortapi.AdvancedSession
	release  func() error
	values   map[string]ortapi.Value
	owned    []ortapi.Value
	provider string
}

// NewBound loads model with inputs and outputs of the given names, shapes
// and element types (Tensor.Data's type; its contents seed the inputs).
func NewBound(model []byte, inputs, outputs []Tensor, opts Options) (_ *Bound, err error) {
	release, err := opts.acquire()
	if err != nil {
		return nil, err
	}
	b := &Bound{release: release, values: map[string]ortapi.Value{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.Close())
		}
	}()
	bind := func(ts []Tensor) ([]string, []ortapi.Value, error) {
		names := make([]string, len(ts))
		vals := make([]ortapi.Value, len(ts))
		for i, t := range ts {
			v, err := newValue(t)
			if err != nil {
				return nil, nil, err
			}
			b.owned = append(b.owned, v)
			if _, dup := b.values[t.Name]; dup {
				return nil, nil, fmt.Errorf("ort: tensor %q named twice", t.Name)
			}
			names[i], vals[i] = t.Name, v
			b.values[t.Name] = v
		}
		return names, vals, nil
	}
	inNames, inVals, err := bind(inputs)
	if err != nil {
		return nil, err
	}
	outNames, outVals, err := bind(outputs)
	if err != nil {
		return nil, err
	}
	b.provider, err = withFallback(&opts, opts.logger(), func(so *ortapi.SessionOptions) error {
		var e error
		b.session, e = ortapi.NewAdvancedSessionWithONNXData(model, inNames, outNames, inVals, outVals, so)
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("ort: loading model: %w", err)
	}
	return b, nil
}

// Provider is the execution provider the session runs on.
func (b *Bound) Provider() string { return b.provider }

// Data is the bound buffer of a named input or output ([]float32, []int64,
// ...), or nil when there is none of that name.
func (b *Bound) Data(name string) any {
	switch v := b.values[name].(type) {
	case *ortapi.Tensor[float32]:
		return v.GetData()
	case *ortapi.Tensor[float64]:
		return v.GetData()
	case *ortapi.Tensor[int32]:
		return v.GetData()
	case *ortapi.Tensor[int64]:
		return v.GetData()
	case *ortapi.Tensor[uint8]:
		return v.GetData()
	case *ortapi.Tensor[bool]:
		return v.GetData()
	}
	return nil
}

// Run runs the model on the bound inputs into the bound outputs.
func (b *Bound) Run() error {
	if b.session == nil {
		return errors.New("ort: session closed")
	}
	if err := b.session.Run(); err != nil {
		return fmt.Errorf("ort: run: %w", err)
	}
	return nil
}

// Close frees the session and its tensors.
func (b *Bound) Close() error {
	var errs []error
	if b.session != nil {
		errs = append(errs, b.session.Destroy())
		b.session = nil
	}
	for _, v := range b.owned {
		errs = append(errs, v.Destroy())
	}
	b.owned, b.values = nil, nil
	if b.release != nil {
		errs = append(errs, b.release())
		b.release = nil
	}
	return errors.Join(errs...)
}
