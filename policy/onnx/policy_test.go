package onnx_test

import (
	stdctx "context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
)

// parityConfig is a small but complete configuration (every module sized
// down) so the parity test runs in seconds on the pure-Go backend.
func parityConfig(t testing.TB, row string) model.Config {
	t.Helper()
	c := model.DefaultConfig()
	c.Cameras, c.ImageHeight, c.ImageWidth = 2, 64, 64
	c.Width, c.Heads = 48, 4
	c.FusionLayers, c.InstanceLayers, c.PredictorLayers, c.ExpertLayers = 1, 1, 1, 1
	c.Probes, c.KeepInstances, c.DeformKeys = 10, 8, 2
	c.InstructionLen, c.VocabSize, c.Horizon = 6, 32, 4
	c.FlowSteps = 3
	c, err := c.Row(row)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lookAt is the row-major [R|t] mapping base -> optical frame of a camera at
// eye looking at target (optical: z forward, x right, y down).
func lookAt(eye, target [3]float64) []float32 {
	baseFromCam, err := perception.LookAt(eye, target, [3]float64{0, 0, 1})
	if err != nil {
		panic(err)
	}
	m := baseFromCam.Inverse().Matrix3x4()
	return m[:]
}

// policyBatch fills geometrically consistent random inputs for batch b, in
// PolicyInputs order.
func policyBatch(cfg model.Config, b int, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	v, n := cfg.Cameras, cfg.Patches()
	uni := func(k int, lo, hi float64) []float32 {
		x := make([]float32, k)
		for i := range x {
			x[i] = float32(lo + (hi-lo)*r.Float64())
		}
		return x
	}
	images := uni(b*v*3*cfg.ImageHeight*cfg.ImageWidth, 0, 1)
	var points, valid, intr, cam []float32
	for range b * v * n {
		for a := range 3 {
			points = append(points, float32(cfg.WorkspaceMin[a]+r.Float64()*(cfg.WorkspaceMax[a]-cfg.WorkspaceMin[a])))
		}
		if r.IntN(10) == 0 {
			valid = append(valid, 0)
		} else {
			valid = append(valid, 1)
		}
	}
	for range b {
		for k := range v {
			f := float32(cfg.ImageWidth) * 0.9
			intr = append(intr, f, f, float32(cfg.ImageWidth)/2, float32(cfg.ImageHeight)/2)
			ang := 2 * math.Pi * float64(k) / float64(v)
			cam = append(cam, lookAt([3]float64{0.55 + 0.8*math.Cos(ang), 0.8 * math.Sin(ang), 0.7}, [3]float64{0.55, 0, 0.1})...)
		}
	}
	out := [][]float32{images, points, valid, intr, cam, uni(b*cfg.ProprioDim, -1, 1)}
	if cfg.ActionHead == model.HeadFlow {
		noise := make([]float32, b*cfg.Horizon*cfg.ActionDim)
		for i := range noise {
			noise[i] = float32(r.NormFloat64())
		}
		out = append(out, noise)
	}
	return out
}

// checkParity runs the GoMLX forward and the exported ONNX model on the same
// random batch and compares them.
func checkParity(t *testing.T, cfg model.Config) {
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.New()
	build := onnx.PolicyBuild(m)
	backend := newBackend(t)
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, xs []*Node) []*Node { return build(ctx, xs) })
	if err != nil {
		t.Fatal(err)
	}
	const b = 2
	inputs := onnx.PolicyInputs(cfg)
	data := policyBatch(cfg, b, 3)
	instr := make([]int64, b*cfg.InstructionLen)
	for i := range instr {
		instr[i] = int64(i % (cfg.VocabSize + 3)) // a few out-of-vocabulary ids too
	}
	var args []any
	var ortIn []ort.Tensor
	fi := 0
	for _, in := range inputs {
		dims := append([]int{b}, in.Dims...)
		shape := make([]int64, len(dims))
		for i, d := range dims {
			shape[i] = int64(d)
		}
		if in.Name == policy.TensorInstruction {
			args = append(args, tensors.FromFlatDataAndDimensions(instr, dims...))
			ortIn = append(ortIn, ort.Tensor{Name: in.Name, Shape: shape, Data: instr})
			continue
		}
		args = append(args, tensors.FromFlatDataAndDimensions(data[fi], dims...))
		ortIn = append(ortIn, ort.Tensor{Name: in.Name, Shape: shape, Data: data[fi]})
		fi++
	}
	want, err := exec.Exec(args...)
	if err != nil {
		t.Fatalf("GoMLX forward: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	spec := cfg.Spec()
	spec.Vocabulary = onnx.TinyVocabulary()
	if err := onnx.ExportPolicy(ctx, m, spec, path); err != nil {
		t.Fatalf("export: %v", err)
	}
	modelBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	outputs := onnx.PolicyOutputs(cfg)
	got, err := ort.Run(stdctx.Background(), modelBytes, ortIn, outputs, ort.Options{Providers: []string{ort.ProviderCPU}})
	if err != nil {
		t.Fatalf("ONNX Runtime: %v", err)
	}
	if len(want) != len(outputs) || len(got) != len(outputs) {
		t.Fatalf("GoMLX returned %d outputs, ORT %d, want %v", len(want), len(got), outputs)
	}
	for k, name := range outputs {
		w := toFloat64(tensors.MustCopyFlatData[float32](want[k]))
		g := toFloat64(got[k].Data)
		if len(w) != len(g) {
			t.Fatalf("%s: %d values from ORT, %d from GoMLX", name, len(g), len(w))
		}
		e := maxRelErr(g, w)
		t.Logf("%s: %d values, max rel err %.3g, model %d bytes", name, len(w), e, len(modelBytes))
		if e > 1e-4 {
			t.Errorf("%s: max rel err %.3g > 1e-4\n ort=%v\n gomlx=%v", name, e, head(g), head(w))
		}
	}
	// The sidecar written next to the model describes it.
	js, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var side policy.Spec
	if err := json.Unmarshal(js, &side); err != nil {
		t.Fatal(err)
	}
	if side.Cameras != cfg.Cameras || side.Modules != cfg.Modules || side.Opset != onnx.DefaultOpset ||
		fmt.Sprint(side.Outputs) != fmt.Sprint(outputs[1:]) {
		t.Errorf("sidecar %+v does not describe the model (outputs %v)", side, outputs)
	}
	checkPerception(t, cfg, path)
}

// checkPerception loads the exported model as the node does and checks
// that it reports the probes and completion points it computed.
func checkPerception(t *testing.T, cfg model.Config, path string) {
	t.Helper()
	pol, err := ort.Load(path, ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer pol.Close()
	spec := pol.Spec()
	in := policy.NewInput(spec)
	data := policyBatch(cfg, 1, 9)
	for i, dst := range [][]float32{in.Images, in.Points, in.PointValid, in.Intrinsics, in.CamFromBase, in.Proprio} {
		copy(dst, data[i])
	}
	in.Stamp = time.Unix(42, 0)
	var chunk msgs.ActionChunk
	if err := pol.Predict(stdctx.Background(), in, &chunk); err != nil {
		t.Fatal(err)
	}
	var p policy.Perception
	ok := pol.Perception(&p)
	if cfg.Anchors > 0 {
		if !ok || p.AnchorPoints() != cfg.Anchors {
			t.Fatalf("perception: ok %v, %d anchors (want %d)", ok, p.AnchorPoints(), cfg.Anchors)
		}
		for k := range cfg.Anchors {
			if pt := p.Anchor(k); math.IsNaN(float64(pt[0] + pt[1] + pt[2])) {
				t.Fatalf("anchor %d: %v", k, pt)
			}
		}
	}
	if !cfg.Modules.Instance {
		if ok && cfg.Anchors == 0 {
			t.Fatal("a model without the instance module or anchors reported what it perceived")
		}
		if p.Instances() != 0 {
			t.Fatalf("a model without the instance module reported %d instances", p.Instances())
		}
		return
	}
	if !ok || p.Instances() != cfg.Probes || !p.Stamp.Equal(in.Stamp) {
		t.Fatalf("perception: ok %v, %d instances (want %d), stamp %v", ok, p.Instances(), cfg.Probes, p.Stamp)
	}
	for i, s := range p.Scores {
		pt := p.Point(i)
		if !(s >= 0 && s <= 1) || math.IsNaN(float64(pt[0]+pt[1]+pt[2])) {
			t.Fatalf("probe %d: score %v point %v", i, s, pt)
		}
	}
	if cfg.Modules.Predictor && p.CompletionPoints() != cfg.CompletionQueries() {
		t.Fatalf("%d completion points, want %d", p.CompletionPoints(), cfg.CompletionQueries())
	}
}

func TestPolicyParity(t *testing.T) {
	requireORT(t)
	for _, row := range []string{"baseline", "C"} {
		t.Run(row, func(t *testing.T) { checkParity(t, parityConfig(t, row)) })
	}
	t.Run("baseline_stem", func(t *testing.T) {
		c := parityConfig(t, "baseline")
		c.StemChannels = 8
		checkParity(t, c)
	})
	for _, row := range []string{"baseline", "A"} {
		t.Run(row+"_anchors", func(t *testing.T) {
			c := parityConfig(t, row)
			c.Anchors = 2
			checkParity(t, c)
		})
	}
	t.Run("C_flow", func(t *testing.T) {
		if testing.Short() {
			t.Skip("flow head parity skipped in -short")
		}
		c := parityConfig(t, "C")
		c.ActionHead = model.HeadFlow
		checkParity(t, c)
	})
}

func TestExportPolicyRefusesLayoutMismatch(t *testing.T) {
	cfg := parityConfig(t, "baseline")
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spec := cfg.Spec()
	spec.Cameras++
	err = onnx.ExportPolicy(context.New(), m, spec, filepath.Join(t.TempDir(), "model.onnx"))
	if err == nil {
		t.Fatal("mismatched spec exported")
	}
	t.Log(err)
}

// TestExportTiny: the checked-in test model's generator is deterministic,
// small and produces a model ONNX Runtime loads with its sidecar.
func TestExportTiny(t *testing.T) {
	requireORT(t)
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := onnx.ExportTiny(dir, "C", 1); err != nil {
			t.Fatal(err)
		}
	}
	ma, err := os.ReadFile(filepath.Join(a, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	mb, err := os.ReadFile(filepath.Join(b, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if string(ma) != string(mb) {
		t.Error("two exports with the same seed differ")
	}
	if len(ma) > 2<<20 {
		t.Errorf("tiny model is %d bytes, want < 2 MB", len(ma))
	}
	p, err := ort.Load(filepath.Join(a, "model.onnx"), ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := onnx.TinyConfig("D"); err == nil {
		t.Error("unknown row accepted")
	}
}

// TestSpecInputs: the inputs a spec implies are the exporter's for the same
// configuration (image input, deterministic head).
func TestSpecInputs(t *testing.T) {
	c := model.DefaultConfig()
	c.ActionHead = model.HeadL1
	want, got := onnx.PolicyInputs(c), onnx.SpecInputs(c.Spec())
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SpecInputs %v\nPolicyInputs %v", got, want)
	}
}
