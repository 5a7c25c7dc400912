package ort

import (
	"fmt"

	"github.com/vla3d/vla3d/policy/ort/ortenv"
)

// LibraryEnv is the environment variable naming the ONNX Runtime shared
// library (scripts/env.sh sets it to the project-local CPU build).
const LibraryEnv = ortenv.LibraryEnv

// tinyModel is the checked-in test model, relative to the repo root
// (regenerate: go run ./cmd/vla3d-export -tiny -o policy/testdata/).
const tinyModel = "policy/testdata/model.onnx"

// TinyModelPath finds the checked-in tiny test model (untrained, row C,
// default observation layout) by walking up from the working directory, so
// tests in any package can load it without training.
func TinyModelPath() (string, error) { return findModel(tinyModel, "tiny test model") }

// ResolveLibrary picks the ONNX Runtime library: the configured path (an
// explicit -ort-lib) first, then $VLA3D_ORT_LIB (so a deployment can swap in
// a GPU build without touching configs), then the project-local copy found
// by walking up from the working directory to the module root.
func ResolveLibrary(configured string) (string, error) {
	return ortenv.ResolveLibrary(configured)
}

// bundledModel is the trained pick-and-place policy the demo runs, relative
// to the repo root (how it was trained and what it scores:
// models/pick_place/README.md).
const bundledModel = "models/pick_place/model.onnx"

// BundledModelPath finds the checked-in trained policy by walking up from
// the working directory.
func BundledModelPath() (string, error) { return findModel(bundledModel, "bundled trained model") }

// findModel finds the checked-in model at rel (from the repo root), what
// naming it in the error.
func findModel(rel, what string) (string, error) {
	p, err := ortenv.FindUp(rel)
	if err != nil {
		return "", fmt.Errorf("ort: %s: %w", what, err)
	}
	return p, nil
}
