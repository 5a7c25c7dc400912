package node

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vla3d/vla3d/cli"
)

func TestApplyROS2Args(t *testing.T) {
	dir := t.TempDir()
	params := filepath.Join(dir, "params.yaml")
	if err := os.WriteFile(params, []byte(`
/**:
  ros__parameters:
    control_hz: 15.0
vla3d_node:
  ros__parameters:
    model: /models/model.onnx
    execution.mode: replan
    safety:
      max_linear_speed: 0.1
other_node:
  ros__parameters:
    control_hz: 99.0
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ApplyROS2Args(DefaultConfig(), cli.ROS2Args{Node: "vla3d_node", Namespace: "/robot1", ParamsFiles: []string{params},
		Params: [][2]string{{"threads", "2"}}, Remaps: map[string]string{"/ee_pose": "/robot1/ee_pose", "/front/color/image_raw": "/cam/rgb"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ControlHz != 15 || cfg.Model != "/models/model.onnx" || cfg.Execution.Mode != "replan" || cfg.Safety.MaxLinearSpeed != 0.1 ||
		cfg.Threads != 2 || cfg.ROS2.Namespace != "/robot1" || cfg.Topics.EEPose != "/robot1/ee_pose" || cfg.Cameras[0].ColorTopic != "/cam/rgb" {
		t.Fatalf("config %+v", cfg)
	}
	// Defaults untouched elsewhere.
	if cfg.Safety.MaxAngularSpeed != DefaultConfig().Safety.MaxAngularSpeed {
		t.Errorf("max_angular_speed changed")
	}
	for name, a := range map[string]cli.ROS2Args{
		"unknown key":     {Params: [][2]string{{"no_such_key", "1"}}},
		"invalid value":   {Params: [][2]string{{"control_hz", "-3"}}},
		"unmatched remap": {Remaps: map[string]string{"/nope": "/x"}},
		"missing file":    {ParamsFiles: []string{filepath.Join(dir, "absent.yaml")}},
	} {
		if _, err := ApplyROS2Args(DefaultConfig(), a); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestBundledROS2Launch: the ROS 2 launch files are well-formed XML that
// name the binaries, and the bundled parameters file yields the same
// configuration as launch/vla3d_node.yaml.
func TestBundledROS2Launch(t *testing.T) {
	for _, f := range []string{"vla3d_node.launch.xml", "sim_with_node.launch.xml"} {
		b, err := os.ReadFile(filepath.Join("..", "launch", "ros2", f))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			XMLName xml.Name
			Nodes   []struct {
				Pkg  string `xml:"pkg,attr"`
				Exec string `xml:"exec,attr"`
			} `xml:"node"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if doc.XMLName.Local != "launch" || len(doc.Nodes) == 0 || doc.Nodes[0].Pkg != "vla3d" {
			t.Errorf("%s: %+v", f, doc)
		}
	}
	want, err := LoadConfig(filepath.Join("..", "launch", "vla3d_node.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ApplyROS2Args(DefaultConfig(), cli.ROS2Args{Node: "vla3d_node",
		ParamsFiles: []string{filepath.Join("..", "launch", "ros2", "vla3d_node.params.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	want.MasterURI, want.Host = got.MasterURI, got.Host
	if !reflect.DeepEqual(got, want) {
		t.Errorf("params file config differs from vla3d_node.yaml:\n got %+v\nwant %+v", got, want)
	}
}
