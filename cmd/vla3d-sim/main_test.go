package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
	"github.com/vla3d/vla3d/sim"
)

// runArgs runs vla3d-sim with args, discarding its output.
func runArgs(args []string) error {
	return run(context.Background(), args, io.Discard, io.Discard)
}

func TestRunRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		usage   string // the -h hint's command for a usage error; "" = a runtime error
		message string
	}{
		{nil, "vla3d-sim", "no mode given"},
		{[]string{"fly"}, "vla3d-sim", `unknown mode "fly"`},
		{[]string{"eval", "-task", "juggle"}, "vla3d-sim eval", "juggle"},
		{[]string{"eval", "-split", "weather"}, "vla3d-sim eval", "weather"},
		{[]string{"eval", "-severity", "1.5"}, "vla3d-sim eval", "severity"},
		{[]string{"eval", "-bogus"}, "vla3d-sim eval", "not defined: -bogus"},
		{[]string{"render", "extra"}, "vla3d-sim render", `unexpected argument "extra"`},
		{[]string{"node", "-log-level", "loud"}, "vla3d-sim node", "log-level"},
		{[]string{"node", "stray"}, "vla3d-sim node", `unexpected argument "stray"`},
		{[]string{"node", "__ns:=/robot1"}, "vla3d-sim node", "namespaced"},
		{[]string{"record", "-episodes", "0", "-out", t.TempDir(), "-width", "16", "-height", "16"}, "", ""},
		{[]string{"node", "-width", "-3"}, "", ""},
		{[]string{"node", "-master", "https://m:1"}, "", "ROS master"},
	} {
		err := runArgs(tc.args)
		if err == nil {
			t.Errorf("%v accepted", tc.args)
			continue
		}
		var ue *cli.UsageError
		isUsage := errors.As(err, &ue)
		if isUsage != (tc.usage != "") || (isUsage && ue.Command != tc.usage) || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%v: %v (usage error %v), want usage %q mentioning %q", tc.args, err, isUsage, tc.usage, tc.message)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"node", "-h"}, {"eval", "--help"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		if !errors.Is(err, flag.ErrHelp) || stderr.Len() > 0 || !strings.Contains(stdout.String(), "sim") {
			t.Errorf("%v: %v\nstdout %q\nstderr %q", args, err, stdout.String(), stderr.String())
		}
	}
	var stdout bytes.Buffer
	_ = run(context.Background(), []string{"node", "-h"}, &stdout, io.Discard)
	for _, w := range []string{"-log-level", "-debug", "-master", "__name:="} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("node -h lacks %q:\n%s", w, stdout.String())
		}
	}
}

func TestRecordMode(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"record", "-out", dir, "-episodes", "1", "-width", "16", "-height", "16", "-seed", "3"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	bags, err := filepath.Glob(filepath.Join(dir, "*.bag"))
	if err != nil || len(bags) != 1 || !strings.Contains(bags[0], "pick_place_none") {
		t.Fatalf("bags %v %v", bags, err)
	}
	if st, err := os.Stat(bags[0]); err != nil || st.Size() < 4096 {
		t.Fatalf("bag %v %v", st, err)
	}
	if !strings.HasPrefix(stdout.String(), "[{") {
		t.Errorf("stdout %q, want the episodes as JSON", stdout.String())
	}
}

// The node name, master and host: flag, remapping argument (roslaunch's
// __name:=), environment, default.
func TestNodeSettings(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"ROS_MASTER_URI": "http://10.0.0.2:11312/", "ROS_HOSTNAME": "sim.local"}[k]
	}
	for _, tc := range []struct {
		args               []string
		name, master, host string
	}{
		{nil, "vla3d_sim", "10.0.0.2:11312", "sim.local"},
		{[]string{"--auto-reset", "__name:=sim2", "__log:=/tmp/x.log"}, "sim2", "10.0.0.2:11312", "sim.local"},
		{[]string{"__master:=http://m:1", "__ip:=1.2.3.4"}, "vla3d_sim", "m:1", "1.2.3.4"},
		{[]string{"-name", "flag", "-master", "http://fm:2/", "-host", "fh", "__name:=sim2", "__master:=http://m:1"}, "flag", "fm:2", "fh"},
		{[]string{"-master", "roscore:11313"}, "vla3d_sim", "roscore:11313", "sim.local"},
	} {
		n, err := parseNode(&common{stdout: io.Discard}, tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if err := n.resolve(env); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if n.cfg.Name != tc.name || n.cfg.MasterAddress != tc.master || n.cfg.Host != tc.host {
			t.Errorf("%v: %q %q %q, want %q %q %q", tc.args, n.cfg.Name, n.cfg.MasterAddress, n.cfg.Host, tc.name, tc.master, tc.host)
		}
	}
}

func TestEvalModelMode(t *testing.T) {
	model, err := ort.TinyModelPath()
	if err != nil {
		t.Fatalf("checked-in tiny ONNX model missing: %v", err)
	}
	orttest.RequireLibrary(t)
	pictures := t.TempDir()
	if err := runArgs([]string{"eval", "-model", model, "-episodes", "1", "-max-steps", "8", "-width", "32", "-height", "32", "-no-labels",
		"-pictures", pictures}); err != nil {
		t.Fatal(err)
	}
	// The pictures of the episode: three 32x32 cameras side by side, with
	// the tiny row-C model's instances drawn; and the top-down plot.
	fh, err := os.Open(filepath.Join(pictures, "episode_000.gif"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	g, err := gif.DecodeAll(fh)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) == 0 || g.Config.Width != 3*32 || g.Config.Height <= 32 {
		t.Fatalf("pictures: %d frames %dx%d", len(g.Image), g.Config.Width, g.Config.Height)
	}
	if st, err := os.Stat(filepath.Join(pictures, "episode_000_top.png")); err != nil || st.Size() == 0 {
		t.Fatalf("top-down plot: %v", err)
	}
	if err := runArgs([]string{"eval", "-pictures", pictures, "-episodes", "1"}); err == nil {
		t.Error("-pictures without -model accepted")
	}
	// The node's ensemble execution runs, and excludes -execute.
	if err := runArgs([]string{"eval", "-model", model, "-episodes", "1", "-max-steps", "4", "-width", "32", "-height", "32", "-no-labels", "-ensemble"}); err != nil {
		t.Errorf("-ensemble: %v", err)
	}
	if err := runArgs([]string{"eval", "-model", model, "-episodes", "1", "-ensemble", "-execute", "2"}); err == nil {
		t.Error("-ensemble with -execute accepted")
	}
	if err := runArgs([]string{"eval", "-model", filepath.Join(t.TempDir(), "missing.onnx"), "-episodes", "1"}); err == nil {
		t.Error("missing model accepted")
	}
}

func TestRenderMode(t *testing.T) {
	dir := t.TempDir()
	if err := runArgs([]string{"render", "-out", dir, "-task", "occlusion", "-width", "24", "-height", "16"}); err != nil {
		t.Fatal(err)
	}
	for _, cam := range []string{"front", "side", "wrist"} {
		for _, kind := range []string{"color", "depth", "labels"} {
			if _, err := os.Stat(filepath.Join(dir, cam+"_"+kind+".png")); err != nil {
				t.Error(err)
			}
		}
	}
}

// An explicit -ort-lib wins over $VLA3D_ORT_LIB (which scripts/env.sh
// always sets): the model is loaded from the flag's library.
func TestEvalORTLibFlagBeatsEnvironment(t *testing.T) {
	model, err := ort.TinyModelPath()
	if err != nil {
		t.Skipf("tiny ONNX model not available: %v", err)
	}
	t.Setenv(ort.LibraryEnv, os.Getenv(ort.LibraryEnv)) // restored after the flag rewrites it
	missing := filepath.Join(t.TempDir(), "libonnxruntime-explicit.so")
	err = runArgs([]string{"eval", "-model", model, "-ort-lib", missing, "-episodes", "1", "-max-steps", "1", "-width", "16", "-height", "16", "-no-labels"})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("eval with -ort-lib %s: %v, want a failure to load that library", missing, err)
	}
}

func TestSweepMode(t *testing.T) {
	model, err := ort.TinyModelPath()
	if err != nil {
		t.Fatalf("checked-in tiny ONNX model missing: %v", err)
	}
	orttest.RequireLibrary(t)
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"sweep", "-model", model, "-episodes", "3", "-width", "32", "-height", "32", "-no-labels"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "spread ratio") || !strings.Contains(stdout.String(), `"corr"`) {
		t.Fatalf("sweep output:\n%s", stdout.String())
	}
	if err := runArgs([]string{"sweep", "-episodes", "3"}); err == nil {
		t.Error("sweep without -model accepted")
	}
}

// With -model and no -width/-height the simulator renders at the model's
// input size (its sidecar); explicit flags win.
func TestRenderSizeFromTheModel(t *testing.T) {
	model, err := ort.TinyModelPath()
	if err != nil {
		t.Fatalf("checked-in tiny ONNX model missing: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{{nil, 96}, {[]string{"-width", "64", "-height", "64"}, 64}} {
		var c common
		fs := flag.NewFlagSet("eval", flag.ContinueOnError)
		c.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := c.modelSize(fs, model); err != nil {
			t.Fatal(err)
		}
		if c.width != tc.want || c.height != tc.want {
			t.Errorf("%v: render %dx%d, want %d", tc.args, c.width, c.height, tc.want)
		}
		// vla3d-sim node sizes its cameras for the policy node's model too.
		nc := &common{stdout: io.Discard}
		if _, err := parseNode(nc, append([]string{"-model", model}, tc.args...)); err != nil {
			t.Fatal(err)
		}
		if nc.width != tc.want || nc.height != tc.want {
			t.Errorf("node %v: render %dx%d, want %d", tc.args, nc.width, nc.height, tc.want)
		}
	}
}

// -trace logs what the policy saw and commanded; -trace-truth adds the
// objects' true positions, and only then.
func TestTracing(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 32, Height: 32, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if err := env.Reset(context.Background(), sim.EpisodeSpec{Task: sim.TaskPickPlace, Split: sim.SplitNone}); err != nil {
		t.Fatal(err)
	}
	chunk := &msgs.ActionChunk{Horizon: 1, Dim: msgs.EEActionDim, Values: make([]float32, msgs.EEActionDim)}
	for _, truth := range []bool{false, true} {
		core, logs := observer.New(zap.InfoLevel)
		tracing(zap.New(core), truth)(env)(&msgs.Observation{Gripper: 0.5}, nil, chunk)
		entries := logs.All()
		if len(entries) != 1 {
			t.Fatalf("truth %v: %d log entries, want 1", truth, len(entries))
		}
		fields := entries[0].ContextMap()
		if fields["gripper"] != 0.5 {
			t.Errorf("truth %v: gripper %v, want 0.5", truth, fields["gripper"])
		}
		if _, ok := fields["truth_red_block"]; ok != truth {
			t.Errorf("truth %v: truth_red_block logged %v", truth, ok)
		}
	}
}
