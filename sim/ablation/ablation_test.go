package ablation

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/sim"
)

// still never moves: it fails every episode.
type still struct{ env *sim.Env }

func (s still) Act(context.Context, *msgs.Observation) (msgs.ActionChunk, error) {
	return msgs.ActionChunk{Stamp: s.env.Stamp(), Period: s.env.ControlPeriod(), Horizon: 1, Dim: msgs.EEActionDim,
		Values: make([]float32, msgs.EEActionDim)}, nil
}

// TestRunExpertAndStill: the scripted expert succeeds in every cell and a
// policy that never moves in none; the table, JSON-able cells and the bar
// chart say so.
func TestRunExpertAndStill(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 32, Height: 32, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	var cells []Cell
	cfg := Config{Splits: []string{sim.SplitNone, sim.SplitCamera}, Episodes: 2, Seed: 300000, MaxSteps: 120, SweepSeeds: 3,
		OnCell: func(c Cell) { cells = append(cells, c) }}
	rows := []Row{
		{Name: "expert", Factory: sim.ExpertFactory},
		{Name: "still", Factory: func(env *sim.Env) (sim.Controller, error) { return still{env}, nil }},
	}
	tab, err := Run(context.Background(), env, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Cells) != 4 || len(cells) != 4 {
		t.Fatalf("%d cells (%d reported), want 4", len(tab.Cells), len(cells))
	}
	for _, s := range cfg.Splits {
		e, _ := tab.Cell("expert", sim.TaskPickPlace, s)
		st, _ := tab.Cell("still", sim.TaskPickPlace, s)
		if e.Succeeded != 2 || st.Succeeded != 0 || st.Episodes != 2 || len(st.Failures) == 0 {
			t.Errorf("split %s: expert %+v, still %+v", s, e, st)
		}
	}
	if sw := tab.Sweeps["expert"]; sw == nil || sw.Corr[0] < 0.99 || sw.SpreadRatio[0] < 0.99 {
		t.Errorf("the expert's own sweep %+v", sw)
	}
	if sw := tab.Sweeps["still"]; sw == nil || sw.SpreadRatio[0] != 0 {
		t.Errorf("a policy that never moves has sweep %+v", sw)
	}
	md := tab.Markdown()
	for _, want := range []string{"| pick_place | expert | 2/2 (100%) | 2/2 (100%) |", "| pick_place | still | 0/2 (0%) | 0/2 (0%) |", "seeds 300000–300001"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	path := filepath.Join(t.TempDir(), "ablation.png")
	if err := tab.WritePNG(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("bar chart: %v", err)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	for name, c := range map[string]struct {
		cfg  Config
		rows []Row
	}{
		"unknown split": {Config{Splits: []string{"fog"}}, []Row{{Name: "a", Factory: sim.ExpertFactory}}},
		"unknown task":  {Config{Tasks: []string{"juggle"}}, []Row{{Name: "a", Factory: sim.ExpertFactory}}},
		"no rows":       {Config{}, nil},
		"row twice":     {Config{}, []Row{{Name: "a", Factory: sim.ExpertFactory}, {Name: "a", Factory: sim.ExpertFactory}}},
	} {
		if _, err := Run(context.Background(), nil, c.cfg, c.rows); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
