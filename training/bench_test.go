package training

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vla3d/vla3d/policy/ort"
)

// BenchmarkTrainStep measures one optimizer step of the tiny test model for
// Baseline and row C in both stages, with the forward-only passes (stage
// 1's matching pass, stage 2's frozen modules) on the training backend and
// in ONNX Runtime when it is installed: compare the pairs within one run.
func BenchmarkTrainStep(b *testing.B) {
	runtimes := []string{ForwardGoMLX}
	if _, err := ort.ResolveLibrary(""); err == nil {
		runtimes = append(runtimes, ForwardORT)
	}
	for _, stage := range []Stage{Stage1, Stage2} {
		for _, row := range []string{"baseline", "C"} {
			for _, rt := range runtimes {
				b.Run(fmt.Sprintf("stage%d/%s/%s", stage, row, rt), func(b *testing.B) {
					t := &testing.T{}
					cfg, data := tinyRun(t, row, []Stage{stage}, 1<<30)
					cfg.OutDir = b.TempDir()
					cfg.WarmupSteps = 10
					cfg.ForwardRuntime = rt
					tr, err := New(cfg, data)
					if err != nil {
						b.Fatal(err)
					}
					defer tr.Close()
					rng := rand.New(rand.NewPCG(1, 2))
					if err := benchStart(tr, stage, rng); err != nil {
						b.Fatal(err)
					}
					for range benchWarmup { // compile and export outside the timing
						if _, err := tr.Step(rng); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						if _, err := tr.Step(rng); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// TestBench runs the benchmark harness on the tiny model: both rows report
// positive throughput, memory, FLOPs, and C adds parameters over Baseline.
func TestBench(t *testing.T) {
	cfg, data := tinyRun(t, "C", []Stage{Stage1}, 2)
	res, err := Bench(context.Background(), cfg, []string{"baseline", "C"}, Stage1, 2, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		t.Logf("%+v", r)
		if r.StepsPerSec <= 0 || r.FwdFLOPs <= 0 || r.BaseParams <= 0 {
			t.Errorf("row %s: %+v", r.Row, r)
		}
	}
	if res[0].AddedParams != 0 || res[1].AddedParams <= 0 || res[1].FwdFLOPs <= res[0].FwdFLOPs {
		t.Errorf("baseline %+v vs C %+v", res[0], res[1])
	}
}
