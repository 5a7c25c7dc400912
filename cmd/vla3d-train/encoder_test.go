package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vla3d/vla3d/dataset/synth"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/encoder"
	"github.com/vla3d/vla3d/policy/encoder/encodertest"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

// TestTrainExportWithEncoder: -encoder trains on a frozen ONNX encoder's
// features, the exported sidecar names the encoder, and the runtime loads
// both and predicts from images.
func TestTrainExportWithEncoder(t *testing.T) {
	orttest.RequireLibrary(t)
	dir := t.TempDir()
	rec := synth.Config{Episodes: 1, Steps: 4, Cameras: []string{"front", "side"}, Width: 32, Height: 32, Labels: true}
	if err := rec.Write(filepath.Join(dir, "demo.bag")); err != nil {
		t.Fatal(err)
	}
	encPath := filepath.Join(dir, "encoder.onnx")
	ec := encodertest.Config{Height: 32, Width: 32, Patch: 16, FeatureDim: 6, FeatureMap: true, Seed: 3}
	if err := ec.Export(encPath); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	args := []string{"train", "-data", dir, "-out", out, "-row", "baseline", "-stage", "1", "-cameras", "2", "-image-size", "32",
		"-width", "24", "-heads", "2", "-probes", "6", "-max-instances", "3", "-steps", "2", "-batch", "2", "-quiet",
		"-encoder", encPath, "-encoder-normalize", encoder.NormalizeImageNet}
	if err := runArgs(args); err != nil {
		t.Fatal(err)
	}
	modelPath := filepath.Join(out, "model.onnx")
	if err := runArgs([]string{"export", "-out", out}); err != nil {
		t.Fatal(err)
	}
	spec, err := ort.LoadSpec(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	if e := spec.Encoder; e == nil || e.FeatureDim != 6 || e.Normalize != encoder.NormalizeImageNet || e.Path != encPath {
		t.Fatalf("sidecar encoder %+v", spec.Encoder)
	}
	p, err := ort.Load(modelPath, ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in := policy.NewInput(spec)
	for i := range in.Images {
		in.Images[i] = float32(i%7) / 7
	}
	var chunk msgs.ActionChunk
	if err := p.Predict(context.Background(), in, &chunk); err != nil {
		t.Fatal(err)
	}
	if len(chunk.Values) != spec.Horizon*spec.ActionDim {
		t.Fatalf("%d action values", len(chunk.Values))
	}
}
