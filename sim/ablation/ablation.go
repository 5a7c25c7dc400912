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
	// ExecuteSteps is how many actions of each chunk run before the row
	// re-plans (0: whole chunks; sim.EvalConfig.ExecuteSteps).
	ExecuteSteps int
	// SweepSeeds > 1 also runs each row's t=0 layout sweep (sim.LayoutSweep)
	// on the first task, clean split, seeds Seed.. (does the row look at the
	// scene, even where it never succeeds?). 0: no sweep.
	SweepSeeds int
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
	// Sweeps are the rows' t=0 layout sweeps (Config.SweepSeeds), by row.
	Sweeps map[string]*sim.SweepResult `json:",omitempty"`
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
	if cfg.SweepSeeds > 1 {
		seeds := make([]uint64, cfg.SweepSeeds)
		for i := range seeds {
			seeds[i] = cfg.Seed + uint64(i)
		}
		t.Sweeps = map[string]*sim.SweepResult{}
		for _, r := range rows {
			res, err := sim.LayoutSweep(ctx, env, sim.EpisodeSpec{Task: cfg.Tasks[0], Split: sim.SplitNone}, seeds, r.Factory)
			if err != nil {
				return t, fmt.Errorf("ablation: row %s sweep: %w", r.Name, err)
			}
			t.Sweeps[r.Name] = res
		}
	}
	for _, task := range cfg.Tasks {
		for _, split := range cfg.Splits {
			for _, r := range rows {
				res, err := sim.Evaluate(ctx, env, sim.EvalConfig{
					Task: task, Split: split, Severity: cfg.Severity, Episodes: cfg.Episodes,
					Seed: cfg.Seed, MaxSteps: cfg.MaxSteps, ExecuteSteps: cfg.ExecuteSteps,
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
	fmt.Fprintf(&b, "Closed-loop success, %d episodes per cell on seeds %d–%d, severity %.2g",
		t.Config.Episodes, t.Config.Seed, t.Config.Seed+uint64(t.Config.Episodes)-1, t.Config.Severity)
	if t.Sweeps != nil {
		fmt.Fprintf(&b, "; t=0 layout sweep (%s, clean) on seeds %d–%d: correlation and spread ratio of the first chunk's xy heading against the expert's (1, 1: follows the scene; ratio 0: ignores it)",
			t.Config.Tasks[0], t.Config.Seed, t.Config.Seed+uint64(t.Config.SweepSeeds)-1)
	}
	b.WriteString("\n\n")
	b.WriteString("| task | row |")
	for _, s := range t.Config.Splits {
		fmt.Fprintf(&b, " %s |", s)
	}
	if t.Sweeps != nil {
		b.WriteString(" t=0 sweep corr x/y, spread x/y |")
	}
	b.WriteString("\n|---|---|")
	b.WriteString(strings.Repeat("---|", len(t.Config.Splits)))
	if t.Sweeps != nil {
		b.WriteString("---|")
	}
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
			if sw := t.Sweeps[row]; sw != nil && task == t.Config.Tasks[0] {
				fmt.Fprintf(&b, " %.2f/%.2f, %.2f/%.2f |", sw.Corr[0], sw.Corr[1], sw.SpreadRatio[0], sw.SpreadRatio[1])
			} else if t.Sweeps != nil {
				b.WriteString(" |")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
