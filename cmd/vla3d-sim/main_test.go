package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

func TestRunRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"fly"},
		{"eval", "-task", "juggle"},
		{"eval", "-split", "weather"},
		{"eval", "-severity", "1.5"},
		{"record", "-episodes", "0", "-out", t.TempDir(), "-width", "16", "-height", "16"},
		{"node", "-width", "-3"},
	} {
		if err := run(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestRecordMode(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"record", "-out", dir, "-episodes", "1", "-width", "16", "-height", "16", "-seed", "3"}); err != nil {
		t.Fatal(err)
	}
	bags, err := filepath.Glob(filepath.Join(dir, "*.bag"))
	if err != nil || len(bags) != 1 || !strings.Contains(bags[0], "pick_place_none") {
		t.Fatalf("bags %v %v", bags, err)
	}
	if st, err := os.Stat(bags[0]); err != nil || st.Size() < 4096 {
		t.Fatalf("bag %v %v", st, err)
	}
}

func TestMasterFromEnv(t *testing.T) {
	t.Setenv("ROS_MASTER_URI", "http://10.0.0.2:11312/")
	if got := masterFromEnv(); got != "10.0.0.2:11312" {
		t.Errorf("got %q", got)
	}
	t.Setenv("ROS_MASTER_URI", "")
	if got := masterFromEnv(); got != "127.0.0.1:11311" {
		t.Errorf("got %q", got)
	}
}

func TestRosName(t *testing.T) {
	if got := rosName([]string{"__name:=sim2", "__log:=/tmp/x.log"}, "vla3d_sim"); got != "sim2" {
		t.Errorf("got %q", got)
	}
	if got := rosName(nil, "vla3d_sim"); got != "vla3d_sim" {
		t.Errorf("got %q", got)
	}
}

func TestEvalModelMode(t *testing.T) {
	model, err := ort.TinyModelPath()
	if err != nil {
		t.Skipf("tiny ONNX model not available: %v", err)
	}
	orttest.RequireLibrary(t)
	if err := run([]string{"eval", "-model", model, "-episodes", "1", "-max-steps", "8", "-width", "32", "-height", "32", "-no-labels"}); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"eval", "-model", filepath.Join(t.TempDir(), "missing.onnx"), "-episodes", "1"}); err == nil {
		t.Error("missing model accepted")
	}
}

func TestRenderMode(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"render", "-out", dir, "-task", "occlusion", "-width", "24", "-height", "16"}); err != nil {
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
