package ort

import (
	"fmt"
	"os"
	"path/filepath"
)

// LibraryEnv is the environment variable naming the ONNX Runtime shared
// library (scripts/env.sh sets it to the project-local CPU build).
const LibraryEnv = "VLA3D_ORT_LIB"

// projectLibrary is the install script's location, relative to the repo root.
const projectLibrary = ".deps/onnxruntime/libonnxruntime.so.1"

// tinyModel is the checked-in test model, relative to the repo root
// (regenerate: go run ./cmd/vla3d-export -tiny -o policy/testdata/).
const tinyModel = "policy/testdata/model.onnx"

// TinyModelPath finds the checked-in tiny test model (untrained, row C,
// default observation layout) by walking up from the working directory, so
// tests in any package can load it without training.
func TinyModelPath() (string, error) {
	p, err := findUp(tinyModel)
	if err != nil {
		return "", fmt.Errorf("ort: tiny test model: %w", err)
	}
	return p, nil
}

// findUp looks for rel in the working directory and its parents.
func findUp(rel string) (string, error) {
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
	p, err := findUp(projectLibrary)
	if err != nil {
		return "", fmt.Errorf("ort: ONNX Runtime library not found (set %s or run scripts/install.sh): %w", LibraryEnv, err)
	}
	return p, nil
}
