package ort_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	gomlxctx "github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/encoder/encodertest"
	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
)

// featurePolicy exports an untrained tiny baseline model reading 8-dim
// patch features, with a matching encoder next to it named relatively in
// the sidecar.
func featurePolicy(t testing.TB) (modelPath string, spec policy.Spec) {
	t.Helper()
	c, err := onnx.TinyConfig("baseline")
	if err != nil {
		t.Fatal(err)
	}
	c.VisualFeatureDim = 8
	m, err := model.New(c)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ec := encodertest.Config{Height: c.ImageHeight, Width: c.ImageWidth, Patch: c.PatchSize, FeatureDim: 8, Seed: 1}
	if err := ec.Export(filepath.Join(dir, "encoder.onnx")); err != nil {
		t.Fatal(err)
	}
	spec = onnx.TinySpec(c)
	spec.Encoder = &policy.EncoderSpec{Path: "encoder.onnx", FeatureDim: 8}
	ctx := gomlxctx.New()
	ctx.SetParam(initializers.ParamInitialSeed, int64(2))
	modelPath = filepath.Join(dir, "model.onnx")
	if err := onnx.ExportPolicy(ctx, m, spec, modelPath); err != nil {
		t.Fatal(err)
	}
	return modelPath, spec
}

// TestEncoderPolicy: a model reading patch features loads its encoder from
// the sidecar (relative to the model), predicts from images without
// allocating, reacts to the images, and refuses encoders that do not fit.
func TestEncoderPolicy(t *testing.T) {
	requireORT(t)
	modelPath, spec := featurePolicy(t)
	p, err := ort.Load(modelPath, cpu())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in := policy.NewInput(spec)
	for i := range in.PointValid {
		in.PointValid[i] = 1
	}
	var a, b msgs.ActionChunk
	if err := p.Predict(context.Background(), in, &a); err != nil {
		t.Fatal(err)
	}
	a.Values = append([]float32(nil), a.Values...)
	for i := range in.Images {
		in.Images[i] = float32(i%5) / 5
	}
	if n := testing.AllocsPerRun(5, func() {
		if err := p.Predict(context.Background(), in, &b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Predict with an encoder allocates %v times", n)
	}
	same := true
	for i := range a.Values {
		same = same && a.Values[i] == b.Values[i]
	}
	if same {
		t.Error("actions do not depend on the images seen through the encoder")
	}
	if err := p.Predict(context.Background(), &policy.Input{Images: in.Images[:10]}, &b); err == nil || !strings.Contains(err.Error(), "whole number") {
		t.Errorf("short images: %v", err)
	}

	wrong := filepath.Join(t.TempDir(), "wrong.onnx")
	ec := encodertest.Config{Height: spec.ImageHeight, Width: spec.ImageWidth, Patch: spec.PatchSize, FeatureDim: 5, Seed: 1}
	if err := ec.Export(wrong); err != nil {
		t.Fatal(err)
	}
	opts := cpu()
	opts.Encoder = wrong
	if _, err := ort.Load(modelPath, opts); err == nil || !strings.Contains(err.Error(), "feature dim is 5 but the policy has 8") {
		t.Errorf("wrong feature width: %v", err)
	}
	noEnc := spec
	noEnc.Encoder = nil
	if err := ort.WriteSpec(modelPath, noEnc); err != nil {
		t.Fatal(err)
	}
	if _, err := ort.Load(modelPath, cpu()); err == nil || !strings.Contains(err.Error(), "names no encoder") {
		t.Errorf("sidecar without encoder: %v", err)
	}
	imageModel := syntheticPolicy(t, testSpec())
	opts.Encoder = filepath.Join(filepath.Dir(modelPath), "encoder.onnx")
	if _, err := ort.Load(imageModel, opts); err == nil || !strings.Contains(err.Error(), "reads images") {
		t.Errorf("encoder for an image model: %v", err)
	}
}

// BenchmarkPredictWithEncoder: the tiny baseline layout (3 views, 96x96)
// through a patch-16 encoder, then the policy.
func BenchmarkPredictWithEncoder(b *testing.B) {
	requireORT(b)
	modelPath, spec := featurePolicy(b)
	p, err := ort.Load(modelPath, cpu())
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	in := policy.NewInput(spec)
	var out msgs.ActionChunk
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Predict(context.Background(), in, &out); err != nil {
			b.Fatal(err)
		}
	}
}
