// Package ort runs exported vla3d models with ONNX Runtime (through
// github.com/yalue/onnxruntime_go): it implements policy.Policy with
// pre-allocated input/output tensors bound once to an AdvancedSession,
// execution-provider selection (TensorRT -> CUDA -> CPU) with a logged
// fallback, and a model/sidecar compatibility check. Models trained on a
// frozen visual encoder's features (sidecar "encoder") run that encoder
// (package policy/encoder) on the images first, in the same Predict.
package ort

import "github.com/vla3d/vla3d/policy/ort/ortenv"

// AcquireEnvironment initializes ONNX Runtime from lib on first use and
// returns a release func; every successful acquire must be released once.
// The reference count lives in package ortenv, shared with policy/encoder.
func AcquireEnvironment(lib string) (release func() error, err error) {
	return ortenv.Acquire(lib)
}
