// Package ortenv owns the process-wide ONNX Runtime environment: locating
// the shared library and reference-counting its initialization. It is split
// from package ort so that packages ort itself uses (the frozen visual
// encoder) can share the one environment without an import cycle.
package ortenv

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ortapi "github.com/yalue/onnxruntime_go"
)

// LibraryEnv is the environment variable naming the ONNX Runtime shared
// library (scripts/env.sh sets it to the project-local CPU build).
const LibraryEnv = "VLA3D_ORT_LIB"

// projectLibrary is the install script's location, relative to the repo root.
const projectLibrary = ".deps/onnxruntime/libonnxruntime.so.1"

// ONNX Runtime keeps one environment per process and onnxruntime_go exposes
// it as package state: initializing twice fails and destroying it under a
// live session crashes. Several policies (and parallel tests) must coexist,
// so the environment is reference-counted here. This is the only shared
// mutable state, and it mirrors a process-global resource that cannot be
// scoped any smaller.
var environment struct {
	mu   sync.Mutex
	refs int
	lib  string
}

// Acquire initializes ONNX Runtime from lib on first use and returns a
// release func; every successful acquire must be released once.
func Acquire(lib string) (release func() error, err error) {
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

// FindUp looks for rel in the working directory and its parents.
func FindUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found above the working directory", rel)
		}
		dir = parent
	}
}

// ResolveLibrary picks the ONNX Runtime library: an explicitly configured
// path first (a binary's -ort-lib flag), then $VLA3D_ORT_LIB (so a
// deployment can swap in a GPU build without touching configs), then the
// project-local copy found by walking up from the working directory to the
// module root.
func ResolveLibrary(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	if p := os.Getenv(LibraryEnv); p != "" {
		return p, nil
	}
	p, err := FindUp(projectLibrary)
	if err != nil {
		return "", fmt.Errorf("ort: ONNX Runtime library not found (set %s or run scripts/install.sh): %w", LibraryEnv, err)
	}
	return p, nil
}
