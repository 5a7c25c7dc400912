package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	gomlxctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/dataset/synth"
	"github.com/vla3d/vla3d/eval"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

// zeroModel writes an ONNX model returning normalized zeros (so every
// prediction is the spec's ActionMean) and its sidecar.
func zeroModel(t *testing.T, dir string) string {
	t.Helper()
	s := policy.Spec{Cameras: 2, ImageWidth: 16, ImageHeight: 12, PatchSize: 4, ActionDim: 7, Horizon: 1,
		ProprioDim: 7, InstructionLen: 4, ControlHz: 10, ActionSpace: "ee_delta", Opset: onnx.DefaultOpset,
		Vocabulary: []string{"pick", "block"}}
	inputs := onnx.SpecInputs(s)
	build := func(_ *gomlxctx.Context, x []*Node) []*Node {
		b := x[0].Shape().Dimensions[0]
		return []*Node{BroadcastToDims(Reshape(MulScalar(ReduceSum(x[2], 1, 2), 0), b, 1, 1), b, s.Horizon, s.ActionDim)}
	}
	model, err := onnx.Export(gomlxctx.New(), inputs, []string{policy.TensorActions}, build, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ort.WriteSpec(path, s); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunWritesReports(t *testing.T) {
	orttest.RequireLibrary(t)
	dir := t.TempDir()
	bagPath := filepath.Join(dir, "demo.bag")
	if err := (synth.Config{Episodes: 2, Steps: 6}).Write(bagPath); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	// No --cameras and no --config: the cameras come from the recording.
	args := []string{"--model", zeroModel(t, dir), "--out", out, bagPath}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "overall") {
		t.Fatalf("stdout:\n%s", stdout.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep eval.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Episodes) != 2 || rep.Overall.N != 12 {
		t.Fatalf("report: %d episodes, %d steps", len(rep.Episodes), rep.Overall.N)
	}
	for _, f := range []string{"report.txt", "episode_000.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if err := run(context.Background(), []string{"--model", "x.onnx"}, &stdout, &stderr); err == nil {
		t.Fatal("no recordings must be an error")
	}
}

// The node config's providers, threads and model are used unless the
// flags were given; without --config eval runs on one CPU thread.
func TestNodeConfigFlagsOverConfig(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "node.yaml")
	if err := os.WriteFile(cfgPath, []byte("model: /cfg/model.onnx\nproviders: [cuda, cpu]\nthreads: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	recorded := func() ([]string, error) { return []string{"front", "side"}, nil }
	tests := []struct {
		args      []string
		providers string
		threads   int
		model     string
		cameras   int
	}{
		{[]string{"--config", cfgPath, "x.bag"}, "cuda,cpu", 3, "/cfg/model.onnx", 1},
		{[]string{"--config", cfgPath, "--providers", "cpu", "x.bag"}, "cpu", 3, "/cfg/model.onnx", 1},
		{[]string{"--config", cfgPath, "--threads", "0", "--model", "/m.onnx", "x.bag"}, "cuda,cpu", 0, "/m.onnx", 1},
		{[]string{"--model", "/m.onnx", "x.bag"}, "cpu", 1, "/m.onnx", 2},
		{[]string{"--model", "/m.onnx", "--providers", "tensorrt,cpu", "--threads", "2", "--cameras", "a", "x.bag"}, "tensorrt,cpu", 2, "/m.onnx", 1},
	}
	for _, tc := range tests {
		o, _, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		cfg, err := nodeConfig(o, recorded)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if p := strings.Join(cfg.Providers, ","); p != tc.providers || cfg.Threads != tc.threads || cfg.Model != tc.model || len(cfg.Cameras) != tc.cameras {
			t.Errorf("%v: providers %q threads %d model %q cameras %d, want %q %d %q %d",
				tc.args, p, cfg.Threads, cfg.Model, len(cfg.Cameras), tc.providers, tc.threads, tc.model, tc.cameras)
		}
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(stdout.String(), "Usage:") || !strings.Contains(stdout.String(), "-log-level") || stderr.Len() > 0 {
		t.Errorf("-h: %v\nstdout %q\nstderr %q", err, stdout.String(), stderr.String())
	}
	for _, args := range [][]string{{"--model", "x.onnx"}, {"--bogus", "x.bag"}, {"--log-level", "loud", "x.bag"}, {"x.bag"}} {
		err := run(context.Background(), args, &stdout, &stderr)
		var ue *cli.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
