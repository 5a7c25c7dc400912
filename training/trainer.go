package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego" // pure-Go backend, the CPU default
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/training/losses"
)

// Trainer runs the two-stage schedule over a Dataset, checkpointing to
// Config.OutDir and resuming from the newest good checkpoint there.
type Trainer struct {
	cfg     Config
	data    Dataset
	layout  Layout
	model   *model.Model
	backend backends.Backend
	vars    *mlctx.Context
	ckpt    Checkpointer
	log     *zap.Logger
	state   State
	matcher Matcher

	// per-stage executables, rebuilt at a stage change
	stage     Stage
	costExec  *mlctx.Exec
	trainExec *mlctx.Exec
	// ortMatch runs the matching pass in ONNX Runtime (Config.ForwardRuntime);
	// ortTried records that it was set up or refused for this stage.
	ortMatch *forwardPass
	ortTried bool
	// ortFrozen runs stage 2's frozen modules in ONNX Runtime and
	// frozenExec is the step graph that reads their outputs; frozenTried
	// records that they were set up or refused for this stage.
	ortFrozen   *forwardPass
	frozenExec  *mlctx.Exec
	frozenTried bool
	stepRan     bool     // a step of this stage ran wholly on the backend
	names       []string // names of the train graph's scalar outputs
}

// Paths of a run's outputs inside OutDir.
const (
	CheckpointDir = "checkpoints"
	MetricsFile   = "metrics.jsonl"
	PlotFile      = "loss.png"
	SpecFile      = "model.json"
)

// New validates cfg and prepares a trainer; it does not touch OutDir yet.
func New(cfg Config, data Dataset) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if data == nil || data.Len() == 0 {
		return nil, fmt.Errorf("training: empty dataset")
	}
	m, err := model.New(cfg.Model)
	if err != nil {
		return nil, err
	}
	if err := checkEncoder(cfg.Model, data); err != nil {
		return nil, err
	}
	be, err := model.NewBackend(cfg.Backend)
	if err != nil {
		return nil, fmt.Errorf("training backend %q: %w", cfg.Backend, err)
	}
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	vars := mlctx.New()
	vars.SetParam(mlctx.ParamInitialSeed, cfg.Seed)
	return &Trainer{
		cfg: cfg, data: data, layout: LayoutFor(cfg.Model, cfg.MaxInstances), model: m,
		backend: be, vars: vars, log: log,
		ckpt: Checkpointer{Dir: filepath.Join(cfg.OutDir, CheckpointDir), Keep: cfg.KeepCheckpoints, Log: log},
	}, nil
}

// Close releases the step executables and the matching session; the
// variables stay usable (for Export).
func (t *Trainer) Close() error {
	if t.trainExec != nil {
		t.trainExec.Finalize()
		t.trainExec = nil
	}
	if t.costExec != nil {
		t.costExec.Finalize()
		t.costExec = nil
	}
	return t.closeForwardPasses()
}

// closeForwardPasses releases the ONNX Runtime passes and the step graph
// that reads the frozen modules' outputs.
func (t *Trainer) closeForwardPasses() error {
	err := errors.Join(t.ortMatch.close(), t.ortFrozen.close())
	if t.frozenExec != nil {
		t.frozenExec.Finalize()
	}
	t.ortMatch, t.ortFrozen, t.frozenExec = nil, nil, nil
	t.ortTried, t.frozenTried, t.stepRan = false, false, false
	return err
}

// Variables is the context holding the model (and optimizer) variables: what
// the ONNX exporter traces after training.
func (t *Trainer) Variables() *mlctx.Context { return t.vars }

// State is the current progress.
func (t *Trainer) State() State { return t.state }

// Result summarises a Run.
type Result struct {
	State       State
	First, Last map[string]float64 // losses of the first and last step run in this call
	Steps       int                // steps run in this call
	StepsPerSec float64
	Checkpoint  string
	PlotPath    string
}

func (t *Trainer) instanceOn() bool   { return t.cfg.Model.Modules.Instance }
func (t *Trainer) predictorOn() bool  { return t.cfg.Model.Modules.Predictor }
func (t *Trainer) completionIn() bool { return t.cfg.Model.CompletionSource == model.CompletionInput }

// matchingOn: instance labels are matched and supervised while the instance
// module trains (stage 1).
func (t *Trainer) matchingOn(s Stage) bool { return s == Stage1 && t.instanceOn() }

// resume loads the newest good checkpoint, if any, into the variables,
// after checking that its state is possible and that it was made by this
// row and model configuration (a different one is refused, naming the
// field and both values, rather than trained on with other flags).
func (t *Trainer) resume() error {
	if n, err := t.ckpt.CleanTemp(); err != nil {
		return err
	} else if n > 0 {
		t.log.Info("removed checkpoint temp files left by an interrupted save", zap.Int("files", n))
	}
	l, err := t.ckpt.LoadLatest()
	if err != nil {
		return err
	}
	if l != nil {
		if err := t.checkResume(l.State); err != nil {
			return fmt.Errorf("resume from %s: %w", l.Path, err)
		}
	}
	if l == nil {
		t.state = State{Stage: t.cfg.Stages[0], Seed: t.cfg.Seed}
		if t.cfg.InitFrom != "" {
			return t.warmStart(t.cfg.InitFrom)
		}
		return nil
	}
	if err := l.Restore(t.vars); err != nil {
		return fmt.Errorf("resume from %s: %w", l.Path, err)
	}
	t.state = l.State
	t.log.Info("resumed", zap.String("checkpoint", l.Path), zap.Int("step", t.state.Step),
		zap.Int("stage", int(t.state.Stage)), zap.Int("stage_step", t.state.StageStep))
	return nil
}

// Export writes the model as trained so far to path (ONNX) with its sidecar
// (onnx.ExportPolicy), e.g. for validation in the simulator.
func (t *Trainer) Export(path string) error {
	return onnx.ExportPolicy(t.vars, t.model, t.Spec(), path)
}

// checkResume refuses an impossible checkpoint state or one of another
// model configuration.
func (t *Trainer) checkResume(st State) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if st.Step < 0 {
		bad("step %d is negative", st.Step)
	}
	if _, err := ParseStage(int(st.Stage)); err != nil {
		bad("stage: %w", err)
	} else if !slices.Contains(t.cfg.Stages, st.Stage) {
		bad("stage %d is not among this run's stages %v", st.Stage, t.cfg.Stages)
	}
	if st.StageStep < 0 || st.StageStep > st.Step {
		bad("stage_step %d is outside [0, step %d]", st.StageStep, st.Step)
	}
	if st.StageStep > t.cfg.StepsPerStage {
		bad("stage_step %d is beyond this run's %d steps per stage", st.StageStep, t.cfg.StepsPerStage)
	}
	if st.Epoch < 0 {
		bad("epoch %d is negative", st.Epoch)
	}
	if st.Cursor < 0 || st.Cursor > t.data.Len() {
		bad("cursor %d is outside the dataset's %d samples", st.Cursor, t.data.Len())
	}
	if len(st.Model) > 0 {
		now, err := json.Marshal(t.cfg.Model)
		if err != nil {
			return err
		}
		if diffs := jsonDiff(st.Model, now); len(diffs) > 0 {
			bad("the checkpoint was trained with another model configuration (give the same -row and model flags, or another -out): %s", strings.Join(diffs, "; "))
		}
	}
	return errors.Join(errs...)
}

// jsonDiff names the top-level fields in which two JSON objects differ, as
// "field: checkpoint A, this run B".
func jsonDiff(ckpt, now []byte) []string {
	var a, b map[string]json.RawMessage
	if json.Unmarshal(ckpt, &a) != nil || json.Unmarshal(now, &b) != nil {
		return []string{"model configuration unreadable"}
	}
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if string(a[k]) != string(b[k]) {
			out = append(out, fmt.Sprintf("%s: checkpoint %s, this run %s", k, orNone(a[k]), orNone(b[k])))
		}
	}
	slices.Sort(out)
	return out
}

func orNone(v json.RawMessage) string {
	if len(v) == 0 {
		return "(absent)"
	}
	return string(v)
}

// Run trains until every configured stage has StepsPerStage steps or ctx is
// cancelled (then a checkpoint of the progress so far is written and ctx's
// error returned).
func (t *Trainer) Run(ctx context.Context) (Result, error) {
	var res Result
	if err := os.MkdirAll(t.cfg.OutDir, 0o755); err != nil {
		return res, fmt.Errorf("output dir: %w", err)
	}
	if err := t.resume(); err != nil {
		return res, err
	}
	if err := t.writeSpec(); err != nil {
		return res, err
	}
	mlog, err := OpenMetricsLog(filepath.Join(t.cfg.OutDir, MetricsFile), t.state.Step)
	if err != nil {
		return res, err
	}
	defer mlog.Close()

	total := len(t.cfg.Stages) * t.cfg.StepsPerStage
	var bar *Progress
	if t.cfg.Progress != nil {
		bar = NewProgress(t.cfg.Progress, total, t.doneSteps(), "training")
	}
	r := &run{t: t, ctx: ctx, res: &res, mlog: mlog, bar: bar, saved: t.state.Step}
	if b, err := os.ReadFile(filepath.Join(t.cfg.OutDir, BestInfoFile)); err == nil {
		var info struct{ Value float64 }
		if json.Unmarshal(b, &info) == nil {
			r.best, r.haveBest = info.Value, true // resumed: the best so far stands
		}
	}
	r.src = rand.NewPCG(uint64(t.cfg.Seed), 0)
	r.rng = rand.New(r.src)
	start := time.Now()
	for si, stage := range t.cfg.Stages {
		if si < t.stageIndex() {
			continue
		}
		if err := r.stage(ctx, stage); err != nil {
			res.State = t.state
			return res, err
		}
	}
	if bar != nil {
		bar.Finish()
	}
	if res.Steps > 0 {
		res.StepsPerSec = float64(res.Steps) / time.Since(start).Seconds()
		if err := mlog.Flush(); err != nil {
			return res, err
		}
		if err := t.plot(); err != nil {
			return res, err
		}
		res.PlotPath = filepath.Join(t.cfg.OutDir, PlotFile)
	}
	res.State = t.state
	return res, nil
}

// run is one Run call's loop state.
type run struct {
	t        *Trainer
	ctx      context.Context
	res      *Result
	best     float64 // best validation figure so far (haveBest)
	haveBest bool
	mlog     *MetricsLog
	bar      *Progress
	src      *rand.PCG
	rng      *rand.Rand
	saved    int // last checkpointed step
}

// stage runs stage to its end (or until ctx ends, checkpointing first).
func (r *run) stage(ctx context.Context, stage Stage) error {
	t := r.t
	if t.state.Stage != stage {
		// Entering a new stage: its own schedule and optimizer moments.
		if err := ResetOptimizer(t.vars); err != nil {
			return err
		}
		t.state.Stage, t.state.StageStep = stage, 0
	}
	// I-JEPA starts the EMA teacher as a copy of the student: at the start
	// of stage 2 (the stage that trains the predictor), once the predictor
	// variables exist (they do when stage 1 ran the same model; otherwise
	// right after the first step creates them).
	syncTeacher := stage == Stage2 && t.predictorOn() && t.state.StageStep == 0
	for t.state.StageStep < t.cfg.StepsPerStage {
		if err := ctx.Err(); err != nil {
			return r.interrupted(err)
		}
		// Noise depends only on the global step: resume replays it exactly.
		r.src.Seed(uint64(t.cfg.Seed), uint64(t.state.Step))
		if err := r.syncTeacher(&syncTeacher); err != nil {
			return err
		}
		vals, err := t.Step(r.rng)
		if err != nil {
			return fmt.Errorf("step %d: %w", t.state.Step+1, err)
		}
		if err := r.syncTeacher(&syncTeacher); err != nil {
			return err
		}
		if err := r.record(stage, vals); err != nil {
			return err
		}
	}
	return nil
}

// evaluate runs Config.Evaluate on the model just checkpointed at ckpt,
// logs its figures and keeps the checkpoint as the best when it is.
func (r *run) evaluate(stage Stage, ckpt string) error {
	t := r.t
	vals, err := t.cfg.Evaluate(r.ctx, t)
	if err != nil {
		return fmt.Errorf("evaluate at step %d: %w", t.state.Step, err)
	}
	figs := map[string]float64{}
	for k, v := range vals {
		if !strings.HasPrefix(k, "val_") {
			k = "val_" + k
		}
		figs[k] = v
	}
	if err := r.mlog.Write(Record{Step: t.state.Step, Stage: stage, StageStep: t.state.StageStep, Time: time.Now().UTC(), Metrics: figs}); err != nil {
		return err
	}
	t.log.Info("validation", zap.Int("step", t.state.Step), zap.Any("figures", figs))
	metric := t.cfg.BestMetric
	if metric == "" {
		metric = "val_success"
	}
	v, ok := figs[metric]
	if !ok || (r.haveBest && v <= r.best) {
		return nil
	}
	r.best, r.haveBest = v, true
	data, err := os.ReadFile(ckpt)
	if err != nil {
		return fmt.Errorf("best checkpoint: %w", err)
	}
	if err := writeAtomic(filepath.Join(t.cfg.OutDir, BestFile), data); err != nil {
		return err
	}
	info, _ := json.Marshal(map[string]any{"step": t.state.Step, "metric": metric, "value": v, "checkpoint": ckpt})
	return writeAtomic(filepath.Join(t.cfg.OutDir, BestInfoFile), info)
}

// writeAtomic writes data to path through a temp file and a rename.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// interrupted checkpoints unsaved progress and returns the cancellation.
func (r *run) interrupted(err error) error {
	if r.t.state.Step > r.saved {
		if p, serr := r.t.save(r.mlog); serr == nil {
			r.res.Checkpoint = p
		} else {
			err = errors.Join(err, serr)
		}
	}
	return err
}

// syncTeacher copies the student into the EMA teacher once, when pending
// and the teacher's variables exist.
func (r *run) syncTeacher(pending *bool) error {
	if !*pending || !r.t.teacherExists() {
		return nil
	}
	*pending = false
	return model.SyncTeacher(r.t.vars)
}

// record logs a step's values and checkpoints and plots on schedule.
func (r *run) record(stage Stage, vals map[string]float64) error {
	t, res := r.t, r.res
	if res.First == nil {
		res.First = vals
	}
	res.Last = vals
	res.Steps++
	if err := r.mlog.Write(Record{Step: t.state.Step, Stage: stage, StageStep: t.state.StageStep, Time: time.Now().UTC(),
		LR: vals["lr"], GradNorm: vals["grad_norm"], StepSec: vals["step_sec"], Losses: lossesOnly(vals), Metrics: figuresOnly(vals)}); err != nil {
		return err
	}
	if r.bar != nil {
		r.bar.Step(lossesOnly(vals))
	}
	stageEnd := t.state.StageStep == t.cfg.StepsPerStage
	evaluate := t.cfg.Evaluate != nil && t.cfg.EvaluateEvery > 0 && (t.state.Step%t.cfg.EvaluateEvery == 0 || stageEnd)
	if t.state.Step%t.cfg.CheckpointEvery == 0 || stageEnd || evaluate {
		p, err := t.save(r.mlog)
		if err != nil {
			return err
		}
		res.Checkpoint, r.saved = p, t.state.Step
	}
	if evaluate {
		if err := r.evaluate(stage, res.Checkpoint); err != nil {
			return err
		}
	}
	if t.cfg.PlotEvery > 0 && t.state.Step%t.cfg.PlotEvery == 0 {
		if err := t.plot(); err != nil {
			t.log.Warn("loss plot", zap.Error(err))
		}
	}
	return nil
}

// MetricInstanceErrorCM is the instance localisation error figure: the mean
// distance (cm) between the matched probes' reference points and their
// pseudo-label centroids (stage 1, rows with the instance module).
const MetricInstanceErrorCM = "instance_error_cm"

// isFigure reports whether a step value is a figure (plotted apart, never
// part of the loss): the localisation error and every validation figure.
func isFigure(k string) bool {
	return k == MetricInstanceErrorCM || k == MetricAnchorErrorCM || strings.HasPrefix(k, "val_")
}

// BestFile is the checkpoint with the best validation figure (Config.BestMetric),
// and BestInfoFile says which step it is and how good.
const (
	BestFile     = "best.vck"
	BestInfoFile = "best.json"
)

func lossesOnly(vals map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(vals))
	for k, v := range vals {
		if k != "lr" && k != "grad_norm" && k != "step_sec" && !isFigure(k) {
			out[k] = v
		}
	}
	return out
}

func figuresOnly(vals map[string]float64) map[string]float64 {
	var out map[string]float64
	for k, v := range vals {
		if isFigure(k) {
			if out == nil {
				out = map[string]float64{}
			}
			out[k] = v
		}
	}
	return out
}

func (t *Trainer) stageIndex() int {
	for i, s := range t.cfg.Stages {
		if s == t.state.Stage {
			return i
		}
	}
	return 0
}

func (t *Trainer) doneSteps() int {
	return t.stageIndex()*t.cfg.StepsPerStage + min(t.state.StageStep, t.cfg.StepsPerStage)
}

func (t *Trainer) save(mlog *MetricsLog) (string, error) {
	// Metrics first: after a crash the log never lags the checkpoint.
	if err := mlog.Flush(); err != nil {
		return "", err
	}
	mj, err := json.Marshal(t.cfg.Model)
	if err != nil {
		return "", fmt.Errorf("model config: %w", err)
	}
	t.state.Model = mj
	p, err := t.ckpt.Save(t.vars, t.state)
	if err != nil {
		return "", err
	}
	t.log.Debug("checkpoint", zap.String("path", p), zap.Int("step", t.state.Step))
	return p, nil
}

func (t *Trainer) plot() error {
	recs, err := ReadMetrics(filepath.Join(t.cfg.OutDir, MetricsFile))
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	return PlotLosses(recs, filepath.Join(t.cfg.OutDir, PlotFile), max(1, len(recs)/50))
}

// Spec is the sidecar for the trained model: the model's layout plus the
// dataset's normalization statistics and vocabulary.
func (t *Trainer) Spec() policy.Spec {
	s := t.cfg.Model.Spec()
	if src, ok := t.data.(SpecSource); ok {
		d := src.Spec()
		s.Vocabulary = d.Vocabulary
		s.ActionMean, s.ActionStd = d.ActionMean, d.ActionStd
		s.ProprioMean, s.ProprioStd = d.ProprioMean, d.ProprioStd
		if d.ControlHz > 0 {
			s.ControlHz = d.ControlHz
		}
		if d.ActionSpace != "" {
			s.ActionSpace = d.ActionSpace
		}
		if d.Encoder != nil {
			enc := *d.Encoder
			s.Encoder = &enc
		}
	}
	return s
}

func (t *Trainer) writeSpec() error {
	b, err := json.MarshalIndent(t.Spec(), "", "  ")
	if err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	p := filepath.Join(t.cfg.OutDir, SpecFile)
	if err := os.WriteFile(p+".tmp", b, 0o644); err != nil {
		return fmt.Errorf("write spec: %w", err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return fmt.Errorf("write spec: %w", err)
	}
	return nil
}

// buildExecs (re)creates the step executables for stage s.
func (t *Trainer) buildExecs(s Stage) error {
	if t.trainExec != nil && t.stage == s {
		return nil
	}
	if t.trainExec != nil {
		t.trainExec.Finalize()
	}
	if t.costExec != nil {
		t.costExec.Finalize()
		t.costExec = nil
	}
	if err := t.closeForwardPasses(); err != nil {
		t.log.Warn("closing the forward-pass sessions", zap.Error(err))
	}
	t.stage = s
	t.names = nil // set when the train graph is built
	vars := t.vars.Checked(false)
	match := t.matchingOn(s)
	var err error
	if match {
		t.costExec, err = mlctx.NewExec(t.backend, vars, func(ctx *mlctx.Context, p []*Node) *Node {
			return t.costGraph(ctx, s, p)
		})
		if err != nil {
			return fmt.Errorf("cost graph: %w", err)
		}
	}
	t.trainExec, err = mlctx.NewExec(t.backend, vars, func(ctx *mlctx.Context, p []*Node) []*Node {
		outs, err := t.trainGraph(ctx, s, t.stepInputsOf(p, s, match))
		if err != nil {
			panic(err)
		}
		t.names = outs.names
		return outs.nodes
	})
	if err != nil {
		return fmt.Errorf("train graph: %w", err)
	}
	return nil
}

// stepInputsOf names a step graph's parameters in stage s, the matching
// assignment last when withMatch (the train graph of a matching stage).
func (t *Trainer) stepInputsOf(p []*Node, s Stage, withMatch bool) stepInputs {
	return parseInputs(p, t.matchingOn(s), withMatch, t.completionIn(), t.cfg.Model.VisualFeatureDim > 0, t.cfg.Model.Anchors > 0)
}

// costGraph is the matching pass on the backend: the instance path in
// training mode (Model.Instances) and the Hungarian cost [B,Q,G].
func (t *Trainer) costGraph(ctx *mlctx.Context, s Stage, p []*Node) *Node {
	ctx.SetTraining(p[0].Graph(), true)
	in := t.stepInputsOf(p, s, false)
	out := t.model.Instances(ctx, in.Model)
	return matchCost(t.cfg.Loss, out.ClassLogits, out.Boxes, out.RefPoints, in.GTBoxes, in.GTBoxValid, in.GTCentroids)
}

// packBatch loads the samples at idx and packs them into a batch.
func (t *Trainer) packBatch(idx []int, rng *rand.Rand) (*Batch, error) {
	samples := make([]*Sample, len(idx))
	for i, j := range idx {
		smp, err := t.data.Sample(j)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		samples[i] = smp
	}
	return t.layout.Pack(samples, rng)
}

// namedOutputs are a train graph's scalar outputs with their names, kept
// together so the executable's outputs cannot be read under the wrong name.
type namedOutputs struct {
	names []string
	nodes []*Node
}

func (o *namedOutputs) add(name string, n *Node) {
	o.names = append(o.names, name)
	o.nodes = append(o.nodes, n)
}

// trainGraph is one optimizer step: forward, losses, AdamW, EMA teacher.
func (t *Trainer) trainGraph(ctx *mlctx.Context, s Stage, in stepInputs) (*namedOutputs, error) {
	g := in.Model.Images.Graph()
	ctx.SetTraining(g, true)
	w := t.cfg.Loss
	out := t.model.Forward(ctx, in.Model)
	var action *Node
	if t.cfg.Model.ActionHead == model.HeadFlow {
		if out.FlowVelocity == nil || out.FlowTarget == nil {
			return nil, errors.New("flow head returned no velocity/target")
		}
		action = losses.FlowMatching(out.FlowVelocity, out.FlowTarget, in.ActionValid)
	} else {
		action = losses.ActionL1(out.Actions, in.Actions, in.ActionValid)
	}
	total := MulScalar(action, w.Action)
	var outs namedOutputs
	outs.add("action", action)
	if t.matchingOn(s) {
		if out.ClassLogits == nil || out.MaskLogits == nil || out.RefPoints == nil {
			return nil, errors.New("instance module on but the model returned no instance outputs")
		}
		it := instanceLosses(w, out, in)
		total = Add(total, it.total(w))
		for _, l := range []struct {
			name string
			n    *Node
		}{{"focal", it.Focal}, {"box_l1", it.BoxL1}, {"giou", it.GIoU}, {"mask_ce", it.MaskCE}, {"dice", it.Dice}, {"center_3d", it.Center3D}} {
			outs.add(l.name, l.n)
		}
		outs.add(MetricInstanceErrorCM, it.LocalisationCM)
	}
	if out.AnchorPoints != nil && in.AnchorTargets != nil {
		at := anchorLoss(out.AnchorPoints, in.AnchorTargets, out.AnchorTurns, in.AnchorTurns, in.AnchorValid)
		total = Add(Add(total, MulScalar(at.L1, w.Anchor)), MulScalar(at.Turn, w.AnchorTurn))
		outs.add("anchor_l1", at.L1)
		outs.add("anchor_turn", at.Turn)
		outs.add(MetricAnchorErrorCM, at.ErrorCM)
	}
	predictor := s == Stage2 && t.predictorOn()
	if predictor {
		if out.PredictorPred == nil || out.PredictorTarget == nil || out.PredictorMask == nil {
			return nil, errors.New("predictor on but the model returned no predictor outputs")
		}
		pt := losses.Predictor(out.PredictorPred, out.PredictorTarget, out.PredictorMask, w.SmoothL1Beta, w.VarianceGamma)
		total = Add(total, MulScalar(pt.Total(), w.Predictor))
		outs.add("pred_smooth_l1", pt.SmoothL1)
		outs.add("pred_cosine", pt.Cosine)
		outs.add("pred_variance", pt.Variance)
	}
	outs.add("total", total)
	ApplyStage(ctx, s)
	st, err := t.cfg.optimizer().UpdateGraph(ctx, total)
	if err != nil {
		return nil, err
	}
	// The EMA update belongs in the graph whenever the model made a teacher,
	// even one whose values come only with this graph's first run (a run
	// that starts in stage 2 from fresh weights): a graph built without it
	// would never update the teacher for the rest of the stage.
	if predictor && t.teacherCreated() {
		if _, err := EMAUpdateGraph(ctx, g, model.ScopePredictorTeacher, model.ScopePredictorStudent, t.cfg.Model.EMAMomentum); err != nil {
			return nil, err
		}
	}
	outs.add("lr", st.LR)
	outs.add("grad_norm", st.GradNorm)
	return &outs, nil
}

// teacherExists reports whether the model's EMA-teacher variables exist
// and hold values (what copying the student into them needs).
func (t *Trainer) teacherExists() bool { return t.teacher(true) }

// teacherCreated reports whether the model created EMA-teacher variables,
// with values or not yet.
func (t *Trainer) teacherCreated() bool { return t.teacher(false) }

func (t *Trainer) teacher(withValue bool) bool {
	for v := range t.vars.IterVariables() {
		if strings.HasPrefix(v.Scope(), model.ScopePredictorTeacher) && (v.HasValue() || !withValue) {
			return true
		}
	}
	return false
}

// Step runs one optimizer step on the next batch and advances the state. It
// returns the scalar outputs by name plus "step_sec".
func (t *Trainer) Step(rng *rand.Rand) (map[string]float64, error) {
	t0 := time.Now()
	s := t.state.Stage
	if err := t.buildExecs(s); err != nil {
		return nil, err
	}
	idx, epoch, cursor := nextBatch(t.data.Len(), t.cfg.BatchSize, t.state.Seed, t.state.Epoch, t.state.Cursor)
	batch, err := t.packBatch(idx, rng)
	if err != nil {
		return nil, err
	}
	t.cfg.Augment.Apply(batch, t.layout, rng)
	match := t.matchingOn(s)
	args, err := batch.tensors(t.layout, match, t.completionIn())
	if err != nil {
		return nil, err
	}
	if match {
		cost, err := t.matchCost(args)
		if err != nil {
			return nil, err
		}
		b, q, g := batch.B, t.cfg.Model.Probes, t.layout.MaxInstances
		m := make([]float32, b*q*g)
		if err := t.matcher.Match(cost, b, q, g, batch.Counts, m); err != nil {
			return nil, err
		}
		args = append(args, tensors.FromFlatDataAndDimensions(m, b, q, g))
	}
	feats, err := t.frozenFeatures(args)
	if err != nil {
		return nil, err
	}
	var outs []*tensors.Tensor
	if feats != nil {
		outs, err = t.frozenExec.Exec(append(args, feats...)...)
	} else {
		outs, err = t.trainExec.Exec(args...)
	}
	if err != nil {
		return nil, err
	}
	t.stepRan = true
	if len(outs) != len(t.names) {
		return nil, fmt.Errorf("train graph returned %d outputs, want %d", len(outs), len(t.names))
	}
	vals := make(map[string]float64, len(outs)+1)
	for i, o := range outs {
		vals[t.names[i]] = float64(o.Value().(float32))
	}
	if math.IsNaN(vals["total"]) || math.IsInf(vals["total"], 0) {
		return nil, fmt.Errorf("non-finite loss %v (losses %v)", vals["total"], vals)
	}
	vals["step_sec"] = time.Since(t0).Seconds()
	t.state.Step++
	t.state.StageStep++
	t.state.Epoch, t.state.Cursor = epoch, cursor
	t.state.LastLoss = vals["total"]
	return vals, nil
}

// matchCost runs the matching pass where Config.ForwardRuntime says: in ONNX
// Runtime or on the training backend. The stage's first step always runs
// wholly on the backend, whose graphs create and initialize the model's
// variables as they always did, so a run starts from the same weights
// either way; ONNX Runtime takes over from the second step, exported with
// the weights as inputs.
//
// Both build only the instance path (Model.Instances). Before there was a
// choice the backend's pass built the whole forward graph, and in rows B
// and C that drew (and discarded) a predictor mask from the context's
// random stream every stage-1 step: stage 1's losses are bit-identical to
// that code (row C, the bundled model's 1,000 steps), while stage 2's masks
// now come from another point of the stream.
func (t *Trainer) matchCost(args []any) ([]float32, error) {
	err := t.trySetUp(&t.ortTried, "matching pass", func() (err error) {
		t.ortMatch, err = newMatchingPass(t, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	if t.ortMatch != nil {
		if err := t.ortMatch.run(args); err != nil {
			return nil, fmt.Errorf("matching cost: %w", err)
		}
		return t.ortMatch.output(0), nil
	}
	costT, err := t.costExec.Exec1(args...)
	if err != nil {
		return nil, fmt.Errorf("matching cost: %w", err)
	}
	return tensors.MustCopyFlatData[float32](costT), nil
}

// trySetUp sets a forward-only pass up in ONNX Runtime once per stage,
// after the stage's first step has run on the backend, as
// Config.ForwardRuntime allows: a failure is the step's error under
// ForwardORT and leaves the pass on the backend, logged, under ForwardAuto.
func (t *Trainer) trySetUp(tried *bool, what string, setUp func() error) error {
	rt := t.forwardRuntime()
	if *tried || !t.stepRan || rt == ForwardGoMLX {
		return nil
	}
	*tried = true
	switch err := setUp(); {
	case err == nil:
		t.log.Info(what + " runs in ONNX Runtime")
	case rt == ForwardORT:
		return err
	default:
		t.log.Info(what+" runs on the training backend", zap.Error(err))
	}
	return nil
}

// forwardRuntime is Config.ForwardRuntime with its default.
func (t *Trainer) forwardRuntime() string {
	if t.cfg.ForwardRuntime == "" {
		return ForwardAuto
	}
	return t.cfg.ForwardRuntime
}

// frozenFeatures returns, in stage 2 once its frozen modules run in ONNX
// Runtime, their outputs on this step's arguments; nil when the step runs
// the whole graph on the backend. As for the matching pass, the stage's
// first step runs on the backend, and ONNX Runtime takes over after it.
func (t *Trainer) frozenFeatures(args []any) ([]any, error) {
	if t.stage != Stage2 {
		return nil, nil
	}
	if err := t.trySetUp(&t.frozenTried, "stage 2's frozen modules", func() error { return t.setUpFrozen(args) }); err != nil {
		return nil, err
	}
	if t.ortFrozen == nil {
		return nil, nil
	}
	if err := t.ortFrozen.run(args); err != nil {
		return nil, err
	}
	return t.ortFrozen.outputTensors(), nil
}

// setUpFrozen exports the frozen modules and builds the step graph that
// reads their outputs after the step's own arguments.
func (t *Trainer) setUpFrozen(args []any) error {
	f, err := newFrozenPass(t, args)
	if err != nil {
		return err
	}
	n, s, cfg := len(args), t.stage, t.cfg.Model
	exec, err := mlctx.NewExec(t.backend, t.vars.Checked(false), func(ctx *mlctx.Context, p []*Node) []*Node {
		in := t.stepInputsOf(p[:n], s, false)
		frozen, err := model.FrozenFrom(cfg, p[n:])
		if err != nil {
			panic(err)
		}
		in.Model.Frozen = frozen
		outs, err := t.trainGraph(ctx, s, in)
		if err != nil {
			panic(err)
		}
		if !slices.Equal(outs.names, t.names) {
			panic(fmt.Errorf("step outputs %v, want %v", outs.names, t.names))
		}
		return outs.nodes
	})
	if err != nil {
		return errors.Join(fmt.Errorf("frozen step graph: %w", err), f.close())
	}
	t.ortFrozen, t.frozenExec = f, exec
	return nil
}

// checkEncoder: a model reading frozen-encoder features needs a dataset that
// names the encoder (for the sidecar) with the model's feature width.
func checkEncoder(cfg model.Config, data Dataset) error {
	var enc *policy.EncoderSpec
	if src, ok := data.(SpecSource); ok {
		enc = src.Spec().Encoder
	}
	switch {
	case cfg.VisualFeatureDim > 0 && enc == nil:
		return fmt.Errorf("training: the model reads %d-dim patch features but the dataset names no encoder", cfg.VisualFeatureDim)
	case enc != nil && enc.FeatureDim != cfg.VisualFeatureDim:
		return fmt.Errorf("training: the dataset's encoder %s gives %d-dim features but the model reads %d", enc.Path, enc.FeatureDim, cfg.VisualFeatureDim)
	}
	return nil
}
