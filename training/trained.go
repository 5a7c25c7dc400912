package training

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
)

// Trained is a model restored from a run directory for export or evaluation.
type Trained struct {
	Model *model.Model
	Vars  *mlctx.Context // model variables only (optimizer state dropped)
	Spec  policy.Spec    // sidecar written by the run (statistics, vocabulary)
	State State
}

// LoadTrained restores the newest good checkpoint of the run in outDir,
// rebuilding the model configuration saved with it.
func LoadTrained(outDir string) (*Trained, error) {
	l, err := Checkpointer{Dir: filepath.Join(outDir, CheckpointDir)}.LoadLatest()
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, fmt.Errorf("no checkpoint in %s", filepath.Join(outDir, CheckpointDir))
	}
	return restoreTrained(outDir, l)
}

// LoadBest restores the run's best checkpoint by validation (BestFile).
func LoadBest(outDir string) (*Trained, error) {
	l, err := ReadCheckpoint(filepath.Join(outDir, BestFile))
	if err != nil {
		return nil, fmt.Errorf("best checkpoint (train with -val-every): %w", err)
	}
	return restoreTrained(outDir, l)
}

func restoreTrained(outDir string, l *Loaded) (*Trained, error) {
	var cfg model.Config
	if err := json.Unmarshal(l.State.Model, &cfg); err != nil {
		return nil, fmt.Errorf("checkpoint %s model config: %w", l.Path, err)
	}
	m, err := model.New(cfg)
	if err != nil {
		return nil, err
	}
	vars := mlctx.New()
	if err := l.Restore(vars); err != nil {
		return nil, err
	}
	if err := ResetOptimizer(vars); err != nil {
		return nil, err
	}
	spec := cfg.Spec()
	if b, err := os.ReadFile(filepath.Join(outDir, SpecFile)); err == nil {
		if err := json.Unmarshal(b, &spec); err != nil {
			return nil, fmt.Errorf("%s: %w", SpecFile, err)
		}
	} else if !os.IsNotExist(err) {
		return nil, fmt.Errorf("%s: %w", SpecFile, err)
	}
	return &Trained{Model: m, Vars: vars, Spec: spec, State: l.State}, nil
}
