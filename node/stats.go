package node

import (
	"sync"
	"sync/atomic"
	"time"
)

// stageStats accumulates one pipeline stage's latency over a diagnostics
// window.
type stageStats struct {
	n        uint64
	sum, max time.Duration
}

func (s *stageStats) add(d time.Duration) {
	s.n++
	s.sum += d
	if d > s.max {
		s.max = d
	}
}

func (s stageStats) mean() time.Duration {
	if s.n == 0 {
		return 0
	}
	return s.sum / time.Duration(s.n)
}

// Stage names reported in /diagnostics.
const (
	StageSnapshot = iota
	StagePreprocess
	StagePredict
	StageInference // snapshot to chunk stored, the whole asynchronous path
	StageTick      // one control tick: health, ensembling, limits
	StagePublish   // building and handing the command to the publisher
	numStages
)

var stageNames = [numStages]string{"snapshot", "preprocess", "predict", "inference_total", "tick", "publish"}

// pipelineCounters are one diagnostics window's counts.
type pipelineCounters struct {
	stages            [numStages]stageStats
	ticks, holds      uint64
	inferences        uint64
	inferenceFailures uint64
	clamped           uint64
	staleChunks       uint64
}

// pipelineStats is shared between the control loop and the inference
// worker; a window is read and reset by the diagnostics publisher.
type pipelineStats struct {
	// malformed counts messages the transport received but could not
	// decode (total since start).
	malformed atomic.Uint64
	// qosMismatches and typeMismatches count the transport's reports of
	// remote endpoints it cannot match (ROS 2).
	qosMismatches, typeMismatches atomic.Uint64

	mu sync.Mutex
	pipelineCounters
	windowStart time.Time
}

func (p *pipelineStats) addStage(i int, d time.Duration) {
	p.mu.Lock()
	p.stages[i].add(d)
	p.mu.Unlock()
}

// window returns the counters since the last call and starts a new window.
func (p *pipelineStats) window(now time.Time) (pipelineCounters, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, dt := p.pipelineCounters, now.Sub(p.windowStart)
	p.pipelineCounters = pipelineCounters{}
	p.windowStart = now
	return w, dt
}
