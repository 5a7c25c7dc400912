package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/sim"
	"github.com/vla3d/vla3d/sim/ablation"
	"github.com/vla3d/vla3d/sim/policyctl"
)

// Files vla3d-sim ablation writes into -out.
const (
	ablationMarkdown = "ablation.md"
	ablationJSON     = "ablation.json"
	ablationPNG      = "ablation.png"
)

// runAblation evaluates every -models row closed loop on every -tasks ×
// -splits cell, on the same held-out seeds, and writes the table.
func runAblation(ctx context.Context, c *common, args []string) error {
	fs := newFlags("ablation", c)
	models := fs.String("models", "", "rows as name=model.onnx, comma-separated, in table order (e.g. baseline=runs/base/model.onnx,C=runs/c/model.onnx); every model must take the same image size")
	tasks := fs.String("tasks", "pick_place", "comma-separated tasks: "+taskNames())
	splits := fs.String("splits", "none", "comma-separated perturbation splits (all: every split)")
	out := fs.String("out", "ablation", "output directory: "+ablationMarkdown+", "+ablationJSON+", "+ablationPNG)
	cfg := ablation.Config{}
	fs.IntVar(&cfg.Episodes, "episodes", 50, "episodes per cell (seeds -seed, -seed+1, ...: the same layouts for every row)")
	fs.IntVar(&cfg.MaxSteps, "max-steps", 150, "control steps per episode")
	fs.IntVar(&cfg.ExecuteSteps, "execute", nodeReplanEvery(), "actions of each chunk to run before re-planning (0: whole chunk), as vla3d-sim eval")
	fs.IntVar(&cfg.SweepSeeds, "sweep", 20, "t=0 layout sweep of every row over this many seeds from -seed (first task, clean split); 0: none")
	ortLib := cli.ORTLibFlag(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	rows, err := parseRows(*models)
	if err != nil {
		return cli.Usage("vla3d-sim ablation", err)
	}
	cfg.Tasks = strings.Split(*tasks, ",")
	if *splits == "all" {
		cfg.Splits = sim.Splits()
	} else {
		cfg.Splits = strings.Split(*splits, ",")
	}
	cfg.Severity, cfg.Seed = c.severity, c.seed
	// One simulator for every row: the first model's size, which the others must share.
	s, err := c.open(fs, rows[0].path, *ortLib, "")
	if err != nil {
		return err
	}
	defer s.close()
	cfg.Log = s.log
	table := make([]ablation.Row, len(rows))
	table[0] = ablation.Row{Name: rows[0].name, Factory: policyctl.Factory(s.policy, preprocess.Options{})}
	for i, r := range rows[1:] {
		p, err := ort.Load(r.path, ort.Options{Logger: s.log, NoiseSeed: c.seed})
		if err != nil {
			return err
		}
		defer p.Close() //nolint:errcheck // closing at exit; results are written by then
		if sp := p.Spec(); sp.ImageWidth != c.width || sp.ImageHeight != c.height {
			return fmt.Errorf("row %s takes %dx%d images, row %s %dx%d: one ablation renders one size", r.name, sp.ImageWidth, sp.ImageHeight, rows[0].name, c.width, c.height)
		}
		table[i+1] = ablation.Row{Name: r.name, Factory: policyctl.Factory(p, preprocess.Options{})}
	}
	res, err := ablation.Run(ctx, s.env, cfg, table)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	md := res.Markdown()
	if err := os.WriteFile(filepath.Join(*out, ablationMarkdown), []byte(md), 0o644); err != nil {
		return err
	}
	if err := res.WritePNG(filepath.Join(*out, ablationPNG)); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(*out, ablationJSON))
	if err != nil {
		return err
	}
	if err := errors.Join(writeJSON(f, res), f.Close()); err != nil {
		return err
	}
	_, err = fmt.Fprint(c.stdout, md)
	return err
}

type namedModel struct{ name, path string }

// parseRows reads name=path,name=path.
func parseRows(s string) ([]namedModel, error) {
	if s == "" {
		return nil, errors.New("-models is required (name=model.onnx,...)")
	}
	var rows []namedModel
	for _, kv := range strings.Split(s, ",") {
		name, path, ok := strings.Cut(kv, "=")
		if !ok || name == "" || path == "" {
			return nil, fmt.Errorf("-models: %q is not name=model.onnx", kv)
		}
		rows = append(rows, namedModel{name, path})
	}
	return rows, nil
}
