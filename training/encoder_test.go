package training

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/encoder"
	"github.com/vla3d/vla3d/policy/encoder/encodertest"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

// TestFrozenEncoderEndToEnd: a frozen ONNX encoder exported from a GoMLX
// graph runs once per sample while real bags load, a row-C model trains a
// few steps on its features, the run exports to ONNX with the encoder in
// its sidecar, and ONNX Runtime (encoder, then policy) predicts what the
// GoMLX forward computes from the float64 reference features.
func TestFrozenEncoderEndToEnd(t *testing.T) {
	requireORTLib(t)
	start := time.Now()
	dir := writeSynthBag(t, 32)
	ec := encodertest.Config{Height: 32, Width: 32, Patch: 16, FeatureDim: 8, Seed: 21}
	encPath := filepath.Join(t.TempDir(), "encoder.onnx")
	if err := ec.Export(encPath); err != nil {
		t.Fatal(err)
	}
	cfg, _ := tinyRun(t, "C", []Stage{Stage1}, 3)
	cfg.WarmupSteps = 1
	enc, err := encoder.Load(encPath, encoder.Options{Normalize: encoder.NormalizeImageNet,
		ImageHeight: cfg.Model.ImageHeight, ImageWidth: cfg.Model.ImageWidth, Patches: cfg.Model.Patches()})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Model.VisualFeatureDim = enc.FeatureDim()
	l := LayoutFor(cfg.Model, cfg.MaxInstances)
	data, err := LoadBags(context.Background(), BagOptions{Paths: []string{dir}, CacheDir: filepath.Join(dir, "cache"),
		Layout: l, Spec: cfg.Model.Spec(), MinPixels: 4, Encoder: enc})
	if cerr := enc.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if data.Stats.Encoder == nil || data.Stats.Encoder.FeatureDim != ec.FeatureDim || !filepath.IsAbs(data.Stats.Encoder.Path) {
		t.Fatalf("dataset spec encoder %+v", data.Stats.Encoder)
	}
	s0 := data.Samples[0]
	feats := referenceFeatures(ec, s0.Input.Images, l.Cameras)
	for i, w := range feats {
		if math.Abs(float64(s0.PatchFeatures[i]-w)) > 1e-4 {
			t.Fatalf("sample feature %d: %g, reference %g", i, s0.PatchFeatures[i], w)
		}
	}

	tr, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	trained, err := LoadTrained(cfg.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if trained.Spec.Encoder == nil || trained.Spec.Encoder.Path != data.Stats.Encoder.Path {
		t.Fatalf("run sidecar encoder %+v", trained.Spec.Encoder)
	}
	modelPath := filepath.Join(t.TempDir(), "model.onnx")
	if err := onnx.ExportPolicy(trained.Vars, trained.Model, trained.Spec, modelPath); err != nil {
		t.Fatal(err)
	}

	// The sidecar's absolute encoder path is found without Options.Encoder.
	p, err := ort.Load(modelPath, ort.Options{Providers: []string{ort.ProviderCPU}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()
	var out msgs.ActionChunk
	if err := p.Predict(context.Background(), s0.Input, &out); err != nil {
		t.Fatal(err)
	}
	want := gomlxForward(t, trained, s0.Input, feats, l)
	for i, w := range want {
		if math.Abs(float64(out.Values[i]-w)) > 1e-3 {
			t.Fatalf("action %d: ONNX Runtime %g, GoMLX %g", i, out.Values[i], w)
		}
	}
	t.Logf("bags -> encoder -> 3 training steps -> export -> ORT parity in %v", time.Since(start))
}

// TestFrozenEncoderMismatch: an encoder whose features do not fit the model
// is refused before any sample is encoded, and a model reading features
// needs a dataset that names its encoder.
func TestFrozenEncoderMismatch(t *testing.T) {
	requireORTLib(t)
	ec := encodertest.Config{Height: 32, Width: 32, Patch: 16, FeatureDim: 8, Seed: 22}
	encPath := filepath.Join(t.TempDir(), "encoder.onnx")
	if err := ec.Export(encPath); err != nil {
		t.Fatal(err)
	}
	enc, err := encoder.Load(encPath, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	cfg := tinyModel("baseline")
	cfg.VisualFeatureDim = 5
	_, err = LoadBags(context.Background(), BagOptions{Paths: []string{t.TempDir()}, Layout: LayoutFor(cfg, 3), Spec: cfg.Spec(), Encoder: enc})
	if err == nil || !strings.Contains(err.Error(), "8-dim features but the model reads 5") {
		t.Fatalf("mismatched encoder: %v", err)
	}
	run, data := tinyRun(t, "baseline", []Stage{Stage1}, 5)
	run.Model.VisualFeatureDim = 8
	if _, err := New(run, data); err == nil || !strings.Contains(err.Error(), "names no encoder") {
		t.Fatalf("features without an encoder: %v", err)
	}
	data.Stats.Encoder = &policy.EncoderSpec{Path: encPath, FeatureDim: 8}
	run.Model.VisualFeatureDim = 0
	if _, err := New(run, data); err == nil || !strings.Contains(err.Error(), "model reads 0") {
		t.Fatalf("encoder for an image model: %v", err)
	}
}

// referenceFeatures are the encoder's tokens [V,N,Dv] computed in float64
// from ImageNet-normalised views.
func referenceFeatures(ec encodertest.Config, images []float32, views int) []float32 {
	mean := [3]float64{0.485, 0.456, 0.406}
	std := [3]float64{0.229, 0.224, 0.225}
	hw := ec.Height * ec.Width
	var out []float32
	for v := range views {
		img := make([]float32, 3*hw)
		for i := range img {
			img[i] = float32((float64(images[v*3*hw+i]) - mean[i/hw]) / std[i/hw])
		}
		for _, x := range ec.Reference(img) {
			out = append(out, float32(x))
		}
	}
	return out
}

// gomlxForward runs the exported inference graph in GoMLX on one sample
// and de-normalizes the actions as the runtime does.
func gomlxForward(t *testing.T, tr *Trained, in *policy.Input, feats []float32, l Layout) []float32 {
	t.Helper()
	be, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	build := onnx.PolicyBuild(tr.Model)
	exec, err := mlctx.NewExec(be, tr.Vars.Reuse(), func(ctx *mlctx.Context, p []*Node) *Node { return build(ctx, p)[0] })
	if err != nil {
		t.Fatal(err)
	}
	v, n := l.Cameras, l.Patches
	out, err := exec.Exec(
		tensors.FromFlatDataAndDimensions(feats, 1, v, n, l.VisualFeatureDim),
		tensors.FromFlatDataAndDimensions(in.Points, 1, v, n, 3),
		tensors.FromFlatDataAndDimensions(in.PointValid, 1, v, n),
		tensors.FromFlatDataAndDimensions(in.Intrinsics, 1, v, 4),
		tensors.FromFlatDataAndDimensions(in.CamFromBase, 1, v, 12),
		tensors.FromFlatDataAndDimensions(in.Proprio, 1, l.ProprioDim),
		tensors.FromFlatDataAndDimensions(in.Instruction, 1, l.InstructionLen),
	)
	if err != nil {
		t.Fatal(err)
	}
	actions := tensors.MustCopyFlatData[float32](out[0])
	ort.Denormalize(actions, l.ActionDim, tr.Spec.ActionMean, tr.Spec.ActionStd)
	return actions
}

// requireORTLib skips when the ONNX Runtime library is truly absent.
func requireORTLib(t testing.TB) {
	t.Helper()
	orttest.RequireLibrary(t)
}

// TestPackFeatures: samples must carry features of the layout's width, and
// the batch hands them to the graph last, [B,V,N,Dv].
func TestPackFeatures(t *testing.T) {
	cfg := tinyModel("baseline")
	cfg.VisualFeatureDim = 3
	l := LayoutFor(cfg, 2)
	samples := syntheticSamples(l, cfg, 2, 5)
	if _, err := l.Pack(samples, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), "patch_features: 0 values") {
		t.Fatalf("missing features: %v", err)
	}
	k := l.Cameras * l.Patches * 3
	for i, s := range samples {
		s.PatchFeatures = make([]float32, k)
		for j := range s.PatchFeatures {
			s.PatchFeatures[j] = float32(i*k + j)
		}
	}
	b, err := l.Pack(samples, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for j, x := range b.PatchFeatures {
		if x != float32(j) {
			t.Fatalf("packed feature %d is %g", j, x)
		}
	}
	args, err := b.tensors(l, false, false)
	if err != nil {
		t.Fatal(err)
	}
	last := args[len(args)-1].(*tensors.Tensor)
	if got := last.Shape().Dimensions; !slices.Equal(got, []int{2, l.Cameras, l.Patches, 3}) {
		t.Fatalf("features tensor %v", got)
	}
}
