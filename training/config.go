package training

import (
	"context"
	"fmt"
	"io"

	"github.com/vla3d/vla3d/policy/model"
	"go.uber.org/zap"
)

// Config is one training run. DefaultConfig is CPU-sized.
type Config struct {
	Model model.Config
	// Stages to run in order (the paper: 1 then 2).
	Stages []Stage
	// StepsPerStage optimizer steps per stage (paper: 5,000 at batch 64).
	StepsPerStage int
	BatchSize     int
	// Optimizer: AdamW, global-norm clipping, warm-up + cosine per stage.
	LR, MinLR   float64
	WarmupSteps int // paper: 1,200 of 5,000; DefaultConfig keeps that 24% ratio
	WeightDecay float64
	ClipNorm    float64
	Loss        LossWeights
	// MaxInstances is the number of ground-truth slots per sample.
	MaxInstances int
	// Augment perturbs each training batch's observations (light, pixel
	// and depth noise); its zero value leaves them as recorded.
	Augment Augment

	OutDir          string // checkpoints/, metrics.jsonl, loss.png, model.json
	CheckpointEvery int    // steps between checkpoints
	KeepCheckpoints int
	PlotEvery       int // steps between PNG refreshes (0: only at the end)
	Seed            int64
	// Backend is the GoMLX backend config ("go" = pure Go, the CPU default).
	Backend string
	// ForwardRuntime is where the forward-only passes run (stage 1's
	// matching pass, stage 2's frozen modules): ForwardAuto (ONNX Runtime
	// when it loads), ForwardORT or ForwardGoMLX. It defaults to ForwardAuto.
	// On a GPU backend, ForwardGoMLX keeps them on the device.
	ForwardRuntime string
	// InitFrom, when set, is a trained run directory whose base policy,
	// action expert and anchors start this run (WarmStartScopes), when it
	// has no checkpoint of its own yet.
	InitFrom string

	Progress io.Writer // nil: no progress bar
	Log      *zap.Logger

	// Evaluate, when set, is called every EvaluateEvery steps (and at the
	// end of each stage), right after a checkpoint of that step is written,
	// with the trainer: it measures what matters (closed-loop success on
	// held-out seeds, the t=0 layout sweep) and returns figures named
	// "val_..." that go to metrics.jsonl and the plot. The checkpoint with
	// the highest BestMetric so far is kept as BestFile.
	Evaluate      func(ctx context.Context, tr *Trainer) (map[string]float64, error)
	EvaluateEvery int
	// BestMetric names the figure that picks the best checkpoint. It
	// defaults to "val_success".
	BestMetric string
}

// DefaultConfig is sized for the 2-core CPU machine: the default model, batch
// 8, 300 steps per stage with the paper's warm-up fraction.
func DefaultConfig() Config {
	return Config{
		Model:         model.DefaultConfig(),
		Stages:        []Stage{Stage1, Stage2},
		StepsPerStage: 300, BatchSize: 8,
		LR: 3e-4, MinLR: 3e-6, WarmupSteps: 72, WeightDecay: 0.01, ClipNorm: 0.5,
		Loss: DefaultLossWeights(), MaxInstances: 8,
		CheckpointEvery: 50, KeepCheckpoints: 3, PlotEvery: 50,
		Seed: 1, Backend: DefaultBackend, ForwardRuntime: ForwardAuto,
	}
}

// Validate checks the run configuration.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if err := c.Augment.Validate(); err != nil {
		return fmt.Errorf("training: %w", err)
	}
	if len(c.Stages) == 0 {
		return fmt.Errorf("training: no stage to run")
	}
	for _, s := range c.Stages {
		if _, err := ParseStage(int(s)); err != nil {
			return fmt.Errorf("training: %w", err)
		}
	}
	switch {
	case c.StepsPerStage <= 0 || c.BatchSize <= 0:
		return fmt.Errorf("training: steps %d and batch %d must be positive", c.StepsPerStage, c.BatchSize)
	case c.LR <= 0 || c.MinLR < 0 || c.MinLR > c.LR:
		return fmt.Errorf("training: learning rates %g..%g", c.MinLR, c.LR)
	case c.WarmupSteps < 0 || c.WarmupSteps > c.StepsPerStage:
		return fmt.Errorf("training: warm-up %d not in 0..%d", c.WarmupSteps, c.StepsPerStage)
	case c.MaxInstances <= 0 || c.MaxInstances > c.Model.Probes:
		return fmt.Errorf("training: max instances %d not in 1..probes (%d)", c.MaxInstances, c.Model.Probes)
	case c.OutDir == "":
		return fmt.Errorf("training: no output directory")
	case c.CheckpointEvery <= 0:
		return fmt.Errorf("training: checkpoint interval %d", c.CheckpointEvery)
	case c.ForwardRuntime != "" && c.ForwardRuntime != ForwardAuto && c.ForwardRuntime != ForwardORT && c.ForwardRuntime != ForwardGoMLX:
		return fmt.Errorf("training: forward runtime %q: want %s, %s or %s", c.ForwardRuntime, ForwardAuto, ForwardORT, ForwardGoMLX)
	}
	return nil
}

func (c Config) optimizer() AdamW {
	o := DefaultAdamW(Schedule{Peak: c.LR, Min: c.MinLR, WarmupSteps: c.WarmupSteps, TotalSteps: c.StepsPerStage})
	o.WeightDecay, o.ClipNorm = c.WeightDecay, c.ClipNorm
	return o
}

// DefaultBackend is the pure-Go GoMLX backend with an unbounded worker
// pool (model.CPUBackend: why, and what it gains).
const DefaultBackend = model.CPUBackend
