package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	y := `
control_hz: 15
cameras:
  - {name: left, color_topic: /l/c, depth_topic: /l/d, info_topic: /l/i}
  - {name: right, color_topic: /r/c, depth_topic: /r/d, info_topic: /r/i,
     optical_frame: right_optical, extrinsic: {translation: [0, 1, 0], rotation: [0, 0, 0, 1]}}
sync: {queue_size: 3, max_interval: 20ms}
safety: {max_input_age: 0.25}
execution: {mode: replan, replan_every: 2}
`
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.ControlHz != 15 || len(c.Cameras) != 2 || c.Sync.MaxInterval.Duration != 20*time.Millisecond ||
		c.Safety.MaxInputAge.Duration != 250*time.Millisecond || c.Execution.Mode != "replan" ||
		c.Cameras[1].Extrinsic.Translation[1] != 1 || c.Topics.EEPose != "/ee_pose" {
		t.Fatalf("loaded %+v", c)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string
	}{
		{"rate", func(c *Config) { c.ControlHz = 0 }, "control_hz"},
		{"no cameras", func(c *Config) { c.Cameras = nil }, "no cameras"},
		{"dup topic", func(c *Config) { c.Cameras = append(c.Cameras, c.Cameras[0]) }, "used twice"},
		{"mode", func(c *Config) { c.Execution.Mode = "fast" }, "execution.mode"},
		{"output", func(c *Config) { c.Execution.Output = "joint" }, "joint output"},
		{"workspace", func(c *Config) { c.Safety.WorkspaceMin[2] = 5 }, "workspace axis 2"},
		{"resize", func(c *Config) { c.Resize = "cubic" }, "resize"},
		{"extrinsic", func(c *Config) { c.Cameras[0].Extrinsic = &StaticTransform{} }, "not a quaternion"},
		{"anchor", func(c *Config) { c.Execution.Anchor = "target" }, "chunk anchor"},
		{"anchor gap", func(c *Config) { c.Execution.AnchorMaxGap = 0 }, "anchor_max_gap"},
	}
	for _, tc := range tests {
		c := DefaultConfig()
		tc.mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
}

func TestParseConfigRejectsUnknownKeys(t *testing.T) {
	if _, err := ParseConfig([]byte("control_hz: 10\nsafety: {max_input_agee: 1s}\n")); err == nil || !strings.Contains(err.Error(), "max_input_agee") {
		t.Errorf("typo accepted: %v", err)
	}
	if c, err := ParseConfig(nil); err != nil || c.ControlHz != DefaultConfig().ControlHz {
		t.Errorf("empty config: %+v %v", c, err)
	}
}

// FuzzParseConfig: arbitrary YAML must be rejected or produce a config that
// passes Validate; never a panic.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("control_hz: 15\nsync: {max_interval: 20ms}\n"))
	f.Add([]byte("safety: {max_input_age: 0.5}\ncameras: [{name: a, color_topic: /a, depth_topic: /b, info_topic: /c}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("accepted an invalid config: %v", verr)
			}
		}
	})
}

func TestParseConfigTF(t *testing.T) {
	if _, err := ParseConfig([]byte("tf: {cache_time: 5s, extrapolation_tolerance: 10ms, max_samples: 500}")); err != nil {
		t.Error(err)
	}
	if _, err := ParseConfig([]byte("tf: {cache_time: 0}")); err == nil {
		t.Error("zero cache_time accepted")
	}
}
