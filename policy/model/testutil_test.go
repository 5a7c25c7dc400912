package model

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego" // pure-Go backend, the CPU default here
	. "github.com/gomlx/gomlx/pkg/core/graph"    //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/perception"
)

// sharedBackend is one pure-Go backend for the whole test binary: tensors
// (variables) cannot move between backend instances.
var sharedBackend = sync.OnceValues(func() (backends.Backend, error) { return NewBackend(CPUBackend) })

// testBackend returns the pure-Go backend (the XLA default panics here).
func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := sharedBackend()
	if err != nil {
		t.Fatalf("pure-Go backend: %v", err)
	}
	return b
}

// smallConfig keeps test graphs cheap: 2 views of 64x64, width 48.
func smallConfig() Config {
	c := DefaultConfig()
	c.Cameras, c.ImageHeight, c.ImageWidth = 2, 64, 64
	c.Width, c.Heads = 48, 4 // head dim 12: two rotated pairs per axis
	c.FusionLayers, c.InstanceLayers, c.PredictorLayers, c.ExpertLayers = 1, 1, 1, 1
	c.Probes, c.KeepInstances, c.DeformKeys = 10, 8, 2
	c.InstructionLen, c.VocabSize, c.Horizon = 6, 32, 4
	c.FlowSteps = 3
	return c
}

// lookAt returns the row-major [R|t] mapping base -> optical frame of a
// camera at eye looking at target (optical: z forward, x right, y down).
func lookAt(eye, target [3]float64) [12]float64 {
	baseFromCam, err := perception.LookAt(eye, target, [3]float64{0, 0, 1})
	if err != nil {
		panic(err)
	}
	c := baseFromCam.Inverse()
	var m [12]float64
	for r := range 3 {
		copy(m[4*r:4*r+3], c.R[3*r:3*r+3])
		m[4*r+3] = c.T[r]
	}
	return m
}

// exampleBatch is one batch of synthetic but geometrically consistent inputs.
type exampleBatch struct {
	B                                            int
	images, points, valid, intr, cam, prop, nois []float32
	instr                                        []int64
	actions                                      []float32
}

func newExampleBatch(cfg Config, b int, seed uint64) *exampleBatch {
	r := rand.New(rand.NewPCG(seed, 7))
	v, n := cfg.Cameras, cfg.Patches()
	e := &exampleBatch{B: b}
	for range b * v * 3 * cfg.ImageHeight * cfg.ImageWidth {
		e.images = append(e.images, r.Float32())
	}
	for i := range b * v * n {
		for a := range 3 {
			e.points = append(e.points, float32(cfg.WorkspaceMin[a]+r.Float64()*(cfg.WorkspaceMax[a]-cfg.WorkspaceMin[a])))
		}
		if i%11 == 5 {
			e.valid = append(e.valid, 0)
		} else {
			e.valid = append(e.valid, 1)
		}
	}
	for range b {
		for c := range v {
			ang := 2 * math.Pi * float64(c) / float64(v)
			m := lookAt([3]float64{0.55 + 0.8*math.Cos(ang), 0.8 * math.Sin(ang), 0.7}, [3]float64{0.55, 0, 0.1})
			for _, x := range m {
				e.cam = append(e.cam, float32(x))
			}
			f := float32(cfg.ImageWidth)
			e.intr = append(e.intr, f, f, float32(cfg.ImageWidth)/2, float32(cfg.ImageHeight)/2)
		}
		for range cfg.ProprioDim {
			e.prop = append(e.prop, float32(r.NormFloat64()*0.3))
		}
		for i := range cfg.InstructionLen {
			if i < cfg.InstructionLen-2 {
				e.instr = append(e.instr, int64(1+r.IntN(cfg.VocabSize-1)))
			} else {
				e.instr = append(e.instr, 0)
			}
		}
		for range cfg.Horizon * cfg.ActionDim {
			e.nois = append(e.nois, float32(r.NormFloat64()))
			e.actions = append(e.actions, float32(r.NormFloat64()*0.5))
		}
	}
	return e
}

// tensors returns the inference inputs in Inputs field order.
func (e *exampleBatch) tensors(cfg Config) []any {
	b, v, n := e.B, cfg.Cameras, cfg.Patches()
	return []any{
		tensors.FromFlatDataAndDimensions(e.images, b, v, 3, cfg.ImageHeight, cfg.ImageWidth),
		tensors.FromFlatDataAndDimensions(e.points, b, v, n, 3),
		tensors.FromFlatDataAndDimensions(e.valid, b, v, n),
		tensors.FromFlatDataAndDimensions(e.intr, b, v, 4),
		tensors.FromFlatDataAndDimensions(e.cam, b, v, 12),
		tensors.FromFlatDataAndDimensions(e.prop, b, cfg.ProprioDim),
		tensors.FromFlatDataAndDimensions(e.instr, b, cfg.InstructionLen),
		tensors.FromFlatDataAndDimensions(e.nois, b, cfg.Horizon, cfg.ActionDim),
		tensors.FromFlatDataAndDimensions(e.actions, b, cfg.Horizon, cfg.ActionDim),
	}
}

// inputsFrom maps graph parameters (in tensors() order) to Inputs.
func inputsFrom(p []*Node) Inputs {
	return Inputs{Images: p[0], Points: p[1], PointValid: p[2], Intrinsics: p[3], CamFromBase: p[4],
		Proprio: p[5], Instruction: p[6], Noise: p[7], TargetActions: p[8]}
}

// newTestContext returns a context with a fixed initialization seed.
func newTestContext() *context.Context {
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(42))
	return ctx
}

// runGraph builds fn on the example inputs and returns its outputs.
func runGraph(t testing.TB, ctx *context.Context, cfg Config, e *exampleBatch, fn func(ctx *context.Context, in Inputs) []*Node) []*tensors.Tensor {
	t.Helper()
	exec, err := context.NewExec(testBackend(t), ctx, func(ctx *context.Context, p []*Node) []*Node {
		return fn(ctx, inputsFrom(p))
	})
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	out, err := exec.Exec(e.tensors(cfg)...)
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	return out
}

func dimsEqual(a []int, b ...int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type shapesDType = dtypes.DType

const dtypeI64 = dtypes.Int64
