package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	gomlxctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/dataset/synth"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

func requireORT(t testing.TB) {
	t.Helper()
	orttest.RequireLibrary(t)
}

// gripperMean is the constant gripper command of the test model.
const gripperMean = 0.25

func evalSpec() policy.Spec {
	m := synth.Action(0, 2)
	return policy.Spec{
		Cameras: 2, ImageWidth: 16, ImageHeight: 12, PatchSize: 4, ActionDim: 7, Horizon: 2,
		ProprioDim: 7, InstructionLen: 4, ControlHz: 10, ActionSpace: "ee_delta", Vocabulary: []string{"pick", "block"},
		// The model outputs normalized zeros, so every predicted action is
		// ActionMean: the synthetic expert's motion and a gripper of 0.25.
		ActionMean: []float32{m[0], m[1], m[2], m[3], m[4], m[5], gripperMean},
		ActionStd:  []float32{1, 1, 1, 1, 1, 1, 1},
		Opset:      onnx.DefaultOpset,
	}
}

// loadConstantModel loads constantModel(evalSpec()) on the CPU, closed when
// the test ends.
func loadConstantModel(t testing.TB) *ort.Policy {
	t.Helper()
	pol, err := ort.Load(constantModel(t, evalSpec()), ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pol.Close() })
	return pol
}

// constantModel exports an ONNX model that reads every node input and
// returns zeros of shape [B, H, A].
func constantModel(t testing.TB, s policy.Spec) string {
	t.Helper()
	inputs := onnx.SpecInputs(s)
	build := func(_ *gomlxctx.Context, x []*Node) []*Node {
		b := x[0].Shape().Dimensions[0]
		valid := ReduceSum(x[2], 1, 2) // [B]: ties the output to the inputs
		base := BroadcastToDims(Reshape(MulScalar(valid, 0), b, 1, 1), b, s.Horizon, s.ActionDim)
		return []*Node{base}
	}
	model, err := onnx.Export(gomlxctx.New(), inputs, []string{policy.TensorActions}, build, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ort.WriteSpec(path, s); err != nil {
		t.Fatal(err)
	}
	return path
}

func nodeConfig() node.Config {
	cfg := node.DefaultConfig()
	cfg.Cameras = []node.CameraConfig{node.CameraTopics("front"), node.CameraTopics("wrist")}
	return cfg
}

func TestReplayScoresAgainstRecordedActions(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	const steps = 10
	if err := (synth.Config{Episodes: 2, Steps: steps, GapBetween: time.Second}).Write(filepath.Join(dir, "rec.bag")); err != nil {
		t.Fatal(err)
	}
	if err := (synth.Config{Episodes: 1, Steps: steps, NoAction: true, NoMarkers: true}).Write(filepath.Join(dir, "poses.bag")); err != nil {
		t.Fatal(err)
	}
	// A ROS 2 style recording (MCAP, CDR payloads) goes through the same path.
	if err := (synth.Config{Episodes: 1, Steps: steps, MCAP: true, Encoding: "cdr"}).Write(filepath.Join(dir, "ros2.mcap")); err != nil {
		t.Fatal(err)
	}
	pol := loadConstantModel(t)
	pictures := t.TempDir()
	opts := Options{Node: nodeConfig(), Episodes: dataset.DefaultConfig(), KeepSeries: true, Pictures: pictures}
	rep, err := Run(context.Background(), []string{dir}, pol, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Episodes) != 4 {
		t.Fatalf("%d episodes", len(rep.Episodes))
	}
	checkPictures(t, pictures, len(rep.Episodes))
	// poses.bag sorts first: its actions are derived from consecutive poses
	// (one fewer than the steps), and the gripper is not scored.
	der := rep.Episodes[0]
	if !der.Derived || der.Metrics.N != steps-1 || der.Metrics.GripperN != 0 || der.Failures != 0 {
		t.Fatalf("derived episode: %+v", der)
	}
	for _, e := range rep.Episodes[1:] {
		if e.Derived || e.Predictions != steps || e.Metrics.N != steps || e.Failures != 0 {
			t.Fatalf("recorded episode: %+v", e)
		}
		// Hand-computed: motion exact; gripper 0.25 vs 0 (first half) and
		// 1 (second half): L1 = 0.5, L2 = sqrt((0.0625+0.5625)/2), accuracy 0.5.
		for k := 0; k < 6; k++ {
			if e.Metrics.L1[k] > 1e-6 {
				t.Fatalf("dim %d L1 %v", k, e.Metrics.L1[k])
			}
		}
		if math.Abs(e.Metrics.L1[6]-0.5) > 1e-6 || math.Abs(e.Metrics.L2[6]-math.Sqrt(0.3125)) > 1e-6 || e.Metrics.GripperAccuracy != 0.5 {
			t.Fatalf("gripper metrics %+v", e.Metrics)
		}
	}
	for k := 0; k < 6; k++ {
		if der.Metrics.L1[k] > 1e-5 {
			t.Fatalf("derived dim %d L1 %v", k, der.Metrics.L1[k])
		}
	}
	// The constant model's second chunk step is the expert's motion too.
	if len(rep.HorizonL1) != 2 || rep.HorizonL1[0] > 1e-6 || rep.HorizonL1[1] > 1e-6 {
		t.Fatalf("horizon L1 %v", rep.HorizonL1)
	}
	if rep.Overall.N != 3*steps+steps-1 || rep.Overall.GripperN != 3*steps {
		t.Fatalf("overall %+v", rep.Overall)
	}
	for _, s := range []string{StageAssemble, StagePrepare, StagePredict, StageInference} {
		if rep.Latency[s].Count == 0 {
			t.Fatalf("stage %s not timed: %+v", s, rep.Latency)
		}
	}
	var txt bytes.Buffer
	if err := rep.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), "overall") || !strings.Contains(txt.String(), StagePredict) {
		t.Fatalf("text report:\n%s", txt.String())
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(t.TempDir(), "ep.png")
	if err := PlotEpisode(&rep.Episodes[1], png); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(png)
	if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
		t.Fatalf("plot: %v (%d bytes)", err, len(b))
	}
	t.Log("\n" + txt.String())
}

func TestReplayCountsNodeFaults(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	// No camera_info for the wrist camera: the node's assembler refuses every
	// set (the live node would hold), so the dataset drops each and says why.
	if err := (synth.Config{Episodes: 1, Steps: 5, NoInfo: "wrist"}).Write(filepath.Join(dir, "noinfo.bag")); err != nil {
		t.Fatal(err)
	}
	pol := loadConstantModel(t)
	rep, err := Run(context.Background(), []string{dir}, pol, Options{Node: nodeConfig(), Episodes: dataset.DefaultConfig()})
	if !errors.Is(err, ErrNothingScored) || rep == nil {
		t.Fatalf("every set dropped: err %v, want ErrNothingScored with the report", err)
	}
	e := rep.Episodes[0]
	if e.Predictions != 0 || e.Dropped != 5 || rep.Overall.N != 0 || rep.Dropped[dataset.DropNoCameraInfo] != 5 {
		t.Fatalf("%+v, dropped %v", e, rep.Dropped)
	}
	// A model for another camera count is refused up front.
	cfg := nodeConfig()
	cfg.Cameras = cfg.Cameras[:1]
	if _, err := Run(context.Background(), []string{dir}, pol, Options{Node: cfg, Episodes: dataset.DefaultConfig()}); err == nil {
		t.Fatal("camera count mismatch must be an error")
	}
}

func TestMetricsTable(t *testing.T) {
	var m Metrics
	m.Add([]float32{1, 0, 0, 0, 0, 0, 1}, []float32{0, 0, 0, 0, 0, 0, 0}, true)
	m.Add([]float32{-1, 2, 0, 0, 0, 0, 0.4}, []float32{0, 0, 0, 0, 0, 0, 0.6}, true)
	want := Metrics{N: 2, GripperN: 2}
	want.L1 = [Dims]float64{1, 1, 0, 0, 0, 0, 0.6} // gripper: |1-0| and |0.4-0.6|
	want.L2 = [Dims]float64{1, math.Sqrt(2), 0, 0, 0, 0, math.Sqrt((1 + 0.04) / 2)}
	for k := range Dims {
		if math.Abs(m.L1[k]-want.L1[k]) > 1e-6 || math.Abs(m.L2[k]-want.L2[k]) > 1e-6 {
			t.Fatalf("dim %d: L1 %v L2 %v, want %v %v", k, m.L1[k], m.L2[k], want.L1[k], want.L2[k])
		}
	}
	if m.GripperAccuracy != 0 || math.Abs(m.MeanL1-2.0/6) > 1e-9 {
		t.Fatalf("%+v", m)
	}
	var o Metrics
	o.Add([]float32{0, 0, 0, 0, 0, 0, 1}, []float32{0, 0, 0, 0, 0, 0, 1}, true)
	m.Merge(&o)
	if m.N != 3 || math.Abs(m.GripperAccuracy-1.0/3) > 1e-9 || math.Abs(m.L1[0]-2.0/3) > 1e-9 {
		t.Fatalf("merged %+v", m)
	}
}

// checkPictures: every episode has a non-empty animated GIF (two cameras
// side by side over a caption band) and a top-down PNG.
func checkPictures(t *testing.T, dir string, episodes int) {
	t.Helper()
	for i := range episodes {
		fh, err := os.Open(filepath.Join(dir, fmt.Sprintf("episode_%03d.gif", i)))
		if err != nil {
			t.Fatal(err)
		}
		g, err := gif.DecodeAll(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, h := 16, 12 // synth.Config's default image size
		if len(g.Image) == 0 || g.Config.Width != 2*w || g.Config.Height <= h {
			t.Fatalf("episode %d: %d frames %dx%d, want 2 cameras of %dx%d", i, len(g.Image), g.Config.Width, g.Config.Height, w, h)
		}
		ph, err := os.Open(filepath.Join(dir, fmt.Sprintf("episode_%03d_top.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(ph)
		ph.Close()
		if err != nil || img.Bounds().Dx() < 100 {
			t.Fatalf("episode %d top-down: %v %v", i, err, img)
		}
	}
}

// One unreadable file among good recordings is skipped and listed, not
// fatal to the run (the trainer's policy too).
func TestReplaySkipsABadRecording(t *testing.T) {
	orttest.RequireLibrary(t)
	dir := t.TempDir()
	if err := (synth.Config{Episodes: 1, Steps: 6}).Write(filepath.Join(dir, "good.bag")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.bag"), []byte("#ROSBAG V2.0\ngarbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	pol := loadConstantModel(t)
	rep, err := Run(context.Background(), []string{dir}, pol, Options{Node: nodeConfig(), Episodes: dataset.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 1 || filepath.Base(rep.Skipped[0].Path) != "broken.bag" || rep.Overall.N == 0 {
		t.Fatalf("skipped %+v, scored %d", rep.Skipped, rep.Overall.N)
	}
	var txt bytes.Buffer
	if err := rep.WriteText(&txt); err != nil || !strings.Contains(txt.String(), "skipped recording") {
		t.Fatalf("report does not list the skipped recording:\n%s", txt.String())
	}
}
