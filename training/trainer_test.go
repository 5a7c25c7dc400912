package training

import (
	"errors"
	"math"
	"strings"

	"github.com/vla3d/vla3d/policy/model"

	"bytes"
	"context"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func tinyRun(t *testing.T, row string, stages []Stage, steps int) (Config, *MemoryDataset) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Model = tinyModel(row)
	cfg.Stages = stages
	cfg.StepsPerStage, cfg.BatchSize = steps, 4
	cfg.LR, cfg.MinLR, cfg.WarmupSteps = 3e-3, 1e-4, 5
	cfg.WeightDecay = 0
	cfg.MaxInstances = 3
	cfg.CheckpointEvery, cfg.KeepCheckpoints, cfg.PlotEvery = 1000, 2, 0
	cfg.OutDir = t.TempDir()
	l := LayoutFor(cfg.Model, cfg.MaxInstances)
	return cfg, &MemoryDataset{Samples: syntheticSamples(l, cfg.Model, 4, 11)}
}

// TestOverfitBaseline: on 4 samples the action error must go to ~0.
func TestOverfitBaseline(t *testing.T) {
	steps := 150
	cfg, data := tinyRun(t, "baseline", []Stage{Stage1}, steps)
	var bar bytes.Buffer
	cfg.Progress = &bar
	tr, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps in %v (%.1f steps/s): action L1 %.4f -> %.4f", res.Steps, time.Since(start), res.StepsPerSec, res.First["action"], res.Last["action"])
	if res.Last["action"] > 0.05 || res.Last["action"] > res.First["action"]/5 {
		t.Fatalf("did not overfit: action L1 %.4f -> %.4f", res.First["action"], res.Last["action"])
	}
	for _, f := range []string{MetricsFile, PlotFile, SpecFile} {
		if _, err := os.Stat(filepath.Join(cfg.OutDir, f)); err != nil {
			t.Errorf("missing output %s: %v", f, err)
		}
	}
	if !bytes.Contains(bar.Bytes(), []byte("action=")) {
		t.Errorf("progress bar shows no loss: %q", bar.String())
	}
}

// failingData fails at the n-th sample fetch: a stand-in for a kill -9 in
// the middle of a run (no checkpoint is written on that path).
type failingData struct {
	Dataset
	left int
}

func (f *failingData) Sample(i int) (*Sample, error) {
	f.left--
	if f.left < 0 {
		return nil, errors.New("killed")
	}
	return f.Dataset.Sample(i)
}

func variables(t *testing.T, tr *Trainer) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for v := range tr.Variables().IterVariables() {
		if v.DType() == dtypes.Float32 && v.HasValue() {
			out[v.ScopeAndName()] = tensors.MustCopyFlatData[float32](v.MustValue())
		}
	}
	return out
}

// TestResumeAfterKill: a run killed after step 8 (checkpoints every 3 steps
// and at the stage-1 end, step 5; the newest, step 6, corrupted) resumes
// from step 5 and ends bit-for-bit close to an
// uninterrupted run, with one metrics record per step.
func TestResumeAfterKill(t *testing.T) {
	cfg, data := tinyRun(t, "baseline", []Stage{Stage1, Stage2}, 5)
	cfg.CheckpointEvery = 3
	ref, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := variables(t, ref)

	cfg.OutDir = t.TempDir()
	killed, err := New(cfg, &failingData{Dataset: data, left: 8 * cfg.BatchSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := killed.Run(context.Background()); err == nil {
		t.Fatal("killed run did not fail")
	}
	ck := Checkpointer{Dir: filepath.Join(cfg.OutDir, CheckpointDir)}
	files, _ := ck.List()
	if len(files) != 2 {
		t.Fatalf("checkpoints after kill: %v", files)
	}
	// Corrupt the newest (step 6): resume must fall back to step 5.
	if err := os.WriteFile(files[1], []byte("VLA3DCK1 torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	resumed, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := resumed.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 5 || res.State.Step != 10 || res.State.Stage != Stage2 {
		t.Fatalf("resumed run: %d steps, state %+v", res.Steps, res.State)
	}
	got := variables(t, resumed)
	if len(got) != len(want) {
		t.Fatalf("%d variables, want %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		for i := range w {
			if math.Abs(float64(g[i]-w[i])) > 1e-5 {
				t.Fatalf("%s[%d] = %g after resume, %g uninterrupted", k, i, g[i], w[i])
			}
		}
	}
	recs, err := ReadMetrics(filepath.Join(cfg.OutDir, MetricsFile))
	if err != nil || len(recs) != 10 {
		t.Fatalf("metrics: %d records, %v", len(recs), err)
	}
	for i, r := range recs {
		if r.Step != i+1 {
			t.Fatalf("record %d has step %d", i, r.Step)
		}
	}
}

// TestCancelSavesCheckpoint: cancelling the context stops the run with a
// checkpoint of the progress made.
func TestCancelSavesCheckpoint(t *testing.T) {
	cfg, data := tinyRun(t, "baseline", []Stage{Stage1}, 50)
	tr, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	tr.cfg.Progress = nil
	go func() {
		for tr.State().Step < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	res, err := tr.Run(ctx)
	if !errors.Is(err, context.Canceled) || res.Checkpoint == "" {
		t.Fatalf("cancel: %v, checkpoint %q", err, res.Checkpoint)
	}
	l, err := ReadCheckpoint(res.Checkpoint)
	if err != nil || l.State.Step < 2 {
		t.Fatalf("checkpoint state %+v, %v", l, err)
	}
}

// instanceTotal is the weighted instance loss of a step's outputs.
func instanceTotal(w LossWeights, v map[string]float64) float64 {
	return w.Focal*v["focal"] + w.BoxL1*v["box_l1"] + w.GIoU*v["giou"] + w.MaskCE*v["mask_ce"] + w.Dice*v["dice"] + w.Center3D*v["center_3d"]
}

// TestOverfitRowC trains the full model (instance module, predictor,
// routing) through both stages on 4 samples: stage 1 must drive the action
// error and the matched instance losses down; stage 2 must train the
// predictor (finite SmoothL1/cosine/variance terms) and keep the action
// error low.
func TestOverfitRowC(t *testing.T) {
	steps := 120
	if testing.Short() {
		steps = 40
	}
	cfg, data := tinyRun(t, "C", []Stage{Stage1}, steps)
	tr, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i0, i1 := instanceTotal(cfg.Loss, res.First), instanceTotal(cfg.Loss, res.Last)
	t.Logf("stage 1: %d steps in %v: action %.4f -> %.4f, instance %.3f -> %.3f (%v -> %v)",
		res.Steps, time.Since(start), res.First["action"], res.Last["action"], i0, i1, res.First, res.Last)
	if res.Last["action"] > res.First["action"]/4 {
		t.Errorf("action L1 %.4f -> %.4f", res.First["action"], res.Last["action"])
	}
	if i1 > 0.7*i0 {
		t.Errorf("instance loss %.3f -> %.3f", i0, i1)
	}

	// Stage 2 continues from the stage-1 checkpoint in the same directory.
	cfg.Stages = []Stage{Stage1, Stage2}
	cfg.StepsPerStage = steps
	cfg.WarmupSteps = 2
	tr2, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := tr2.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stage 2: %d steps: %v -> %v", res2.Steps, res2.First, res2.Last)
	for _, k := range []string{"pred_smooth_l1", "pred_cosine", "pred_variance"} {
		if v, ok := res2.Last[k]; !ok || math.IsNaN(v) {
			t.Errorf("stage 2 %s = %v", k, v)
		}
	}
	if res2.Last["action"] > 2*res.Last["action"]+0.05 {
		t.Errorf("stage 2 action L1 rose: %.4f -> %.4f", res.Last["action"], res2.Last["action"])
	}
	if res2.State.Stage != Stage2 || res2.State.StageStep != steps {
		t.Errorf("final state %+v", res2.State)
	}
}

// TestStage2SyncsTeacher: entering stage 2 copies the student into the EMA
// teacher, after which the EMA keeps them close.
func TestStage2SyncsTeacher(t *testing.T) {
	cfg, data := tinyRun(t, "B", []Stage{Stage1, Stage2}, 2)
	cfg.WarmupSteps = 1
	tr, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	vars := variables(t, tr)
	pairs := 0
	for k, s := range vars {
		rest, ok := strings.CutPrefix(k, model.ScopePredictorStudent+"/")
		if !ok {
			continue
		}
		tv, ok := vars[model.ScopePredictorTeacher+"/"+rest]
		if !ok {
			t.Fatalf("no teacher for %s", k)
		}
		pairs++
		for i := range s {
			// Two stage-2 steps of lr ≤ 3e-3 with momentum 0.996 keep them within a few lr.
			if math.Abs(float64(s[i]-tv[i])) > 0.05 {
				t.Fatalf("%s[%d]: student %g teacher %g", k, i, s[i], tv[i])
			}
		}
	}
	if pairs == 0 {
		t.Fatal("model has no student/teacher pairs")
	}
}

// A checkpoint with an impossible state, or made by another model
// configuration, is refused on resume naming the field and both values;
// temp files left by an interrupted save are removed.
func TestResumeValidatesCheckpoint(t *testing.T) {
	cfg, data := tinyRun(t, "baseline", []Stage{Stage1}, 3)
	cfg.WarmupSteps = 1
	tr, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ckDir := filepath.Join(cfg.OutDir, CheckpointDir)
	stale := filepath.Join(ckDir, ".tmp-ckpt-123456")
	if err := os.WriteFile(stale, []byte("half a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Another width: refused, naming it.
	other := cfg
	other.Model.Width *= 2
	o, err := New(other, data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Width: checkpoint 24, this run 48") {
		t.Fatalf("resume with another width: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale checkpoint temp file still there: %v", err)
	}

	// An impossible state (passing its CRC): refused, naming the field.
	st := tr.State()
	st.Step, st.StageStep, st.Cursor = st.Step+1, -3, 1<<20
	if _, err := (Checkpointer{Dir: ckDir, Keep: 5}).Save(tr.Variables(), st); err != nil {
		t.Fatal(err)
	}
	again, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = again.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "stage_step -3") || !strings.Contains(err.Error(), "cursor 1048576") {
		t.Fatalf("resume from an impossible state: %v", err)
	}
}

// FuzzCheckpointState: a checkpoint's state is outside bytes (its CRC only
// says they were written whole). Whatever it holds, resume validation must
// not panic, and a state it accepts can be trained from.
func FuzzCheckpointState(f *testing.F) {
	f.Add(3, 1, 3, 0, 2, []byte(`{}`))
	f.Add(-1, 7, -5, -2, 1<<30, []byte(`{"Width":`))
	f.Fuzz(func(t *testing.T, step, stage, stageStep, epoch, cursor int, model []byte) {
		cfg, data := tinyRun(t, "baseline", []Stage{Stage1, Stage2}, 5)
		tr, err := New(cfg, data)
		if err != nil {
			t.Fatal(err)
		}
		st := State{Step: step, Stage: Stage(stage), StageStep: stageStep, Epoch: epoch, Cursor: cursor, Model: model}
		if err := tr.checkResume(st); err != nil {
			return
		}
		if st.Step < 0 || st.StageStep < 0 || st.StageStep > cfg.StepsPerStage || st.Cursor < 0 || st.Cursor > data.Len() ||
			(st.Stage != Stage1 && st.Stage != Stage2) {
			t.Fatalf("accepted an impossible state %+v", st)
		}
	})
}

// Config.Evaluate runs on schedule with its figures logged, and the best
// checkpoint by the figure is kept.
func TestEvaluateKeepsTheBestCheckpoint(t *testing.T) {
	cfg, data := tinyRun(t, "baseline", []Stage{Stage1}, 6)
	cfg.WarmupSteps = 1
	scores := map[int]float64{2: 0.2, 4: 0.6, 6: 0.4}
	calls := 0
	cfg.EvaluateEvery = 2
	cfg.Evaluate = func(_ context.Context, tr *Trainer) (map[string]float64, error) {
		calls++
		return map[string]float64{"success": scores[tr.State().Step], "val_sweep_ratio_x": 0.1}, nil
	}
	tr, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Fatalf("Evaluate called %d times, want 3", calls)
	}
	b, err := os.ReadFile(filepath.Join(cfg.OutDir, BestInfoFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"step":4`) || !strings.Contains(string(b), `"value":0.6`) {
		t.Fatalf("best: %s", b)
	}
	best, err := ReadCheckpoint(filepath.Join(cfg.OutDir, BestFile))
	if err != nil || best.State.Step != 4 {
		t.Fatalf("best checkpoint: %v, %+v", err, best)
	}
	recs, err := ReadMetrics(filepath.Join(cfg.OutDir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if _, ok := r.Metrics["val_success"]; ok {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d validation records", n)
	}
}
