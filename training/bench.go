package training

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
)

// benchWarmup is the number of steps Bench runs before it measures.
const benchWarmup = 2

// BenchResult is the training cost of one ablation row.
type BenchResult struct {
	Row   string `json:"row"`
	Stage Stage  `json:"stage"`
	// ForwardRuntime is where the step's forward-only passes ran
	// (Config.ForwardRuntime: auto, ort or gomlx).
	ForwardRuntime string         `json:"forward_runtime"`
	Batch          int            `json:"batch"`
	Steps          int            `json:"steps"`         // measured steps (after benchWarmup unmeasured ones)
	StepsPerSec    float64        `json:"steps_per_sec"` // optimizer steps per second
	CompileSec     float64        `json:"compile_sec"`   // the unmeasured steps: graph build, compile, export, run
	PeakRSSMiB     float64        `json:"peak_rss_mib"`  // process peak resident memory during the row
	FwdFLOPs       int64          `json:"forward_flops_per_sample"`
	Params         map[string]int `json:"params"` // per module scope
	BaseParams     int            `json:"base_params"`
	AddedParams    int            `json:"added_params"` // the 3D modules
	// StepFLOPs is the arithmetic of one training step per sample, counted
	// on the graphs the step runs (StepFLOPs): matching pass, forward in
	// training mode with its heads, losses, gradients, optimizer.
	StepFLOPs int64 `json:"step_flops_per_sample"`
	// SamplesPerSec is StepsPerSec x Batch; TrainGFLOPs the training rate
	// achieved, StepFLOPs x SamplesPerSec.
	SamplesPerSec float64 `json:"samples_per_sec"`
	TrainGFLOPs   float64 `json:"train_gflops"`
	// ModuleFLOPs splits FwdFLOPs by paper module (policy/model.RowCost).
	ModuleFLOPs map[string]int64 `json:"module_flops,omitempty"`
	// ForwardOps is the number of ops of the batch-1 inference graph: on a
	// CPU runtime each costs a dispatch, which for graphs of small tensors
	// weighs as much as the FLOPs.
	ForwardOps int `json:"forward_ops,omitempty"`
	// ORTLatencyMS and ORTGFLOPs are the same model's batch-1 forward pass
	// exported to ONNX and run by ONNX Runtime on the CPU (one thread), when
	// the runtime is installed.
	ORTLatencyMS float64 `json:"ort_latency_ms,omitempty"`
	ORTGFLOPs    float64 `json:"ort_gflops,omitempty"`
}

// Bench trains each row of rows for steps+benchWarmup steps of stage (the
// warm-up steps compile and export and are timed separately) on data, in
// this process one after the other, and reports steps/s, peak memory (VmHWM,
// reset between rows where the kernel allows), the step's and the inference
// graph's FLOPs per sample and parameter counts.
func Bench(ctx context.Context, base Config, rows []string, stage Stage, steps int, data Dataset) ([]BenchResult, error) {
	var out []BenchResult
	for _, row := range rows {
		cfg := base
		var err error
		if cfg.Model, err = base.Model.Row(row); err != nil {
			return nil, err
		}
		cfg.Stages = []Stage{stage}
		cfg.StepsPerStage = steps + benchWarmup
		cfg.WarmupSteps = 0
		cfg.CheckpointEvery = 1 << 30
		cfg.PlotEvery = 0
		cfg.Progress = nil
		if cfg.OutDir, err = os.MkdirTemp("", "vla3d-bench-"); err != nil {
			return nil, fmt.Errorf("bench dir: %w", err)
		}
		res, err := benchRow(ctx, cfg, row, stage, steps, data)
		_ = os.RemoveAll(cfg.OutDir)
		if err != nil {
			return nil, fmt.Errorf("bench row %s: %w", row, err)
		}
		out = append(out, res)
	}
	return out, nil
}

func benchRow(ctx context.Context, cfg Config, row string, stage Stage, steps int, data Dataset) (res BenchResult, err error) {
	res = BenchResult{Row: row, Stage: stage, ForwardRuntime: cfg.ForwardRuntime, Batch: cfg.BatchSize, Steps: steps}
	resetPeakRSS()
	tr, err := New(cfg, data)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, tr.Close()) }()
	src := rand.New(rand.NewPCG(uint64(cfg.Seed), 1))
	if err := benchStart(tr, stage, src); err != nil {
		return res, err
	}
	// Two unmeasured steps: the first compiles the step graph, the second
	// exports and loads the ONNX Runtime passes (when on) and compiles the
	// graph that reads them.
	t0 := time.Now()
	for range benchWarmup {
		if _, err := tr.Step(src); err != nil {
			return res, err
		}
	}
	res.CompileSec = time.Since(t0).Seconds()
	t1 := time.Now()
	for range steps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if _, err := tr.Step(src); err != nil {
			return res, err
		}
	}
	res.StepsPerSec = float64(steps) / time.Since(t1).Seconds()
	res.PeakRSSMiB = peakRSSMiB()
	flops, err := ForwardFLOPs(tr)
	if err != nil {
		return res, err
	}
	res.FwdFLOPs = flops
	res.SamplesPerSec = res.StepsPerSec * float64(cfg.BatchSize)
	sc, err := StepFLOPs(tr, stage)
	if err != nil {
		return res, err
	}
	res.StepFLOPs = sc.FLOPsPerSample()
	res.TrainGFLOPs = float64(res.StepFLOPs) * res.SamplesPerSec / 1e9
	if rc, err := model.RowCost(tr.backend, cfg.Model, row); err == nil {
		res.ModuleFLOPs = rc.ModuleFLOPs
		for op, n := range rc.Cost.OpCounts {
			if op != "Parameter" && op != "Constant" {
				res.ForwardOps += n
			}
		}
	}
	if ms, err := ortForwardMS(tr); err == nil {
		res.ORTLatencyMS = ms
		res.ORTGFLOPs = float64(flops) / (ms / 1e3) / 1e9
	}
	res.Params = model.ParamCounts(tr.Variables())
	delete(res.Params, OptimizerScope)
	rep := model.ModuleReport{Row: row, Params: res.Params}
	res.BaseParams, res.AddedParams = rep.BaseParams(), rep.AddedParams()
	return res, nil
}

// benchStart readies tr to measure stage. A stage-2 measurement starts after
// one stage-1 step, as a real run enters stage 2: every variable has its
// value before stage 2's step graphs are built.
func benchStart(tr *Trainer, stage Stage, rng *rand.Rand) error {
	tr.state = State{Stage: Stage1, Seed: tr.cfg.Seed}
	if stage == Stage2 {
		if _, err := tr.Step(rng); err != nil {
			return err
		}
		tr.state.Stage, tr.state.StageStep = Stage2, 0
	}
	return nil
}

// ForwardFLOPs counts the inference graph of the trainer's model at batch 1
// with the model package's counter (matmul 2·M·N·K plus one op per output
// element of other arithmetic).
func ForwardFLOPs(tr *Trainer) (int64, error) {
	cfg := tr.cfg.Model
	g := NewGraph(tr.backend, "forward_flops")
	f32 := func(name string, dims ...int) *Node { return Parameter(g, name, shapes.Make(dtypes.Float32, dims...)) }
	v, n := cfg.Cameras, cfg.Patches()
	in := model.Inputs{
		Images:      f32("images", 1, v, 3, cfg.ImageHeight, cfg.ImageWidth),
		Points:      f32("points", 1, v, n, 3),
		PointValid:  f32("point_valid", 1, v, n),
		Intrinsics:  f32("intrinsics", 1, v, 4),
		CamFromBase: f32("cam_from_base", 1, v, 12),
		Proprio:     f32("proprio", 1, cfg.ProprioDim),
		Instruction: Parameter(g, "instruction", shapes.Make(dtypes.Int64, 1, cfg.InstructionLen)),
		Noise:       f32("noise", 1, cfg.Horizon, cfg.ActionDim),
	}
	if err := buildGraph(func() {
		vars := tr.vars.Checked(false)
		vars.SetTraining(g, false)
		tr.model.Forward(vars, in)
	}); err != nil {
		return 0, fmt.Errorf("forward flops: %w", err)
	}
	cost, err := model.CountGraph(g)
	if err != nil {
		return 0, fmt.Errorf("forward flops: %w", err)
	}
	return cost.FLOPs(), nil
}

// buildGraph runs a GoMLX graph-building function, turning its panics (the
// library's error convention while building) into an error.
func buildGraph(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	fn()
	return nil
}

// resetPeakRSS asks Linux to restart VmHWM accounting ("5" to clear_refs);
// without it the reported peak is the process peak so far.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMiB reads VmHWM from /proc/self/status (0 when unavailable).
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				kb, err := strconv.ParseFloat(fields[0], 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}

// ortForwardMS exports the trainer's model to ONNX and times ONNX Runtime's
// batch-1 forward pass on the CPU (one thread): the fastest of 50 runs, the
// figure least moved by other work on a shared machine.
func ortForwardMS(tr *Trainer) (float64, error) {
	dir, err := os.MkdirTemp("", "vla3d-bench-ort-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	path := dir + "/model.onnx"
	spec := tr.Spec()
	if len(spec.Vocabulary) == 0 {
		spec.Vocabulary = []string{"pick"}
	}
	if err := onnx.ExportPolicy(tr.vars, tr.model, spec, path); err != nil {
		return 0, err
	}
	pol, err := ort.Load(path, ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1})
	if err != nil {
		return 0, err
	}
	defer pol.Close()
	in := policy.NewInput(pol.Spec())
	for i := range in.PointValid {
		in.PointValid[i] = 1
		in.Points[3*i+2] = 0.1
	}
	var chunk msgs.ActionChunk
	var times []float64
	for k := range 51 {
		t0 := time.Now()
		if err := pol.Predict(context.Background(), in, &chunk); err != nil {
			return 0, err
		}
		if k > 0 {
			times = append(times, float64(time.Since(t0))/1e6)
		}
	}
	sort.Float64s(times)
	return times[0], nil
}

// BenchTable is the benchmark as a markdown table of ratios measured in one
// run: per row, samples/s, the step's arithmetic and the rate it ran at,
// ONNX Runtime's forward GFLOP/s on the same model and the training share of
// it, time per sample relative to the first row (the Baseline), and, where
// the same row and stage also ran with the forward passes on the training
// backend (gomlx), the speed-up over that.
func BenchTable(res []BenchResult) string {
	var b strings.Builder
	b.WriteString("| row | stage | forward passes | steps/s | samples/s | fwd MFLOP/sample | fwd ops | step MFLOP/sample | step GFLOP/s | ORT fwd GFLOP/s | step / ORT | time per sample vs first row | speed-up vs gomlx |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res {
		ratio, share, speedup := "", "", ""
		if len(res) > 0 && r.SamplesPerSec > 0 && res[0].SamplesPerSec > 0 {
			ratio = fmt.Sprintf("%.2fx", res[0].SamplesPerSec/r.SamplesPerSec)
		}
		if r.ORTGFLOPs > 0 {
			share = fmt.Sprintf("%.0f%%", 100*r.TrainGFLOPs/r.ORTGFLOPs)
		}
		for _, o := range res {
			if o.Row == r.Row && o.Stage == r.Stage && o.ForwardRuntime == ForwardGoMLX && r.ForwardRuntime != ForwardGoMLX && o.SamplesPerSec > 0 {
				speedup = fmt.Sprintf("%.2fx", r.SamplesPerSec/o.SamplesPerSec)
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %.2f | %.1f | %.1f | %d | %.1f | %.2f | %.2f | %s | %s | %s |\n", r.Row, r.Stage, r.ForwardRuntime, r.StepsPerSec, r.SamplesPerSec,
			float64(r.FwdFLOPs)/1e6, r.ForwardOps, float64(r.StepFLOPs)/1e6, r.TrainGFLOPs, r.ORTGFLOPs, share, ratio, speedup)
	}
	return b.String()
}
