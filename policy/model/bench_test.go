package model

import (
	"syscall"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// benchForward times the compiled graph of fn on the default (CPU-sized)
// configuration of the given row; compilation is excluded.
func benchForward(b *testing.B, row string, batch int, training bool) {
	cfg, err := DefaultConfig().Row(row)
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	e := newExampleBatch(cfg, batch, 1)
	ctx := newTestContext()
	exec, err := context.NewExec(testBackend(b), ctx, func(ctx *context.Context, p []*Node) []*Node {
		in := inputsFrom(p)
		g := in.Images.Graph()
		ctx.SetTraining(g, training)
		o := m.Forward(ctx, in)
		if !training {
			return []*Node{o.Actions}
		}
		loss := sumSquares(o.Actions, o.ClassLogits, o.Boxes, o.MaskLogits, o.RefPoints, o.PredictorPred)
		return ctx.BuildTrainableVariablesGradientsGraph(loss)
	})
	if err != nil {
		b.Fatal(err)
	}
	args := e.tensors(cfg)
	if _, err := exec.Exec(args...); err != nil { // compile + initialise
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if _, err := exec.Exec(args...); err != nil {
			b.Fatal(err)
		}
	}
	// CPU seconds per op is steadier than wall time on a shared machine.
	b.ReportMetric((processCPU()-cpu0)/float64(b.N), "cpu-s/op")
}

// processCPU is this process's user+system CPU time in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func BenchmarkInferenceBaseline(b *testing.B) { benchForward(b, "baseline", 1, false) }
func BenchmarkInferenceC(b *testing.B)        { benchForward(b, "C", 1, false) }

// Forward + backward at batch 8 (no optimizer update): the bulk of a step.
func BenchmarkGradientsBaselineB8(b *testing.B) { benchForward(b, "baseline", 8, true) }
func BenchmarkGradientsCB8(b *testing.B)        { benchForward(b, "C", 8, true) }
