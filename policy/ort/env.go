// Package ort runs exported vla3d models with ONNX Runtime (through
// github.com/yalue/onnxruntime_go): it implements policy.Policy with
// pre-allocated input/output tensors bound once to an AdvancedSession,
// execution-provider selection (TensorRT -> CUDA -> CPU) with a logged
// fallback, and a model/sidecar compatibility check.
package ort

import (
	"fmt"
	"sync"

	ortapi "github.com/yalue/onnxruntime_go"
)

// ONNX Runtime keeps one environment per process and onnxruntime_go exposes
// it as package state: initializing twice fails and destroying it under a
// live session crashes. Several policies (and parallel tests) must coexist,
// so the environment is reference-counted here. This is the package's only
// shared mutable state, and it mirrors a process-global resource that cannot
// be scoped any smaller.
var environment struct {
	mu   sync.Mutex
	refs int
	lib  string
}

// AcquireEnvironment initializes ONNX Runtime from lib on first use and
// returns a release func; every successful acquire must be released once.
func AcquireEnvironment(lib string) (release func() error, err error) {
	environment.mu.Lock()
	defer environment.mu.Unlock()
	if environment.refs == 0 {
		ortapi.SetSharedLibraryPath(lib)
		if err := ortapi.InitializeEnvironment(ortapi.WithLogLevelError()); err != nil {
			return nil, fmt.Errorf("ort: initializing ONNX Runtime from %s: %w", lib, err)
		}
		environment.lib = lib
	} else if lib != environment.lib {
		return nil, fmt.Errorf("ort: ONNX Runtime already loaded from %s; cannot also load %s in the same process", environment.lib, lib)
	}
	environment.refs++
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			environment.mu.Lock()
			defer environment.mu.Unlock()
			environment.refs--
			if environment.refs == 0 {
				if e := ortapi.DestroyEnvironment(); e != nil {
					err = fmt.Errorf("ort: destroying ONNX Runtime environment: %w", e)
				}
				environment.lib = ""
			}
		})
		return err
	}, nil
}
