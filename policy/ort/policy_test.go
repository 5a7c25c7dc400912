package ort_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	gomlxctx "github.com/gomlx/gomlx/pkg/ml/context"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

func requireORT(t testing.TB) {
	t.Helper()
	orttest.RequireLibrary(t)
}

func testSpec() policy.Spec {
	return policy.Spec{
		Cameras: 2, ImageWidth: 32, ImageHeight: 32, PatchSize: 16, ActionDim: 3, Horizon: 2,
		ProprioDim: 4, InstructionLen: 5, ControlHz: 10, ActionSpace: "ee_delta",
		ActionMean: []float32{1, 2, 3}, ActionStd: []float32{2, 2, 0.5}, Opset: onnx.DefaultOpset,
		Vocabulary: []string{"pick", "place"},
	}
}

// syntheticPolicy writes a model whose normalized output is known in closed
// form: actions[b,h,a] = sum(point_valid[b]) + 10h + a + proprio[b,0] + instruction[b,0].
func syntheticPolicy(t testing.TB, s policy.Spec) string {
	t.Helper()
	build := func(_ *gomlxctx.Context, x []*Node) []*Node {
		g := x[0].Graph()
		b := x[0].Shape().Dimensions[0]
		valid := ReduceSum(x[2], 1, 2)                                                            // [B]
		p0 := Reshape(Slice(x[5], AxisRange(), AxisRange(0, 1)), b)                               // [B]
		t0 := Reshape(ConvertDType(Slice(x[6], AxisRange(), AxisRange(0, 1)), dtypes.Float32), b) // [B]
		base := BroadcastToDims(Reshape(Add(Add(valid, p0), t0), b, 1, 1), b, s.Horizon, s.ActionDim)
		sh := shapes.Make(dtypes.Float32, b, s.Horizon, s.ActionDim)
		offs := Add(MulScalar(Iota(g, sh, 1), 10), Iota(g, sh, 2))
		return []*Node{Add(base, offs)}
	}
	model, err := onnx.Export(gomlxctx.New(), onnx.SpecInputs(s), []string{policy.TensorActions}, build, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ort.WriteSpec(path, s); err != nil {
		t.Fatal(err)
	}
	return path
}

func cpu() ort.Options { return ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1} }

func TestLoadPredict(t *testing.T) {
	requireORT(t)
	s := testSpec()
	p, err := ort.Load(syntheticPolicy(t, s), cpu())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()
	if p.Provider() != ort.ProviderCPU {
		t.Errorf("provider %q", p.Provider())
	}
	in := policy.NewInput(s)
	var out msgs.ActionChunk
	// Two calls with different inputs: the bound tensors must be refreshed.
	for call, valid := range []float32{0, 1} {
		for i := range in.PointValid {
			in.PointValid[i] = valid
		}
		in.Proprio[0] = float32(call) * 0.5
		in.Instruction[0] = 7
		if err := p.Predict(context.Background(), in, &out); err != nil {
			t.Fatal(err)
		}
		if out.Horizon != s.Horizon || out.Dim != s.ActionDim || len(out.Values) != s.Horizon*s.ActionDim {
			t.Fatalf("chunk %dx%d with %d values", out.Horizon, out.Dim, len(out.Values))
		}
		if out.Period.Milliseconds() != 100 {
			t.Errorf("period %v, want 100ms", out.Period)
		}
		sumValid := valid * float32(len(in.PointValid))
		for h := range s.Horizon {
			for a := range s.ActionDim {
				norm := sumValid + 10*float32(h) + float32(a) + in.Proprio[0] + 7
				want := norm*s.ActionStd[a] + s.ActionMean[a]
				if got := out.Step(h)[a]; math.Abs(float64(got-want)) > 1e-4*math.Max(1, math.Abs(float64(want))) {
					t.Errorf("call %d action[%d][%d] = %v, want %v", call, h, a, got, want)
				}
			}
		}
	}
}

func TestPredictRejectsWrongSizes(t *testing.T) {
	requireORT(t)
	s := testSpec()
	p, err := ort.Load(syntheticPolicy(t, s), cpu())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in := policy.NewInput(s)
	in.Images = in.Images[:10]
	var out msgs.ActionChunk
	if err := p.Predict(context.Background(), in, &out); err == nil || !strings.Contains(err.Error(), "images") {
		t.Fatalf("want an error naming images, got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Predict(ctx, policy.NewInput(s), &out); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestLoadRefusesMismatchedSidecar(t *testing.T) {
	requireORT(t)
	s := testSpec()
	path := syntheticPolicy(t, s)
	want := s
	want.Cameras, want.ImageWidth = 3, 64
	opts := cpu()
	opts.Expected = &want
	_, err := ort.Load(path, opts)
	if err == nil {
		t.Fatal("mismatched model loaded")
	}
	for _, frag := range []string{"cameras: model has 2, configuration has 3", "image_width: model has 32, configuration has 64"} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error %q does not name %q", err, frag)
		}
	}
	// A sidecar that disagrees with the ONNX graph itself is refused too.
	bad := s
	bad.ImageHeight = 64
	if err := ort.WriteSpec(path, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := ort.Load(path, cpu()); err == nil || !strings.Contains(err.Error(), `"images"`) {
		t.Fatalf("want an error naming the images tensor, got %v", err)
	}
}

func TestLoadCorruptModel(t *testing.T) {
	requireORT(t)
	s := testSpec()
	good, err := os.ReadFile(syntheticPolicy(t, s))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"garbage":   []byte("this is not an onnx model\x00\x01\x02"),
		"truncated": good[:len(good)/2],
		"empty":     {},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.onnx")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := ort.WriteSpec(path, s); err != nil {
				t.Fatal(err)
			}
			p, err := ort.Load(path, cpu())
			if err == nil {
				p.Close()
				t.Fatal("corrupt model loaded")
			}
			t.Log(err)
		})
	}
	if _, err := ort.Load(filepath.Join(t.TempDir(), "missing.onnx"), cpu()); err == nil {
		t.Fatal("missing model loaded")
	}
}

func TestProviderFallbackIsLogged(t *testing.T) {
	requireORT(t)
	core, logs := observer.New(zap.InfoLevel)
	opts := ort.Options{Providers: ort.DefaultProviders(), Logger: zap.New(core), IntraOpThreads: 1}
	p, err := ort.Load(syntheticPolicy(t, testSpec()), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t.Logf("provider: %s", p.Provider())
	if p.Provider() == ort.ProviderCPU {
		// This library is a CPU build: both GPU providers must have been tried and logged.
		fb := logs.FilterMessage("execution provider unavailable, falling back").All()
		if len(fb) != 2 {
			t.Fatalf("want 2 fallback log lines, got %d", len(fb))
		}
	}
	if _, err := ort.Load(syntheticPolicy(t, testSpec()), ort.Options{Providers: []string{"npu"}}); err == nil {
		t.Fatal("unknown provider accepted")
	}
}

// TestConcurrentPolicies checks the reference-counted environment: closing
// one policy must not break another.
func TestConcurrentPolicies(t *testing.T) {
	requireORT(t)
	s := testSpec()
	path := syntheticPolicy(t, s)
	a, err := ort.Load(path, cpu())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ort.Load(path, cpu())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var out msgs.ActionChunk
	if err := b.Predict(context.Background(), policy.NewInput(s), &out); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// And the environment can come back after everything was released.
	c, err := ort.Load(path, cpu())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkPredictSynthetic(b *testing.B) {
	requireORT(b)
	s := testSpec()
	p, err := ort.Load(syntheticPolicy(b, s), cpu())
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	in := policy.NewInput(s)
	var out msgs.ActionChunk
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Predict(context.Background(), in, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTinyModel loads the checked-in test model the way the node does and
// checks its actions are finite, deterministic and small (its sidecar scales
// untrained outputs to millimetre steps).
func TestTinyModel(t *testing.T) {
	requireORT(t)
	path, err := ort.TinyModelPath()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ort.LoadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := cpu()
	opts.Expected = &policy.Spec{Cameras: 3, ImageWidth: 96, ImageHeight: 96, ActionDim: 7, Horizon: 8}
	p, err := ort.Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in := policy.NewInput(spec)
	for i := range in.Images {
		in.Images[i] = float32(i%255) / 255
	}
	for i := range in.PointValid {
		in.PointValid[i] = 1
		in.Points[3*i], in.Points[3*i+1], in.Points[3*i+2] = 0.5, float32(i%7)*0.05-0.15, 0.1
	}
	for v := range spec.Cameras {
		copy(in.Intrinsics[4*v:], []float32{86, 86, 48, 48})
		copy(in.CamFromBase[12*v:], []float32{0, -1, 0, 0, 0, 0, -1, 0.5, 1, 0, 0, 0.6})
	}
	copy(in.Instruction, []int64{1, 2, 3, 12, 16})
	var a, b msgs.ActionChunk
	if err := p.Predict(context.Background(), in, &a); err != nil {
		t.Fatal(err)
	}
	if err := p.Predict(context.Background(), in, &b); err != nil {
		t.Fatal(err)
	}
	for i, v := range a.Values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v != b.Values[i] {
			t.Fatalf("action %d: %v then %v", i, v, b.Values[i])
		}
		if d := i % a.Dim; d < 6 && math.Abs(float64(v)) > 0.1 {
			t.Errorf("action %d (dim %d) = %v: not a small step", i, d, v)
		}
	}
}
