package eval

import (
	"slices"
	"time"
)

// Pipeline stages timed by the evaluator.
const (
	StageAssemble  = "read+assemble" // bag read, message decoding and the node's observation assembler, per step
	StagePrepare   = "snapshot+preprocess"
	StagePredict   = "predict"
	StageInference = "inference" // snapshot + preprocess + predict + chunk bookkeeping
)

// Latency summarises one stage's durations.
type Latency struct {
	Count  int     `json:"count"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P95MS  float64 `json:"p95_ms"`
	MaxMS  float64 `json:"max_ms"`
}

type latencies struct {
	samples map[string][]time.Duration
}

func (l *latencies) add(stage string, d time.Duration) {
	if l.samples == nil {
		l.samples = map[string][]time.Duration{}
	}
	l.samples[stage] = append(l.samples[stage], d)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func (l *latencies) summary() map[string]Latency {
	out := map[string]Latency{}
	for stage, s := range l.samples {
		if len(s) == 0 {
			continue
		}
		s = slices.Clone(s)
		slices.Sort(s)
		var sum time.Duration
		for _, d := range s {
			sum += d
		}
		q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
		out[stage] = Latency{Count: len(s), MeanMS: ms(sum / time.Duration(len(s))), P50MS: ms(q(0.5)), P95MS: ms(q(0.95)), MaxMS: ms(s[len(s)-1])}
	}
	return out
}
