package sim

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/msgs"
)

// EvalConfig selects a closed-loop evaluation: Episodes episodes of one task
// and split, seeds Seed, Seed+1, ...
type EvalConfig struct {
	Task     string
	Split    string
	Severity float64
	Episodes int
	Seed     uint64
	MaxSteps int // control steps per episode (default 150 = 15 s at 10 Hz)
	// ExecuteSteps is how many actions of each chunk run before re-planning
	// (default: the whole chunk).
	ExecuteSteps int
	// OnEpisode, when set, is told of each episode's outcome as it ends
	// (before the next reset, so env still holds its final state); an error
	// stops the evaluation.
	OnEpisode func(i int, rec EpisodeRecord) error `json:"-"`
}

// EpisodeRecord is the outcome of one episode.
type EpisodeRecord struct {
	Spec        EpisodeSpec
	Instruction string
	Success     bool
	Steps       int
	Reason      string // why it failed (or how it succeeded)
}

// EvalResult summarises an evaluation.
type EvalResult struct {
	Config      EvalConfig
	SuccessRate float64
	Episodes    []EpisodeRecord
}

// Factory builds the Controller for an Env; the scripted expert needs the
// Env (privileged state), a learned policy usually ignores it.
type Factory func(env *Env) (Controller, error)

// ExpertFactory builds the scripted oracle.
func ExpertFactory(env *Env) (Controller, error) { return NewExpert(env), nil }

// Evaluate runs the episodes closed-loop on env and returns success statistics.
func Evaluate(ctx context.Context, env *Env, cfg EvalConfig, factory Factory) (*EvalResult, error) {
	if cfg.Episodes <= 0 {
		return nil, fmt.Errorf("sim: episodes must be positive, got %d", cfg.Episodes)
	}
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = 150
	}
	if cfg.MaxSteps < 0 || cfg.ExecuteSteps < 0 {
		return nil, fmt.Errorf("sim: negative step limits (max %d, execute %d)", cfg.MaxSteps, cfg.ExecuteSteps)
	}
	probe := EpisodeSpec{Task: cfg.Task, Split: cfg.Split, Severity: cfg.Severity}
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	ctrl, err := factory(env)
	if err != nil {
		return nil, fmt.Errorf("sim: build controller: %w", err)
	}
	res := &EvalResult{Config: cfg}
	wins := 0
	for i := 0; i < cfg.Episodes; i++ {
		spec := probe
		spec.Seed = cfg.Seed + uint64(i)
		rec, err := RunEpisode(ctx, env, spec, ctrl, cfg.MaxSteps, cfg.ExecuteSteps)
		if err != nil {
			return nil, fmt.Errorf("sim: episode %d: %w", i, err)
		}
		if rec.Success {
			wins++
		}
		res.Episodes = append(res.Episodes, rec)
		if cfg.OnEpisode != nil {
			if err := cfg.OnEpisode(i, rec); err != nil {
				return nil, fmt.Errorf("sim: episode %d: %w", i, err)
			}
		}
		env.cfg.Logger.Info("episode done", zap.Int("episode", i), zap.Bool("success", rec.Success),
			zap.Int("steps", rec.Steps), zap.String("reason", rec.Reason))
	}
	res.SuccessRate = float64(wins) / float64(cfg.Episodes)
	return res, nil
}

// RunEpisode resets env to spec and runs ctrl until success or maxSteps.
// Malformed chunks (wrong size, NaN) end the episode with an error.
func RunEpisode(ctx context.Context, env *Env, spec EpisodeSpec, ctrl Controller, maxSteps, executeSteps int) (EpisodeRecord, error) {
	if err := env.Reset(ctx, spec); err != nil {
		return EpisodeRecord{}, err
	}
	rec := EpisodeRecord{Spec: spec, Instruction: env.Scene().Instruction}
	for env.Steps() < maxSteps {
		obs, err := env.Observe(ctx)
		if err != nil {
			return rec, err
		}
		chunk, err := ctrl.Act(ctx, obs)
		if err != nil {
			return rec, fmt.Errorf("controller: %w", err)
		}
		if err := validateChunk(&chunk); err != nil {
			return rec, err
		}
		n := chunk.Horizon
		if executeSteps > 0 && executeSteps < n {
			n = executeSteps
		}
		for k := 0; k < n && env.Steps() < maxSteps; k++ {
			if err := env.Step(ctx, chunk.Step(k)); err != nil {
				return rec, err
			}
			if ok, why := env.Success(); ok {
				rec.Success, rec.Steps, rec.Reason = true, env.Steps(), why
				return rec, nil
			}
		}
	}
	_, rec.Reason = env.Success()
	rec.Steps = env.Steps()
	return rec, nil
}

func validateChunk(c *msgs.ActionChunk) error {
	if c.Dim != msgs.EEActionDim {
		return fmt.Errorf("sim: action chunk dim %d, want %d", c.Dim, msgs.EEActionDim)
	}
	if c.Horizon <= 0 || len(c.Values) != c.Horizon*c.Dim {
		return fmt.Errorf("sim: action chunk has %d values for horizon %d", len(c.Values), c.Horizon)
	}
	for k := 0; k < c.Horizon; k++ {
		if err := ValidateAction(c.Step(k)); err != nil {
			return err
		}
	}
	return nil
}
