package rosnode

import (
	"context"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/internal/rostest"
	"github.com/vla3d/vla3d/sim"
	"github.com/vla3d/vla3d/transport"
)

// startRoscore runs a real roscore on a free loopback port and returns its
// address; it is stopped when the test ends.
func startRoscore(t *testing.T) string { return rostest.StartMaster(t).Addr() }

// TestNodeAgainstRoscore publishes through a real roscore and executes a
// pose command sent by another node.
func TestNodeAgainstRoscore(t *testing.T) {
	addr := startRoscore(t)
	env, err := sim.New(sim.Config{Width: 32, Height: 24})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, env, Config{Transport: transport.ROS1, MasterAddress: addr, Host: "127.0.0.1", Spec: sim.EpisodeSpec{Task: sim.TaskPickPlace, Split: sim.SplitNone, Seed: 2}})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node: %v", err)
		}
	}()

	client, err := goroslib.NewNode(goroslib.NodeConf{Name: "sim_test_client", MasterAddress: addr, Host: "127.0.0.1",
		LogDestinations: goroslib.LogDestinationCallback})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var mu sync.Mutex
	var img *sensor_msgs.Image
	var pose *geometry_msgs.PoseStamped
	var instr string
	subs := []goroslib.SubscriberConf{
		{Topic: "/front/depth/image_raw", Callback: func(m *sensor_msgs.Image) { mu.Lock(); img = m; mu.Unlock() }},
		{Topic: "/ee_pose", Callback: func(m *geometry_msgs.PoseStamped) { mu.Lock(); pose = m; mu.Unlock() }},
		{Topic: "/instruction", Callback: func(m *std_msgs.String) { mu.Lock(); instr = m.Data; mu.Unlock() }},
	}
	for _, c := range subs {
		c.Node = client
		s, err := goroslib.NewSubscriber(c)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			ok := cond()
			mu.Unlock()
			if ok {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	waitFor("first messages", func() bool { return img != nil && pose != nil && instr != "" })
	mu.Lock()
	if img.Encoding != "32FC1" || img.Width != 32 || img.Height != 24 || img.Header.FrameId != "front_color_optical_frame" {
		t.Errorf("depth image header %+v %dx%d %s", img.Header, img.Width, img.Height, img.Encoding)
	}
	if instr != "put the red block in the bowl" {
		t.Errorf("instruction %q", instr)
	}
	start := pose.Pose.Position
	mu.Unlock()

	cmdPub, err := goroslib.NewPublisher(goroslib.PublisherConf{Node: client, Topic: "/vla3d/command_pose", Msg: &geometry_msgs.PoseStamped{}})
	if err != nil {
		t.Fatal(err)
	}
	defer cmdPub.Close()
	target := geometry_msgs.PoseStamped{Pose: geometry_msgs.Pose{
		Position:    geometry_msgs.Point{X: start.X + 0.08, Y: start.Y - 0.05, Z: start.Z},
		Orientation: geometry_msgs.Quaternion{W: 1},
	}}
	target.Header.FrameId = "base_link"
	bad := target
	bad.Pose.Position.X = math.Inf(1) // must be rejected, not executed
	deadline := time.Now().Add(20 * time.Second)
	for {
		cmdPub.Write(&bad)
		cmdPub.Write(&target)
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		p := pose.Pose.Position
		mu.Unlock()
		if abs(p.X-target.Pose.Position.X) < 0.005 && abs(p.Y-target.Pose.Position.Y) < 0.005 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("end effector at %+v never reached %+v", p, target.Pose.Position)
		}
	}
	// The real ROS tools see the topics.
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		rt := exec.Command("/usr/bin/python3", "/usr/bin/rostopic", "list")
		rt.Env = append(os.Environ(), "ROS_MASTER_URI=http://"+addr, "ROS_IP=127.0.0.1", "ROS_HOME="+t.TempDir())
		out, err := rt.CombinedOutput()
		if err == nil {
			for _, want := range []string{"/wrist/color/image_raw", "/tf_static", "/joint_states", "/side/labels/image_raw"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("rostopic list lacks %s:\n%s", want, out)
				}
			}
		} else {
			t.Errorf("rostopic list: %v\n%s", err, out)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestNodeExpertEpisode lets the node drive itself with the scripted expert
// and waits for the episode-end marker reporting success.
func TestNodeExpertEpisode(t *testing.T) {
	if testing.Short() {
		t.Skip("a full 10 Hz episode takes ~6 s; skipped with -short")
	}
	addr := startRoscore(t)
	env, err := sim.New(sim.Config{Width: 16, Height: 16, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, env, Config{Transport: transport.ROS1, MasterAddress: addr, Host: "127.0.0.1", Expert: true,
			Spec: sim.EpisodeSpec{Task: sim.TaskStack, Split: sim.SplitNone, Seed: 4}})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node: %v", err)
		}
	}()
	client, err := goroslib.NewNode(goroslib.NodeConf{Name: "sim_test_episode", MasterAddress: addr, Host: "127.0.0.1",
		LogDestinations: goroslib.LogDestinationCallback})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ends := make(chan string, 4)
	sub, err := goroslib.NewSubscriber(goroslib.SubscriberConf{Node: client, Topic: "/vla3d/episode",
		Callback: func(m *std_msgs.String) {
			if strings.Contains(m.Data, `"event":"end"`) {
				ends <- m.Data
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	select {
	case m := <-ends:
		if !strings.Contains(m, `"success":true`) {
			t.Errorf("episode ended without success: %s", m)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no episode end marker within 60 s")
	}
}
