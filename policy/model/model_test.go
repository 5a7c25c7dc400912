package model

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func TestForwardActionShapes(t *testing.T) {
	for _, row := range []string{"baseline", "A", "B", "C"} {
		for _, head := range []string{HeadL1, HeadFlow} {
			for _, training := range []bool{false, true} {
				if testing.Short() && (row == "A" || row == "B") {
					continue
				}
				cfg, err := smallConfig().Row(row)
				if err != nil {
					t.Fatal(err)
				}
				cfg.ActionHead = head
				m, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				e := newExampleBatch(cfg, 2, 1)
				out := runGraph(t, newTestContext(), cfg, e, func(ctx *context.Context, in Inputs) []*Node {
					ctx.SetTraining(in.Images.Graph(), training)
					return []*Node{m.Forward(ctx, in).Actions}
				})
				if got := out[0].Shape().Dimensions; !dimsEqual(got, 2, cfg.Horizon, cfg.ActionDim) {
					t.Errorf("%s/%s/training=%v: actions %v, want [2 %d %d]", row, head, training, got, cfg.Horizon, cfg.ActionDim)
				}
				for _, x := range tensors.MustCopyFlatData[float32](out[0]) {
					if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
						t.Fatalf("%s/%s: non-finite action %v", row, head, x)
					}
				}
			}
		}
	}
}

// TestInferenceDeterministicGivenNoise: the inference graph has no hidden
// randomness; the flow head's output depends on the noise input, the L1
// head's does not.
func TestInferenceDeterministicGivenNoise(t *testing.T) {
	for _, head := range []string{HeadL1, HeadFlow} {
		cfg, _ := smallConfig().Row("C")
		cfg.ActionHead = head
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx := newTestContext()
		e := newExampleBatch(cfg, 1, 4)
		fn := func(ctx *context.Context, in Inputs) []*Node { return []*Node{m.Forward(ctx, in).Actions} }
		a := tensors.MustCopyFlatData[float32](runGraph(t, ctx, cfg, e, fn)[0])
		b := tensors.MustCopyFlatData[float32](runGraph(t, ctx.Reuse(), cfg, e, fn)[0])
		for i := range e.nois {
			e.nois[i] += 0.5
		}
		c := tensors.MustCopyFlatData[float32](runGraph(t, ctx.Reuse(), cfg, e, fn)[0])
		var same, noiseDiff float64
		for i := range a {
			same = math.Max(same, math.Abs(float64(a[i]-b[i])))
			noiseDiff = math.Max(noiseDiff, math.Abs(float64(a[i]-c[i])))
		}
		if same != 0 {
			t.Errorf("%s: two runs differ by %g", head, same)
		}
		if head == HeadL1 && noiseDiff != 0 {
			t.Errorf("l1 head depends on noise (%g)", noiseDiff)
		}
		if head == HeadFlow && noiseDiff == 0 {
			t.Errorf("flow head ignores noise")
		}
	}
}

// TestFrozenEncoderFeatures: with external feature sizes set, the base reads
// PatchFeatures/InstructionFeatures through adapters and no patch embedding
// or instruction table is created.
func TestFrozenEncoderFeatures(t *testing.T) {
	cfg, _ := smallConfig().Row("A")
	cfg.VisualFeatureDim, cfg.TextFeatureDim = 20, 12
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := newExampleBatch(cfg, 2, 8)
	ctx := newTestContext()
	exec, err := context.NewExec(testBackend(t), ctx, func(ctx *context.Context, p []*Node) []*Node {
		in := inputsFrom(p[:9])
		in.PatchFeatures, in.InstructionFeatures = p[9], p[10]
		return []*Node{m.Forward(ctx, in).Actions}
	})
	if err != nil {
		t.Fatal(err)
	}
	args := append(e.tensors(cfg),
		tensors.FromShape(shapeOf(dtypeF32, 2, cfg.Cameras, cfg.Patches(), 20)),
		tensors.FromShape(shapeOf(dtypeF32, 2, cfg.InstructionLen, 12)))
	out, err := exec.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Shape().Dimensions; !dimsEqual(got, 2, cfg.Horizon, cfg.ActionDim) {
		t.Errorf("actions %v", got)
	}
	if ctx.GetVariableByScopeAndName("/base/patch_encoder/patch_embedding/dense", "weights") != nil {
		t.Error("patch embedding created although external features are used")
	}
	if ctx.GetVariableByScopeAndName("/base/instruction_embedding", "table") != nil {
		t.Error("instruction table created although external features are used")
	}
	if ctx.GetVariableByScopeAndName("/base/patch_encoder/adapter/dense", "weights") == nil {
		t.Error("no patch feature adapter")
	}
}

// TestInvalidDepthAndUnknownTokens: NaN centres where depth is invalid and
// token ids outside the vocabulary (negative or too large) never reach the
// outputs.
func TestInvalidDepthAndUnknownTokens(t *testing.T) {
	cfg, _ := smallConfig().Row("C")
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := newExampleBatch(cfg, 2, 12)
	for i, v := range e.valid {
		if v == 0 || i%3 == 0 {
			e.valid[i] = 0
			e.points[3*i], e.points[3*i+1], e.points[3*i+2] = float32(math.NaN()), float32(math.Inf(1)), float32(math.NaN())
		}
	}
	e.instr[0], e.instr[1] = -5, int64(cfg.VocabSize+100)
	out := runGraph(t, newTestContext(), cfg, e, func(ctx *context.Context, in Inputs) []*Node {
		ctx.SetTraining(in.Images.Graph(), true)
		o := m.Forward(ctx, in)
		return []*Node{o.Actions, o.ClassLogits, o.RefPoints, o.PredictorPred, o.CompletionTokens}
	})
	for i, o := range out {
		for _, x := range tensors.MustCopyFlatData[float32](o) {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("output %d has non-finite value %v", i, x)
			}
		}
	}
}

// TestStemValidate: the stem's sub-patch must divide the patch.
func TestStemValidate(t *testing.T) {
	c := DefaultConfig()
	c.StemChannels, c.StemPatch = 16, 4
	if err := c.Validate(); err != nil {
		t.Errorf("stem 16 x 4px: %v", err)
	}
	c.StemPatch = 5
	if err := c.Validate(); err == nil {
		t.Error("stem patch 5 with patch 16 accepted")
	}
	c.StemChannels, c.StemPatch = -1, 0
	if err := c.Validate(); err == nil {
		t.Error("negative stem channels accepted")
	}
}
