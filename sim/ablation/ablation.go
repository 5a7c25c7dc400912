// Package ablation runs the paper's ablation in the simulator: every row
// (a trained policy) closed loop on every task and perturbation split, on
// the same held-out seeds, and reports success per row × split as a
// markdown table, JSON and a bar chart.
package ablation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/sim"
)

// Row is one policy of the table.
type Row struct {
	Name    string
	Factory sim.Factory
}

// Config selects the cells and their episodes.
type Config struct {
	// Tasks and Splits (sim.Tasks, sim.Splits names). They default to
	// pick_place and none.
	Tasks, Splits []string
	// Severity of every perturbation split (0.5 if zero).
	Severity float64
	// Episodes per cell (50 if zero), seeds Seed, Seed+1, ...: the same
	// layouts for every row. Keep them apart from training and validation seeds.
	Episodes int
	Seed     uint64
	MaxSteps int // control steps per episode (sim.EvalConfig's default if zero)
	// OnCell, when set, is told of each cell as it completes.
	OnCell func(Cell)  `json:"-"`
	Log    *zap.Logger `json:"-"`
}

// Cell is one row's success on one task and split.
type Cell struct {
	Row, Task, Split string
	Succeeded        int
	Episodes         int
	// Failures counts the episodes' failure reasons.
	Failures map[string]int `json:",omitempty"`
}

// Rate is the success rate of the cell.
func (c Cell) Rate() float64 {
	if c.Episodes == 0 {
		return 0
	}
	return float64(c.Succeeded) / float64(c.Episodes)
}

// Table is the ablation's result.
type Table struct {
	Config Config
	Rows   []string
	Cells  []Cell
}

// Cell returns the cell of row, task and split.
func (t *Table) Cell(row, task, split string) (Cell, bool) {
	for _, c := range t.Cells {
		if c.Row == row && c.Task == task && c.Split == split {
			return c, true
		}
	}
	return Cell{}, false
}

func (c *Config) defaults() error {
	if len(c.Tasks) == 0 {
		c.Tasks = []string{sim.TaskPickPlace}
	}
	if len(c.Splits) == 0 {
		c.Splits = []string{sim.SplitNone}
	}
	if c.Severity == 0 {
		c.Severity = 0.5
	}
	if c.Episodes == 0 {
		c.Episodes = 50
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	var errs []error
	for _, task := range c.Tasks {
		for _, split := range c.Splits {
			errs = append(errs, (sim.EpisodeSpec{Task: task, Split: split, Severity: c.Severity}).Validate())
		}
	}
	return errors.Join(errs...)
}

// Run evaluates every row on every task and split, on env.
func Run(ctx context.Context, env *sim.Env, cfg Config, rows []Row) (*Table, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("ablation: %w", err)
	}
	if len(rows) == 0 {
		return nil, errors.New("ablation: no rows")
	}
	t := &Table{Config: cfg}
	for _, r := range rows {
		if slices.Contains(t.Rows, r.Name) {
			return nil, fmt.Errorf("ablation: row %q given twice", r.Name)
		}
		t.Rows = append(t.Rows, r.Name)
	}
	for _, task := range cfg.Tasks {
		for _, split := range cfg.Splits {
			for _, r := range rows {
				res, err := sim.Evaluate(ctx, env, sim.EvalConfig{
					Task: task, Split: split, Severity: cfg.Severity, Episodes: cfg.Episodes,
					Seed: cfg.Seed, MaxSteps: cfg.MaxSteps,
				}, r.Factory)
				if err != nil {
					return t, fmt.Errorf("ablation: row %s, %s/%s: %w", r.Name, task, split, err)
				}
				c := Cell{Row: r.Name, Task: task, Split: split, Episodes: len(res.Episodes)}
				for _, e := range res.Episodes {
					if e.Success {
						c.Succeeded++
						continue
					}
					if c.Failures == nil {
						c.Failures = map[string]int{}
					}
					c.Failures[e.Reason]++
				}
				t.Cells = append(t.Cells, c)
				cfg.Log.Info("ablation cell", zap.String("row", r.Name), zap.String("task", task), zap.String("split", split),
					zap.Int("succeeded", c.Succeeded), zap.Int("episodes", c.Episodes))
				if cfg.OnCell != nil {
					cfg.OnCell(c)
				}
			}
		}
	}
	return t, nil
}

// Markdown is the table: one line per task and row, one column per split,
// each cell "k/N (p%)".
func (t *Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Closed-loop success, %d episodes per cell on seeds %d–%d, severity %.2g\n\n",
		t.Config.Episodes, t.Config.Seed, t.Config.Seed+uint64(t.Config.Episodes)-1, t.Config.Severity)
	b.WriteString("| task | row |")
	for _, s := range t.Config.Splits {
		fmt.Fprintf(&b, " %s |", s)
	}
	b.WriteString("\n|---|---|")
	b.WriteString(strings.Repeat("---|", len(t.Config.Splits)))
	b.WriteString("\n")
	for _, task := range t.Config.Tasks {
		for _, row := range t.Rows {
			fmt.Fprintf(&b, "| %s | %s |", task, row)
			for _, s := range t.Config.Splits {
				if c, ok := t.Cell(row, task, s); ok {
					fmt.Fprintf(&b, " %d/%d (%.0f%%) |", c.Succeeded, c.Episodes, 100*c.Rate())
				} else {
					b.WriteString(" – |")
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
