package training

import (
	"context"
	"math/rand/v2"
	"testing"
)

// BenchmarkTrainStep measures one optimizer step (matching pass included in
// stage 1) of the tiny test model for Baseline and row C.
func BenchmarkTrainStep(b *testing.B) {
	for _, row := range []string{"baseline", "C"} {
		b.Run(row, func(b *testing.B) {
			t := &testing.T{}
			cfg, data := tinyRun(t, row, []Stage{Stage1}, 1<<30)
			cfg.OutDir = b.TempDir()
			cfg.WarmupSteps = 10
			tr, err := New(cfg, data)
			if err != nil {
				b.Fatal(err)
			}
			tr.state = State{Stage: Stage1, Seed: cfg.Seed}
			rng := rand.New(rand.NewPCG(1, 2))
			if _, err := tr.Step(rng); err != nil { // compile outside the timing
				b.Fatal(err)
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
