package record

import (
	"context"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/sim"
	"github.com/vla3d/vla3d/sim/rosio"
)

func TestRecordEpisode(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 32, Height: 24})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	dir := t.TempDir()
	ctx := context.Background()
	eps, err := Run(ctx, env, Config{Dir: dir, Task: sim.TaskPickPlace, Split: sim.SplitNone, Episodes: 1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 1 || !eps[0].Success || eps[0].Path == "" {
		t.Fatalf("episodes %+v", eps)
	}
	steps := eps[0].Steps
	r, err := bag.Open(eps[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	info := r.Info()
	topics := rosio.DefaultTopics()
	want := map[string]int{
		topics.ExpertAction: steps, topics.Episode: 2, topics.Instruction: 1, topics.TFStatic: 1,
		topics.EEPose: steps + 1, topics.JointStates: steps + 1, topics.TF: steps + 1,
		topics.Objects: 1, topics.ObjectPoses: steps + 1,
	}
	for _, c := range []string{"front", "side", "wrist"} {
		for _, tp := range []string{contract.ColorTopic(c), contract.DepthTopic(c), contract.ColorInfoTopic(c), contract.DepthInfoTopic(c), contract.LabelsTopic(c)} {
			want[tp] = steps + 1
		}
	}
	for tp, n := range want {
		if got := info.Topics[tp].Messages; got != n {
			t.Errorf("%s: %d messages, want %d", tp, got, n)
		}
	}
	if len(info.Topics) != len(want) {
		t.Errorf("%d topics, want %d", len(info.Topics), len(want))
	}
	// The last label image decodes and contains the red block.
	var types bag.TypeCache
	it := r.Messages(ctx, bag.Query{Topics: []string{contract.LabelsTopic("front")}})
	var img sensor_msgs.Image
	for it.Next() {
		img = sensor_msgs.Image{}
		if err := it.Message().Decode(&types, &img); err != nil {
			t.Fatal(err)
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	var lab msgs.LabelImage
	if err := rosconv.DecodeLabels(&img, &lab); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, id := range lab.IDs {
		found = found || id == 1
	}
	if !found {
		t.Error("front labels lack the red block (id 1)")
	}
	it = r.Messages(ctx, bag.Query{Topics: []string{topics.Episode}})
	var marks []string
	for it.Next() {
		var s std_msgs.String
		if err := it.Message().Decode(&types, &s); err != nil {
			t.Fatal(err)
		}
		marks = append(marks, s.Data)
	}
	if len(marks) != 2 || !strings.Contains(marks[0], `"event":"start"`) || !strings.Contains(marks[1], `"success":true`) {
		t.Errorf("episode markers %v", marks)
	}
	it = r.Messages(ctx, bag.Query{Topics: []string{topics.ObjectPoses}})
	var poses geometry_msgs.PoseArray
	for it.Next() {
		poses = geometry_msgs.PoseArray{} // the decoder appends to slices
		if err := it.Message().Decode(&types, &poses); err != nil {
			t.Fatal(err)
		}
	}
	if len(poses.Poses) != len(env.Scene().Objects) || poses.Header.FrameId != "base_link" {
		t.Errorf("object poses: %d poses in %q for %d objects", len(poses.Poses), poses.Header.FrameId, len(env.Scene().Objects))
	} else if red := poses.Poses[0].Position; red.Z > 0.06 {
		t.Errorf("final red block pose %+v not in the bowl", red)
	}
	rosbagInfo(t, eps[0].Path, steps)
}

// rosbagInfo runs the real `rosbag info` on the recorded bag.
func rosbagInfo(t *testing.T, path string, steps int) {
	if _, err := exec.LookPath("rosbag"); err != nil {
		t.Logf("rosbag not installed, skipping the rosbag info check: %v", err)
		return
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Logf("Debian python3 missing, skipping rosbag info: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "/usr/bin/rosbag", "info", path)
	cmd.Env = append(os.Environ(), "ROS_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rosbag info: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{"/front/labels/image_raw", "sensor_msgs/Image", "/vla3d/expert_action", "std_msgs/Float32MultiArray", "/tf_static", "geometry_msgs/PoseArray"} {
		if !strings.Contains(s, want) {
			t.Errorf("rosbag info lacks %q:\n%s", want, s)
		}
	}
	t.Logf("rosbag info:\n%s", s)
}

func TestRecordRejectsBadConfig(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 16, Height: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	for _, c := range []Config{
		{Dir: t.TempDir(), Task: "nope", Split: sim.SplitNone, Episodes: 1},
		{Dir: t.TempDir(), Task: sim.TaskStack, Split: sim.SplitNone, Episodes: 0},
		{Dir: t.TempDir(), Task: sim.TaskStack, Split: sim.SplitLight, Severity: 2, Episodes: 1},
	} {
		if _, err := Run(context.Background(), env, c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// DART: the executed path is perturbed, the recorded actions are the
// expert's (finite, within its speed cap), and the expert still finishes.
func TestRecordWithDARTNoise(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 16, Height: 16, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	dir := t.TempDir()
	eps, err := Run(context.Background(), env, Config{Dir: dir, Task: sim.TaskPickPlace, Split: sim.SplitNone, Episodes: 1, Seed: 2,
		MaxSteps: 150, DARTNoise: 0.004, KeepFailed: true})
	if err != nil {
		t.Fatal(err)
	}
	if !eps[0].Success {
		t.Fatalf("the expert did not recover from DART noise: %+v", eps[0])
	}
}

// stillDriver is a policy that never moves and asks for a new chunk of two
// actions each time; it counts its calls.
type stillDriver struct {
	env   *sim.Env
	calls *int
}

func (d stillDriver) Act(context.Context, *msgs.Observation) (msgs.ActionChunk, error) {
	*d.calls++
	return msgs.ActionChunk{Stamp: d.env.Stamp(), Period: d.env.ControlPeriod(), Horizon: 2, Dim: msgs.EEActionDim,
		Values: make([]float32, 2*msgs.EEActionDim)}, nil
}

// TestRecordWithDriver (DAgger): the driver's chunks are executed (the
// robot stays where a still driver leaves it, so the episode fails) while
// the expert's actions in the visited states are recorded, and the failed
// episode is kept.
func TestRecordWithDriver(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 16, Height: 16, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	calls := 0
	const steps = 10
	eps, err := Run(context.Background(), env, Config{Dir: t.TempDir(), Task: sim.TaskPickPlace, Split: sim.SplitNone, Episodes: 1, Seed: 3,
		MaxSteps: steps, Driver: func(env *sim.Env) (sim.Controller, error) { return stillDriver{env, &calls}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if eps[0].Success || eps[0].Path == "" || eps[0].Steps != steps {
		t.Fatalf("episode %+v: want a failed episode of %d steps, kept", eps[0], steps)
	}
	if calls != steps/2 {
		t.Errorf("driver asked %d times for %d steps of 2-action chunks, want %d", calls, steps, steps/2)
	}
	if p := env.State().TargetPos; math.Abs(p[0]-0.4) > 1e-9 || math.Abs(p[2]-0.25) > 1e-9 {
		t.Errorf("the robot moved to %v under a still driver", p)
	}
	r, err := bag.Open(eps[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	moving := 0
	var types bag.TypeCache
	it := r.Messages(context.Background(), bag.Query{Topics: []string{rosio.DefaultTopics().ExpertAction}})
	for it.Next() {
		var a std_msgs.Float32MultiArray
		if err := it.Message().Decode(&types, &a); err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(a.Data[msgs.ActionDX]))+math.Abs(float64(a.Data[msgs.ActionDY]))+math.Abs(float64(a.Data[msgs.ActionDZ])) > 0.01 {
			moving++
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if moving != steps {
		t.Errorf("%d of %d recorded actions move: they must be the expert's, not the driver's", moving, steps)
	}
}
