package synth_test

import (
	"path/filepath"
	"testing"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/bag/mcapbag"
	"github.com/vla3d/vla3d/dataset/synth"
)

func TestWriteCounts(t *testing.T) {
	dir := t.TempDir()
	cfg := synth.Config{Episodes: 2, Steps: 3, Cameras: []string{"a", "b", "wrist"}, Labels: true}
	p := filepath.Join(dir, "x.bag")
	if err := cfg.Write(p); err != nil {
		t.Fatal(err)
	}
	r, err := bag.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := r.Info()
	want := map[string]int{
		"/a/color/image_raw": 6, "/b/depth/image_raw": 6, "/wrist/labels/image_raw": 6, "/a/color/camera_info": 6,
		"/ee_pose": 6, "/tf": 6, "/tf_static": 2, "/instruction": 2, "/vla3d/expert_action": 6, "/vla3d/episode": 4,
	}
	for topic, n := range want {
		if in.Topics[topic].Messages != n {
			t.Errorf("%s: %d messages, want %d", topic, in.Topics[topic].Messages, n)
		}
	}
	cfg.MCAP, cfg.Encoding = true, "cdr"
	pm := filepath.Join(dir, "x.mcap")
	if err := cfg.Write(pm); err != nil {
		t.Fatal(err)
	}
	m, err := mcapbag.Open(pm, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Info().Messages != in.Messages {
		t.Fatalf("mcap has %d messages, bag %d", m.Info().Messages, in.Messages)
	}
}
