package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/dataset/synth"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
	"github.com/vla3d/vla3d/training"
)

// TestTrainExportRun: synthetic recordings -> vla3d-train (both stages, row
// C) -> resume is a no-op -> export -> ONNX Runtime predicts the same
// actions as the GoMLX graph with the trained variables.
func TestTrainExportRun(t *testing.T) {
	dir := t.TempDir()
	rec := synth.Config{Episodes: 2, Steps: 6, Cameras: []string{"front", "side"}, Width: 32, Height: 32, Labels: true}
	if err := rec.Write(filepath.Join(dir, "demo.bag")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	args := []string{"-data", dir, "-out", out, "-row", "C", "-cameras", "2", "-image-size", "32", "-width", "24", "-heads", "2",
		"-probes", "6", "-max-instances", "3", "-steps", "2", "-batch", "2", "-checkpoint-every", "1", "-quiet"}
	if err := runArgs(append([]string{"train"}, args...)); err != nil {
		t.Fatal(err)
	}
	// A second invocation resumes at the end and does nothing more.
	if err := runArgs(args); err != nil {
		t.Fatal(err)
	}
	recs, err := training.ReadMetrics(filepath.Join(out, training.MetricsFile))
	if err != nil || len(recs) != 4 || recs[3].Stage != training.Stage2 {
		t.Fatalf("metrics %v, %v", recs, err)
	}
	if _, err := os.Stat(filepath.Join(out, training.PlotFile)); err != nil {
		t.Fatal(err)
	}
	if err := runArgs([]string{"export", "-out", out}); err != nil {
		t.Fatal(err)
	}
	modelPath := filepath.Join(out, "model.onnx")
	spec, err := ort.LoadSpec(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Vocabulary) == 0 || len(spec.ActionStd) != msgs.EEActionDim || !spec.Modules.Routing {
		t.Fatalf("sidecar %+v", spec)
	}

	lib := orttest.RequireLibrary(t) // the export above is checked either way
	p, err := ort.Load(modelPath, ort.Options{LibraryPath: lib})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in := policy.NewInput(spec)
	for i := range in.Images {
		in.Images[i] = float32(i%17) / 17
	}
	for i := range in.PointValid {
		in.PointValid[i] = 1
		in.Points[3*i], in.Points[3*i+1], in.Points[3*i+2] = 0.5, float32(i%5)*0.05-0.1, 0.05
	}
	for c := range spec.Cameras {
		copy(in.Intrinsics[4*c:], []float32{30, 30, 16, 16})
		copy(in.CamFromBase[12*c:], []float32{0, -1, 0, 0, 0, 0, -1, 0.3, 1, 0, 0, 0.2})
	}
	in.Instruction[0] = 1
	chunk := msgs.ActionChunk{Horizon: spec.Horizon, Dim: spec.ActionDim, Values: make([]float32, spec.Horizon*spec.ActionDim)}
	if err := p.Predict(context.Background(), in, &chunk); err != nil {
		t.Fatal(err)
	}
	want := gomlxActions(t, out, spec, in)
	for i, v := range chunk.Values {
		if math.Abs(float64(v-want[i])) > 1e-3*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("action %d: ONNX Runtime %g, GoMLX %g", i, v, want[i])
		}
	}
	js, _ := json.Marshal(chunk.Values[:spec.ActionDim])
	t.Logf("first action (de-normalized) %s", js)
}

// gomlxActions runs the trained GoMLX inference graph on in and
// de-normalizes like the ONNX Runtime policy does.
func gomlxActions(t *testing.T, out string, spec policy.Spec, in *policy.Input) []float32 {
	t.Helper()
	tr, err := training.LoadTrained(out)
	if err != nil {
		t.Fatal(err)
	}
	be, err := model.NewBackend(training.DefaultBackend)
	if err != nil {
		t.Fatal(err)
	}
	v, n, cfg := spec.Cameras, spec.PatchesPerView(), tr.Model.Config
	exec, err := mlctx.NewExec(be, tr.Vars.Checked(false), func(ctx *mlctx.Context, p []*Node) *Node {
		return tr.Model.Forward(ctx, model.Inputs{Images: p[0], Points: p[1], PointValid: p[2], Intrinsics: p[3],
			CamFromBase: p[4], Proprio: p[5], Instruction: p[6], Noise: p[7]}).Actions
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(
		tensors.FromFlatDataAndDimensions(in.Images, 1, v, 3, spec.ImageHeight, spec.ImageWidth),
		tensors.FromFlatDataAndDimensions(in.Points, 1, v, n, 3),
		tensors.FromFlatDataAndDimensions(in.PointValid, 1, v, n),
		tensors.FromFlatDataAndDimensions(in.Intrinsics, 1, v, 4),
		tensors.FromFlatDataAndDimensions(in.CamFromBase, 1, v, 12),
		tensors.FromFlatDataAndDimensions(in.Proprio, 1, spec.ProprioDim),
		tensors.FromFlatDataAndDimensions(in.Instruction, 1, spec.InstructionLen),
		tensors.FromFlatDataAndDimensions(make([]float32, cfg.Horizon*cfg.ActionDim), 1, cfg.Horizon, cfg.ActionDim),
	)
	if err != nil {
		t.Fatal(err)
	}
	vals := tensors.MustCopyFlatData[float32](res[0])
	ort.Denormalize(vals, spec.ActionDim, spec.ActionMean, spec.ActionStd)
	return vals
}

// runArgs runs vla3d-train with args, its output discarded.
func runArgs(args []string) error {
	return run(context.Background(), args, io.Discard, io.Discard)
}

func TestUsageAndHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"train", "--help"}, {"export", "-h"}, {"bench", "-help"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		if !errors.Is(err, flag.ErrHelp) || stderr.Len() > 0 || !strings.Contains(stdout.String(), "vla3d-train export -out") ||
			!strings.Contains(stdout.String(), "-log-level") {
			t.Errorf("%v: %v\nstdout %q\nstderr %q", args, err, stdout.String(), stderr.String())
		}
	}
	for _, tc := range []struct {
		args    []string
		command string
		msg     string
	}{
		{[]string{"-out", t.TempDir()}, "vla3d-train train", "-data is required"},
		{[]string{"bench", "-out", t.TempDir()}, "vla3d-train bench", "-data is required"},
		{[]string{"-data", "d", "-stage", "3"}, "vla3d-train train", "-stage"},
		{[]string{"-data", "d", "-row", "Z"}, "vla3d-train train", "Z"},
		{[]string{"-data", "d", "-log-level", "loud"}, "vla3d-train train", "log-level"},
		{[]string{"-data", "d", "stray"}, "vla3d-train train", `unexpected argument "stray"`},
		{[]string{"export", "-bogus"}, "vla3d-train export", "-bogus"},
	} {
		err := runArgs(tc.args)
		var ue *cli.UsageError
		if !errors.As(err, &ue) || ue.Command != tc.command || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: %v, want a usage error of %q mentioning %q", tc.args, err, tc.command, tc.msg)
		}
	}
}

// -debug is kept as an alias of -log-level debug.
func TestDebugAlias(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", "d"}, "info"},
		{[]string{"-data", "d", "-debug"}, "debug"},
		{[]string{"-data", "d", "-log-level", "warn"}, "warn"},
	} {
		f, err := parseTrain("train", tc.args, io.Discard, nil)
		if err != nil || *f.logLevel != tc.want {
			t.Errorf("%v: %v, level %v, want %q", tc.args, err, f, tc.want)
		}
	}
}

// -val-every exports the model being trained and asks vla3d-sim (here a
// stand-in printing its answers) for closed-loop success and the t=0 sweep;
// the figures reach metrics.jsonl and the best checkpoint is exported with
// export -best.
func TestValidationDuringTraining(t *testing.T) {
	dir := t.TempDir()
	rec := synth.Config{Episodes: 1, Steps: 6, Cameras: []string{"front", "side"}, Width: 32, Height: 32, Labels: true}
	if err := rec.Write(filepath.Join(dir, "demo.bag")); err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(dir, "fake-sim")
	script := "#!/bin/sh\n" +
		"for a in \"$@\"; do case \"$a\" in *.onnx) [ -f \"$a\" ] || { echo no model >&2; exit 1; };; esac; done\n" +
		"case \"$1\" in eval) echo '{\"SuccessRate\": 0.5}';; sweep) echo '{\"corr\":[0.9,0.8],\"spread_ratio\":[0.7,0.6]}';; *) exit 2;; esac\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	args := []string{"train", "-data", dir, "-out", out, "-row", "baseline", "-cameras", "2", "-image-size", "32", "-width", "24", "-heads", "2",
		"-steps", "2", "-batch", "2", "-quiet", "-stage", "1", "-val-every", "1", "-val-sim", fake}
	if err := runArgs(args); err != nil {
		t.Fatal(err)
	}
	recs, err := training.ReadMetrics(filepath.Join(out, training.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, r := range recs {
		if r.Metrics["val_success"] == 0.5 && r.Metrics["val_sweep_ratio_y"] == 0.6 {
			got++
		}
	}
	if got != 2 {
		t.Fatalf("%d validation records in %+v", got, recs)
	}
	if err := runArgs([]string{"export", "-out", out, "-best", "-onnx", filepath.Join(dir, "best.onnx")}); err != nil {
		t.Fatal(err)
	}
}
