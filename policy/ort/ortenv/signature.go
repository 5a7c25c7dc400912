package ortenv

import (
	"errors"

	ortapi "github.com/yalue/onnxruntime_go"
)

// Signature reads a model's declared inputs and outputs. ONNX Runtime does
// it by opening a throw-away session; graph optimizations are off for it
// since only the signature is needed and they are the bulk of a session's
// cost. The environment must have been acquired.
func Signature(path string) (ins, outs []ortapi.InputOutputInfo, err error) {
	so, err := ortapi.NewSessionOptions()
	if err != nil {
		return nil, nil, err
	}
	defer func() { err = errors.Join(err, so.Destroy()) }()
	if err := so.SetGraphOptimizationLevel(ortapi.GraphOptimizationLevelDisableAll); err != nil {
		return nil, nil, err
	}
	if err := so.SetIntraOpNumThreads(1); err != nil {
		return nil, nil, err
	}
	return ortapi.GetInputOutputInfoWithOptions(path, so)
}
