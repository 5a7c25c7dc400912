// Command vla3d-train trains the 3DVLA policy on recordings (ROS 1 bags or
// MCAP, e.g. from `vla3d-sim record`) with the paper's two-stage schedule,
// and exports trained runs to ONNX.
//
//	vla3d-train [train] -data demos/ -out run/ [-row C] [-stage both] [-steps 300] [-encoder dinov2.onnx]
//	vla3d-train export -out run/ [-onnx run/model.onnx]
//	vla3d-train bench -data demos/ [-rows baseline,C] [-bench-steps 5]
//
// Training resumes from the newest good checkpoint in -out; interrupt it with
// Ctrl-C to checkpoint and stop (exit status 130; a second Ctrl-C exits at
// once, without the checkpoint).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/policy/encoder"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/training"
)

const usage = `vla3d-train: two-stage 3DVLA training from recordings, and ONNX export.

Usage:
  vla3d-train [train] -data demos/ -out run/ [flags]   train (resumes from run/'s newest checkpoint)
  vla3d-train export -out run/ [-onnx run/model.onnx]  export a trained run to ONNX
  vla3d-train bench -data demos/ [-rows baseline,C]    steps/s, memory, FLOPs per ablation row

SIGINT/SIGTERM checkpoint and stop training; a second signal exits at once.
Exit status: 0 on success or -h, 1 on an error, 2 on a usage error, 128+n
when interrupted by signal n (130 for Ctrl-C).

Flags of %s:
`

func main() {
	// The training set is one large, long-lived heap of pointer-free sample
	// buffers, so Go's default GOGC=100 lets the heap reach twice its size
	// before a collection (9.6 GB resident for 12,000 samples of 3 cameras at
	// 96x96). A lower target costs little (little of it is scanned) and
	// fits more samples, DAgger rounds in particular. $GOGC still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(cli.Main("vla3d-train", run))
}

// gcPercent is the trainer's garbage-collection target (see main).
const gcPercent = 25

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	w := stdio{stdout: stdout, stderr: stderr}
	if len(args) > 0 && args[0] == "export" {
		return runExport(args[1:], w)
	}
	if len(args) > 0 && args[0] == "bench" {
		return runBench(ctx, args[1:], w)
	}
	if len(args) > 0 && args[0] == "train" {
		args = args[1:]
	}
	return runTrain(ctx, args, w)
}

// stdio are the writers a mode prints to: help and results to stdout, logs
// and the progress bar to stderr.
type stdio struct{ stdout, stderr io.Writer }

// newFlags is a mode's flag set with the usage header and -log-level (and
// its -debug alias).
func newFlags(mode string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("vla3d-train "+mode, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), usage, fs.Name())
		fs.PrintDefaults()
	}
	return fs, cli.LogFlags(fs, cli.LogConf{DebugAlias: true})
}

type trainFlags struct {
	cfg        training.Config
	data       string
	cache      string
	row        string
	stage      string
	head       string
	maxSamples int
	imageSize  int
	quiet      bool
	logLevel   *string
	ortLib     *string
	completion string
	detector   string
	detScore   float64
	detLogits  bool
	encoder    string
	encNorm    string
	gripJoint  string
	gripOpen   float64
	gripClosed float64
	nodeConfig string
	set        map[string]bool // flags given on the command line
}

// defaultAnchors is -anchors' default: grasp and place.
const defaultAnchors = 2

func parseTrain(mode string, args []string, stdout io.Writer, extra func(*flag.FlagSet)) (*trainFlags, error) {
	f := &trainFlags{cfg: training.DefaultConfig()}
	c := &f.cfg
	// Trained policies see through their anchors (README, Measured); the
	// paper's plain rows are -anchors 0.
	c.Model.Anchors = defaultAnchors
	// Light and sensor noise vary on a robot (the simulator's light and
	// noise splits test for it); augmentation is opt-in (-augment 0.5)
	// until its effect on those splits is measured.
	c.Augment = training.DefaultAugment()
	c.Augment.Prob = 0
	fs, logLevel := newFlags(mode)
	f.logLevel, f.ortLib = logLevel, cli.ORTLibFlag(fs)
	if extra != nil {
		extra(fs)
	}
	fs.StringVar(&f.data, "data", "", "recordings: comma-separated .bag/.mcap files or directories (required)")
	fs.StringVar(&c.OutDir, "out", "run", "run directory: checkpoints/, metrics.jsonl, loss.png, model.json")
	fs.StringVar(&f.cache, "cache", "", "preprocessed-sample cache directory (default <out>/cache)")
	fs.StringVar(&f.row, "row", "C", "ablation row: baseline, A, B or C")
	fs.StringVar(&f.stage, "stage", "both", "stages to run: 1, 2 or both")
	fs.StringVar(&f.head, "head", c.Model.ActionHead, "action head: l1 or flow")
	fs.IntVar(&c.StepsPerStage, "steps", c.StepsPerStage, "optimizer steps per stage")
	fs.IntVar(&c.BatchSize, "batch", c.BatchSize, "batch size")
	fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate")
	fs.Float64Var(&c.MinLR, "min-lr", c.MinLR, "final learning rate of the cosine schedule")
	fs.IntVar(&c.WarmupSteps, "warmup", c.WarmupSteps, "linear warm-up steps per stage")
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "AdamW decoupled weight decay")
	fs.Float64Var(&c.ClipNorm, "clip", c.ClipNorm, "global gradient-norm clip (0 = off)")
	fs.IntVar(&c.Model.Width, "width", c.Model.Width, "transformer width d")
	fs.IntVar(&c.Model.Heads, "heads", c.Model.Heads, "attention heads")
	fs.IntVar(&c.Model.Cameras, "cameras", c.Model.Cameras, "cameras V (recordings' cameras, sorted by name)")
	fs.IntVar(&f.imageSize, "image-size", c.Model.ImageWidth, "model image width = height (multiple of 32)")
	fs.IntVar(&c.Model.PatchSize, "patch", c.Model.PatchSize, "patch size (8, 16 or 32)")
	fs.IntVar(&c.Model.StemChannels, "stem", c.Model.StemChannels, "non-linear visual stem: channels per 4x4 sub-patch before the patch embedding (0 = one linear patch embedding)")
	fs.StringVar(&c.InitFrom, "init", "", "warm start from a trained run directory (same vocabulary and sizes, e.g. a Baseline run, or the run whose policy drove DAgger recordings): its base policy, action expert and anchors start this run; the other 3D modules start fresh, as the paper plugs them into a trained VLA")
	fs.IntVar(&c.Model.Anchors, "anchors", c.Model.Anchors, "instructed instance anchors: reference points started from the observed points the instruction picks, taught the demonstration's grasp and release keyframes and read by the action expert (0 = none; 2 = grasp and place)")
	fs.Float64Var(&c.Augment.Prob, "augment", c.Augment.Prob, "chance that a training sample's observation is perturbed (light gain and tint per camera, pixel and depth noise, as training.DefaultAugment; e.g. 0.5); 0 = off")
	fs.Float64Var(&c.Loss.Anchor, "anchor-weight", c.Loss.Anchor, "weight of the anchors' keyframe L1 (metres)")
	fs.IntVar(&c.Model.Horizon, "horizon", c.Model.Horizon, "action chunk length H_a")
	fs.IntVar(&c.Model.Probes, "probes", c.Model.Probes, "instance probes Q")
	fs.IntVar(&c.Model.FusionLayers, "fusion-layers", c.Model.FusionLayers, "Multi-View Spatial Fusion encoder layers")
	fs.IntVar(&c.Model.InstanceLayers, "instance-layers", c.Model.InstanceLayers, "instance module decoder layers")
	fs.IntVar(&c.Model.PredictorLayers, "predictor-layers", c.Model.PredictorLayers, "predictor context-encoder layers")
	fs.IntVar(&c.MaxInstances, "max-instances", c.MaxInstances, "pseudo ground-truth instances per sample")
	fs.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "steps between checkpoints")
	fs.IntVar(&c.KeepCheckpoints, "keep", c.KeepCheckpoints, "checkpoints kept")
	fs.IntVar(&c.PlotEvery, "plot-every", c.PlotEvery, "steps between loss-plot refreshes")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "seed (initialisation, data order, noise)")
	fs.StringVar(&c.Backend, "backend", c.Backend, "GoMLX backend config, e.g. go:parallelism=-1 (pure Go, the CPU default) or xla:cuda")
	fs.StringVar(&c.ForwardRuntime, "forward-runtime", c.ForwardRuntime, "where the forward-only passes run (stage 1's matching pass, stage 2's frozen modules): auto (ONNX Runtime on the CPU when it loads, else the training backend), ort or gomlx (keep them on a GPU backend)")
	fs.IntVar(&f.maxSamples, "max-samples", 0, "use at most this many samples (0 = all)")
	fs.StringVar(&f.completion, "completion", training.CompletionFromLabels,
		"predictor completion coordinates: labels (from instance masks, when the recordings have any) or derived (in-graph from instance references)")
	// The observed gripper state must be what the node will feed the model:
	// the defaults match launch/vla3d_node.yaml's execution.gripper_joint.
	fs.StringVar(&f.gripJoint, "gripper-joint", "finger_left", "joint_states joint whose position is the observed gripper state (as the node's execution.gripper_joint); empty or absent from a recording: the previous gripper command")
	fs.Float64Var(&f.gripOpen, "gripper-open", 0, "that joint's position when open (observed 0)")
	fs.Float64Var(&f.gripClosed, "gripper-closed", 0.04, "that joint's position when closed (observed 1)")
	fs.StringVar(&f.nodeConfig, "node-config", "", "the node's YAML config (launch/vla3d_node.yaml): recordings are read with its cameras, topics, gripper joint and observation rules, as the node will see the robot; -gripper-* flags given override it")
	fs.StringVar(&f.detector, "detector", "", "ONNX instance detector for pseudo labels (input \"image\" [1,3,H,W]; outputs \"boxes\", \"scores\", \"masks\"); default: the recordings' instance labels")
	fs.Float64Var(&f.detScore, "detector-score", 0.5, "detector score threshold")
	fs.BoolVar(&f.detLogits, "detector-mask-logits", false, "the detector's masks are logits, not probabilities")
	fs.StringVar(&f.encoder, "encoder", "", "frozen ONNX visual encoder (input \"image\" [1,3,H,W]; output \"features\" [1,N,Dv] or [1,Dv,h,w]) whose patch features replace the trainable patch encoder; default: trainable")
	fs.StringVar(&f.encNorm, "encoder-normalize", encoder.NormalizeNone, "encoder input normalisation: \"\" (RGB in [0,1]) or imagenet")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	if err := cli.Parse(fs, args, stdout); err != nil {
		return nil, err
	}
	usageErr := func(err error) error { return cli.Usage(fs.Name(), err) }
	if fs.NArg() > 0 {
		return nil, usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	f.set = cli.GivenFlags(fs)
	if f.data == "" {
		return nil, usageErr(errors.New("-data is required"))
	}
	if f.completion != training.CompletionFromLabels && f.completion != training.CompletionDerivedInGraph {
		return nil, usageErr(fmt.Errorf("-completion %q: want %s or %s", f.completion, training.CompletionFromLabels, training.CompletionDerivedInGraph))
	}
	c.Model.ImageWidth, c.Model.ImageHeight = f.imageSize, f.imageSize
	// Fewer probes than the default keep fewer instance tokens (and query
	// completions for at most that many instances).
	c.Model.KeepInstances = min(c.Model.KeepInstances, c.Model.Probes)
	c.Model.CompletionInstances = min(c.Model.CompletionInstances, c.Model.KeepInstances)
	var err error
	if c.Model, err = c.Model.Row(f.row); err != nil {
		return nil, usageErr(err)
	}
	c.Model.ActionHead = f.head
	switch f.stage {
	case "1":
		c.Stages = []training.Stage{training.Stage1}
	case "2":
		c.Stages = []training.Stage{training.Stage2}
	case "both":
		c.Stages = []training.Stage{training.Stage1, training.Stage2}
	default:
		return nil, usageErr(fmt.Errorf("-stage %q: want 1, 2 or both", f.stage))
	}
	if c.WarmupSteps > c.StepsPerStage {
		c.WarmupSteps = c.StepsPerStage / 4
	}
	if f.cache == "" {
		f.cache = filepath.Join(c.OutDir, "cache")
	}
	return f, nil
}

// setup applies -ort-lib (the library of -detector and -encoder) and builds
// the logger.
func (f *trainFlags) setup(stderr io.Writer) (*zap.Logger, error) {
	if _, err := cli.UseORTLib(cli.ORTLibConf{Flag: *f.ortLib}); err != nil {
		return nil, err
	}
	return cli.Logger(*f.logLevel, stderr)
}

func runTrain(ctx context.Context, args []string, w stdio) error {
	var val valFlags
	f, err := parseTrain("train", args, w.stdout, val.register)
	if err != nil {
		return err
	}
	log, err := f.setup(w.stderr)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	data, err := loadData(ctx, f, log)
	if err != nil {
		return err
	}
	cfg := f.cfg
	cfg.Log = log
	if !f.quiet {
		cfg.Progress = w.stderr
	}
	if val.every > 0 {
		if cfg.Evaluate, err = val.hook(log); err != nil {
			return cli.Usage("vla3d-train", err)
		}
		cfg.EvaluateEvery = val.every
	}
	tr, err := training.New(cfg, data)
	if err != nil {
		return err
	}
	defer func() {
		if err := tr.Close(); err != nil {
			log.Warn("closing the trainer", zap.Error(err))
		}
	}()
	res, err := tr.Run(ctx)
	if err != nil {
		return err
	}
	log.Info("training done", zap.Int("step", res.State.Step), zap.Int("steps_run", res.Steps),
		zap.Float64("steps_per_sec", res.StepsPerSec), zap.Any("first_losses", res.First),
		zap.Any("last_losses", res.Last), zap.String("checkpoint", res.Checkpoint), zap.String("plot", res.PlotPath))
	return nil
}

func runExport(args []string, w stdio) error {
	fs, logLevel := newFlags("export")
	out := fs.String("out", "run", "run directory written by training")
	path := fs.String("onnx", "", "ONNX file to write (default <out>/model.onnx; the sidecar .json goes next to it)")
	best := fs.Bool("best", false, "export the best checkpoint by validation (<out>/best.vck, see train -val-every) instead of the newest")
	if err := cli.Parse(fs, args, w.stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usage(fs.Name(), fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	log, err := cli.Logger(*logLevel, w.stderr)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	if *path == "" {
		*path = filepath.Join(*out, "model.onnx")
	}
	log.Debug("exporting", zap.String("run", *out), zap.String("onnx", *path))
	load := training.LoadTrained
	if *best {
		load = training.LoadBest
	}
	t, err := load(*out)
	if err != nil {
		return err
	}
	if err := onnx.ExportPolicy(t.Vars, t.Model, t.Spec, *path); err != nil {
		return err
	}
	fmt.Fprintf(w.stdout, "exported step %d (stage %d) to %s\n", t.State.Step, t.State.Stage, *path)
	return nil
}

// recordings is how the recordings are read: the node's config when
// given, with the -gripper-* flags on top where they were set (or always,
// without a node config: their defaults are the node's).
func (f *trainFlags) recordings() (dataset.Config, error) {
	dc := dataset.DefaultConfig()
	if f.nodeConfig != "" {
		nc, err := node.LoadConfig(f.nodeConfig)
		if err != nil {
			return dc, err
		}
		dc = dc.WithObservation(nc.Observe())
	}
	g := &dc.Gripper
	if f.nodeConfig == "" || f.set["gripper-joint"] {
		g.Joint = f.gripJoint
	}
	if f.nodeConfig == "" || f.set["gripper-open"] {
		g.Open = f.gripOpen
	}
	if f.nodeConfig == "" || f.set["gripper-closed"] {
		g.Closed = f.gripClosed
	}
	return dc, g.Validate()
}

// loadData reads the recordings (pseudo labels from the recorded instance
// ids or -detector) and sets the model's completion source from
// -completion and what the recordings hold.
func loadData(ctx context.Context, f *trainFlags, log *zap.Logger) (_ *training.MemoryDataset, err error) {
	var det training.Detector
	if f.detector != "" {
		d, err := training.LoadONNXDetector(f.detector, training.ONNXDetectorOptions{
			ScoreThreshold: float32(f.detScore), MaskLogits: f.detLogits, Log: log})
		if err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, d.Close()) }()
		det = d
	}
	var enc *encoder.Encoder
	if f.encoder != "" {
		// The encoder fixes the model's feature width; it runs once per
		// sample while loading, so it is closed before training starts.
		e, err := encoder.Load(f.encoder, encoder.Options{Normalize: f.encNorm,
			ImageHeight: f.cfg.Model.ImageHeight, ImageWidth: f.cfg.Model.ImageWidth,
			Patches: f.cfg.Model.Patches(), Logger: log})
		if err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, e.Close()) }()
		enc = e
		f.cfg.Model.VisualFeatureDim = e.FeatureDim()
	}
	rec, err := f.recordings()
	if err != nil {
		return nil, err
	}
	perInst := 0
	if f.completion == training.CompletionFromLabels {
		perInst = f.cfg.Model.CompletionPerInst
	}
	data, err := training.LoadBags(ctx, training.BagOptions{
		Paths: strings.Split(f.data, ","), CacheDir: f.cache,
		Layout: training.LayoutFor(f.cfg.Model, f.cfg.MaxInstances), Spec: f.cfg.Model.Spec(),
		IgnoreLabels: []uint16{contract.LabelRobot}, MinPixels: 4, MaxSamples: f.maxSamples,
		Detector: det, CompletionPerInstance: perInst, Encoder: enc, Log: log,
		Recordings: rec,
	})
	if err != nil {
		return nil, err
	}
	if f.cfg.Model.CompletionSource, err = training.ResolveCompletionSource(f.completion, data); err != nil {
		return nil, err
	}
	log.Info("completion coordinates", zap.String("requested", f.completion), zap.String("source", f.cfg.Model.CompletionSource))
	return data, nil
}

// runBench measures training steps/s, peak memory, forward FLOPs/sample and
// parameter counts for several ablation rows in one process.
func runBench(ctx context.Context, args []string, w stdio) error {
	var rows, stages, runtimes, cpuProfile, memProfile string
	var steps int
	f, err := parseTrain("bench", args, w.stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&rows, "rows", "baseline,C", "ablation rows to measure, in order (ratios are against the first)")
		fs.IntVar(&steps, "bench-steps", 5, "measured steps per row (after two unmeasured ones that compile and export)")
		fs.StringVar(&stages, "bench-stage", "1", "stages to measure: 1, 2 or 1,2")
		fs.StringVar(&runtimes, "bench-runtimes", "", "forward runtimes to measure each row with, in turn (e.g. gomlx,ort: the speed-up of running the forward-only passes in ONNX Runtime, measured side by side); default: -forward-runtime")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the whole benchmark to this file (go tool pprof -top)")
		fs.StringVar(&memProfile, "memprofile", "", "write a pprof allocation profile at the end to this file")
	})
	if err != nil {
		return err
	}
	var sts []training.Stage
	for _, s := range strings.Split(stages, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return cli.Usage("vla3d-train bench", fmt.Errorf("-bench-stage %q: %w", stages, err))
		}
		st, err := training.ParseStage(n)
		if err != nil {
			return cli.Usage("vla3d-train bench", err)
		}
		sts = append(sts, st)
	}
	log, err := f.setup(w.stderr)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	// Labels are needed for any row with the instance module.
	f.cfg.Model, err = f.cfg.Model.Row("C")
	if err != nil {
		return err
	}
	data, err := loadData(ctx, f, log)
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		pf, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rts := []string{f.cfg.ForwardRuntime}
	if runtimes != "" {
		rts = strings.Split(runtimes, ",")
	}
	var res []training.BenchResult
	for _, st := range sts {
		for _, row := range strings.Split(rows, ",") {
			for _, rt := range rts {
				cfg := f.cfg
				cfg.ForwardRuntime = strings.TrimSpace(rt)
				if err := cfg.Validate(); err != nil {
					return cli.Usage("vla3d-train bench", err)
				}
				r, err := training.Bench(ctx, cfg, []string{row}, st, steps, data)
				if err != nil {
					return err
				}
				res = append(res, r...)
			}
		}
	}
	enc := json.NewEncoder(w.stdout)
	for _, r := range res {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	fmt.Fprint(w.stdout, training.BenchTable(res))
	if memProfile != "" {
		mf, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		defer mf.Close()
		if err := pprof.Lookup("allocs").WriteTo(mf, 0); err != nil {
			return err
		}
	}
	return nil
}
