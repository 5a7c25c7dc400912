package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/node"
)

const bundledConfig = "../../launch/vla3d_node.yaml"

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"--help"}, &out, &errb)
	if !errors.Is(err, flag.ErrHelp) || errb.Len() > 0 {
		t.Fatalf("--help: %v, stderr %q", err, errb.String())
	}
	for _, want := range []string{"Usage", "--config", "-rate", "-mode", "-log-level", "-ort-lib", "SIGINT"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBundledConfigIsValid(t *testing.T) {
	cfg, err := node.LoadConfig(bundledConfig)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Cameras) != 3 || cfg.Execution.Gripper.Joint != "finger_left" {
		t.Errorf("bundled config %+v", cfg)
	}
}

func TestFlagsOverrideConfig(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"--config", bundledConfig, "--rate", "15", "--cameras", "a, b", "--mode", "replan", "--print-config", "__name:=from_roslaunch", "__log:=/tmp/x.log"}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var got node.Config
	if err := yaml.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("printed config does not parse: %v\n%s", err, out.String())
	}
	if got.ControlHz != 15 || len(got.Cameras) != 2 || got.Cameras[1].ColorTopic != "/b/color/image_raw" ||
		got.Execution.Mode != "replan" || got.NodeName != "from_roslaunch" || got.Execution.Gripper.Closed != 0.04 {
		t.Errorf("effective config %+v", got)
	}
	// The printed YAML round-trips through LoadConfig.
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := node.LoadConfig(p); err != nil {
		t.Errorf("printed config does not load: %v", err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		args  []string
		want  string
		usage bool // a usage error (exit 2)
	}{
		{[]string{"--config", bundledConfig}, "no model", false},
		{[]string{"--config", "/nonexistent.yaml"}, "no such file", false},
		{[]string{"--rate", "-1", "--check"}, "control_hz", false},
		{[]string{"--master", "ftp://m:1", "--check"}, "ROS master", false},
		{[]string{"--log-level", "loud", "--check"}, "log-level", true},
		{[]string{"--check", "stray"}, `unexpected argument "stray"`, true},
		{[]string{"--check", "__ns:=/robot1"}, "namespaced ROS 1 nodes are not supported", true},
		{[]string{"--bogus"}, "not defined: -bogus", true},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		err := run(context.Background(), tc.args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error mentioning %q", tc.args, err, tc.want)
		}
		var ue *cli.UsageError
		if errors.As(err, &ue) != tc.usage {
			t.Errorf("%v: usage error %v, want %v", tc.args, errors.As(err, &ue), tc.usage)
		}
	}
}

// The node name, master and host: flag, remapping argument, config file,
// environment, default; the node gets the master as a URI.
func TestROSSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfgPath, []byte("node_name: from_config\nmaster_uri: http://cfg-master:11311/\nhost: cfg-host\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		return map[string]string{"ROS_MASTER_URI": "http://env-master:11312", "ROS_IP": "10.0.0.9"}[k]
	}
	tests := []struct {
		args               []string
		name, master, host string
	}{
		{nil, "vla3d_node", "http://env-master:11312/", "10.0.0.9"},
		{[]string{"--config", cfgPath}, "from_config", "http://cfg-master:11311/", "cfg-host"},
		{[]string{"--config", cfgPath, "__name:=rl", "__master:=http://rl-master:1", "__ip:=1.2.3.4"}, "rl", "http://rl-master:1/", "1.2.3.4"},
		{[]string{"--config", cfgPath, "__name:=rl", "__master:=http://rl-master:1", "--name", "flag", "--master", "flag-master:2", "--host", "fh"},
			"flag", "http://flag-master:2/", "fh"},
	}
	for _, tc := range tests {
		o, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := effectiveConfig(o, env)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if cfg.NodeName != tc.name || cfg.MasterURI != tc.master || cfg.Host != tc.host {
			t.Errorf("%v: name %q master %q host %q, want %q %q %q", tc.args, cfg.NodeName, cfg.MasterURI, cfg.Host, tc.name, tc.master, tc.host)
		}
	}
}

// The launch files resolve with the real roslaunch: node names, wrapper
// scripts and arguments.
func TestLaunchFilesResolve(t *testing.T) {
	bin, err := exec.LookPath("roslaunch")
	if err != nil {
		t.Skip("roslaunch not on PATH (install Debian's ros-core)")
	}
	launch, err := filepath.Abs("../../launch")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "ROS_PACKAGE_PATH="+launch, "ROS_HOME="+t.TempDir())
	tests := []struct {
		file, node string
		want       []string
	}{
		{"vla3d_node.launch", "vla3d_node", []string{"scripts/vla3d-node", "--transport ros1", "--config " + launch + "/vla3d_node.yaml", "--model /m.onnx"}},
		{"sim_with_node.launch", "vla3d_sim", []string{"scripts/vla3d-sim", "node --transport ros1 --model /m.onnx --task pick_place"}},
		{"sim_with_node.launch", "vla3d_node", []string{"scripts/vla3d-node", "--rate 10", "--model /m.onnx"}},
	}
	for _, tc := range tests {
		cmd := exec.Command("/usr/bin/python3", bin, "--args", tc.node, filepath.Join(launch, tc.file), "model:=/m.onnx")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("roslaunch --args %s %s: %v\n%s", tc.node, tc.file, err, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s/%s command line lacks %q: %s", tc.file, tc.node, w, out)
			}
		}
	}
}
