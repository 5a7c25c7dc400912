package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LibraryEnv is the environment variable naming the ONNX Runtime shared
// library (scripts/env.sh sets it to the project-local CPU build).
const LibraryEnv = "VLA3D_ORT_LIB"

// projectLibrary is the install script's location, relative to the repo root.
const projectLibrary = ".deps/onnxruntime/libonnxruntime.so.1"

// ResolveLibrary picks the ONNX Runtime library: $VLA3D_ORT_LIB first (so a
// deployment can swap in a GPU build without touching configs), then the
// configured path, then the project-local copy found by walking up from the
// working directory to the module root.
func ResolveLibrary(configured string) (string, error) {
	if p := os.Getenv(LibraryEnv); p != "" {
		return p, nil
	}
	if configured != "" {
		return configured, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("ort: locating ONNX Runtime: %w", err)
	}
	for {
		p := filepath.Join(dir, projectLibrary)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("ort: ONNX Runtime library not found: set " + LibraryEnv + " or run scripts/install.sh")
		}
		dir = parent
	}
}
