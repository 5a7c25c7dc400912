package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/training"
)

// valFlags configure validation during training: closed-loop success and
// the t=0 layout sweep on held-out seeds, in the simulator, run by the
// vla3d-sim binary (the trainer itself links no simulator, so GPU builds
// stay free of MuJoCo).
type valFlags struct {
	every, episodes, maxSteps int
	seed                      uint64
	task, sim                 string
}

func (v *valFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&v.every, "val-every", 0, "validate every N steps (and at each stage end): closed-loop success and t=0 layout sweep on held-out seeds in the simulator; the best checkpoint by success is kept as <out>/best.vck (0: off)")
	fs.IntVar(&v.episodes, "val-episodes", 10, "held-out episodes per validation")
	fs.IntVar(&v.maxSteps, "val-max-steps", 150, "control steps per validation episode")
	fs.Uint64Var(&v.seed, "val-seed", 100000, "first held-out seed (keep it apart from the recordings' seeds)")
	fs.StringVar(&v.task, "val-task", "pick_place", "validation task")
	fs.StringVar(&v.sim, "val-sim", "", "the vla3d-sim binary (default: next to this one, else on PATH)")
}

// simBinary finds vla3d-sim.
func (v *valFlags) simBinary() (string, error) {
	if v.sim != "" {
		return v.sim, nil
	}
	if self, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(self), "vla3d-sim"); fileExists(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("vla3d-sim")
	if err != nil {
		return "", errors.New("-val-every needs the vla3d-sim binary: build it next to vla3d-train (go build -o bin/ ./cmd/...) or give -val-sim")
	}
	return p, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// hook is training.Config.Evaluate: export the model, then vla3d-sim eval
// and sweep it on the held-out seeds at the model's image size.
func (v *valFlags) hook(log *zap.Logger) (func(context.Context, *training.Trainer) (map[string]float64, error), error) {
	bin, err := v.simBinary()
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tr *training.Trainer) (map[string]float64, error) {
		dir, err := os.MkdirTemp("", "vla3d-val-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		model := filepath.Join(dir, "model.onnx")
		if err := tr.Export(model); err != nil {
			return nil, err
		}
		spec := tr.Spec()
		common := []string{"-model", model, "-task", v.task, "-split", "none", "-seed", strconv.FormatUint(v.seed, 10),
			"-episodes", strconv.Itoa(v.episodes), "-width", strconv.Itoa(spec.ImageWidth), "-height", strconv.Itoa(spec.ImageHeight),
			"-no-labels", "-log-level", "warn"}
		var ev struct{ SuccessRate float64 }
		if err := runJSON(ctx, bin, append([]string{"eval", "-max-steps", strconv.Itoa(v.maxSteps)}, common...), &ev); err != nil {
			return nil, err
		}
		var sw struct {
			Corr        [2]float64 `json:"corr"`
			SpreadRatio [2]float64 `json:"spread_ratio"`
		}
		if err := runJSON(ctx, bin, append([]string{"sweep"}, common...), &sw); err != nil {
			return nil, err
		}
		return map[string]float64{
			"val_success":       ev.SuccessRate,
			"val_sweep_corr_x":  sw.Corr[0],
			"val_sweep_corr_y":  sw.Corr[1],
			"val_sweep_ratio_x": sw.SpreadRatio[0],
			"val_sweep_ratio_y": sw.SpreadRatio[1],
		}, nil
	}, nil
}

// runJSON runs bin with args and decodes the first JSON value it prints.
func runJSON(ctx context.Context, bin string, args []string, dst any) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), args[0], err, errb.String())
	}
	if err := json.NewDecoder(&out).Decode(dst); err != nil {
		return fmt.Errorf("%s %s output: %w", filepath.Base(bin), args[0], err)
	}
	return nil
}
