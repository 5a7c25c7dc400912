package node

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2"
	"github.com/bluenviron/goroslib/v2/pkg/apislave"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/trajectory_msgs"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vla3d/vla3d/internal/rostest"
	"github.com/vla3d/vla3d/transport"
)

// startRoscore starts a real roscore on a free loopback port (stopped at
// cleanup); the test is skipped if roscore is absent.
func startRoscore(t *testing.T) *rostest.Master { return rostest.StartMaster(t) }

// fakeRobot publishes cameras, camera_info, the EE pose, tf_static for all
// cameras but the last and, like a wrist camera, /tf for the last one
// (stamped like its images, sent after them: the node looks it up at the
// image stamp and may wait for it).
type fakeRobot struct {
	node    *goroslib.Node
	pubs    []*goroslib.Publisher
	stalled atomic.Bool
}

func newFakeRobot(t *testing.T, rc *rostest.Master, cfg *Config, size int) *fakeRobot {
	t.Helper()
	n, err := goroslib.NewNode(goroslib.NodeConf{Name: "fake_robot", MasterAddress: rc.Addr(), Host: "127.0.0.1",
		LogDestinations: goroslib.LogDestinationCallback})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRobot{node: n}
	t.Cleanup(func() {
		for _, p := range f.pubs {
			p.Close()
		}
		n.Close()
	})
	return f
}

func (f *fakeRobot) pub(t *testing.T, topic string, msg any, latch bool) *goroslib.Publisher {
	t.Helper()
	p, err := goroslib.NewPublisher(goroslib.PublisherConf{Node: f.node, Topic: topic, Msg: msg, Latch: latch})
	if err != nil {
		t.Fatal(err)
	}
	f.pubs = append(f.pubs, p)
	return p
}

// run publishes at 30 Hz until ctx ends; cameras stop while stalled.
func (f *fakeRobot) run(ctx context.Context, t *testing.T, cfg *Config, size int) {
	type camPubs struct{ color, depth, info *goroslib.Publisher }
	var cams []camPubs
	for _, c := range cfg.Cameras {
		cams = append(cams, camPubs{
			f.pub(t, c.ColorTopic, &sensor_msgs.Image{}, false),
			f.pub(t, c.DepthTopic, &sensor_msgs.Image{}, false),
			f.pub(t, c.InfoTopic, &sensor_msgs.CameraInfo{}, true),
		})
	}
	tfs := f.pub(t, cfg.Topics.TFStatic, &tf2_msgs.TFMessage{}, true)
	tf := f.pub(t, cfg.Topics.TF, &tf2_msgs.TFMessage{}, false)
	last := len(cfg.Cameras) - 1
	pose := f.pub(t, cfg.Topics.EEPose, &geometry_msgs.PoseStamped{}, false)
	instr := f.pub(t, cfg.Topics.Instruction, &std_msgs.String{}, true)
	tfs.Write(&tf2_msgs.TFMessage{Transforms: staticTF(cfg).Transforms[:last]})
	instr.Write(&std_msgs.String{Data: "pick the cube"})
	tick := time.NewTicker(33 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		pose.Write(eePose(cfg.BaseFrame, now))
		if !f.stalled.Load() {
			for i, c := range cfg.Cameras {
				col, dep, info := camMsgs(c.Name, size, now)
				cams[i].info.Write(info)
				cams[i].color.Write(col)
				cams[i].depth.Write(dep)
			}
		}
		tf.Write(&tf2_msgs.TFMessage{Transforms: stampedTF(cfg, now).Transforms[last:]})
	}
}

// monitor subscribes to the node's outputs.
type monitor struct {
	mu        sync.Mutex
	poses     []time.Time
	xs        []float64
	lastX     float64
	grippers  int
	chunks    int
	lastDiag  diagnostic_msgs.DiagnosticArray
	diagCount int
}

func (m *monitor) posesBetween(a, b time.Time) (n int, lastX float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.poses {
		if !t.Before(a) && t.Before(b) {
			n++
		}
	}
	return n, m.lastX
}

// policyShare is the fraction of commands in [a, b) that moved off the hold
// pose x = 0.4 (i.e. came from the policy).
func (m *monitor) policyShare(a, b time.Time) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, moved := 0, 0
	for i, t := range m.poses {
		if !t.Before(a) && t.Before(b) {
			n++
			if m.xs[i] > 0.4 {
				moved++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(moved) / float64(n)
}

func (m *monitor) controlStatus() (string, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.lastDiag.Status {
		if strings.HasSuffix(s.Name, ": control") {
			return s.Message, m.diagCount
		}
	}
	return "", m.diagCount
}

func TestNodeAgainstRealRoscore(t *testing.T) {
	rc := startRoscore(t)
	const size = 64
	cfg := testConfig(2)
	cfg.Transport, cfg.MasterURI = transport.ROS1, "http://"+rc.Addr()
	cfg.Host = "127.0.0.1"
	cfg.ControlHz = 20
	cfg.Safety.MaxInputAge = Duration{Duration: 300 * time.Millisecond}
	pol := newLinePolicy(2, size)
	pol.Delay = 30 * time.Millisecond // a model slower than a control tick
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	node, err := New(cfg, pol, log)
	if err != nil {
		t.Fatal(err)
	}
	mon := &monitor{}
	obsNode, err := goroslib.NewNode(goroslib.NodeConf{Name: "monitor", MasterAddress: rc.Addr(), Host: "127.0.0.1",
		LogDestinations: goroslib.LogDestinationCallback})
	if err != nil {
		t.Fatal(err)
	}
	defer obsNode.Close()
	sub := func(topic string, cb any) {
		s, err := goroslib.NewSubscriber(goroslib.SubscriberConf{Node: obsNode, Topic: topic, Callback: cb})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
	}
	sub(cfg.Topics.CommandPose, func(m *geometry_msgs.PoseStamped) {
		mon.mu.Lock()
		mon.poses = append(mon.poses, time.Now())
		mon.xs = append(mon.xs, m.Pose.Position.X)
		mon.lastX = m.Pose.Position.X
		mon.mu.Unlock()
	})
	sub(cfg.Topics.CommandGripper, func(*std_msgs.Float64) { mon.mu.Lock(); mon.grippers++; mon.mu.Unlock() })
	sub(cfg.Topics.Chunk, func(*trajectory_msgs.JointTrajectory) { mon.mu.Lock(); mon.chunks++; mon.mu.Unlock() })
	sub(cfg.Topics.Diagnostics, func(m *diagnostic_msgs.DiagnosticArray) {
		mon.mu.Lock()
		mon.lastDiag, mon.diagCount = *m, mon.diagCount+1
		mon.mu.Unlock()
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- node.Run(ctx) }()
	robot := newFakeRobot(t, rc, &cfg, size)
	robotCtx, stopRobot := context.WithCancel(ctx)
	defer stopRobot()
	go robot.run(robotCtx, t, &cfg, size)

	// Wait for the policy's commands (x > 0.4 means not holding).
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, x := mon.posesBetween(time.Time{}, time.Now())
		if x > 0.4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no policy command within 10 s (last x %v)", x)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Rate over 2 s at 20 Hz.
	start := time.Now()
	time.Sleep(2 * time.Second)
	end := time.Now()
	n, _ := mon.posesBetween(start, end)
	if hz := float64(n) / 2; hz < 16 || hz > 24 {
		t.Errorf("command rate %.1f Hz, want ~20", hz)
	}
	// A loaded machine may cause a short hold; the policy must drive most ticks.
	if share := mon.policyShare(start, end); share < 0.5 {
		t.Errorf("only %.0f%% of commands came from the policy", 100*share)
	}
	// The real rostopic tool sees the command topic.
	if out, err := rostopicEcho(rc, cfg.Topics.CommandGripper); err != nil {
		t.Errorf("rostopic echo: %v\n%s", err, out)
	} else if !strings.Contains(out, "data:") {
		t.Errorf("rostopic echo output %q", out)
	}

	// Stall the cameras: the node must keep publishing, now the hold
	// command: where the robot was last commanded, constant.
	robot.stalled.Store(true)
	time.Sleep(time.Second)
	start = time.Now()
	_, holdX := mon.posesBetween(time.Time{}, start)
	time.Sleep(time.Second)
	n, x := mon.posesBetween(start, time.Now())
	if n < 15 {
		t.Errorf("only %d commands in 1 s while the camera stalled", n)
	}
	if x != holdX || x < 0.4 {
		t.Errorf("command x %v during the stall, want the constant hold at the last command %v", x, holdX)
	}
	time.Sleep(1200 * time.Millisecond) // one more diagnostics period
	if msg, count := mon.controlStatus(); !strings.Contains(msg, "stale_cameras") {
		t.Errorf("diagnostics control status %q after %d arrays, want stale_cameras", msg, count)
	}
	mon.mu.Lock()
	chunks, grippers := mon.chunks, mon.grippers
	mon.mu.Unlock()
	if chunks == 0 || grippers == 0 {
		t.Errorf("chunks %d, gripper commands %d", chunks, grippers)
	}

	// Clean shutdown publishes a stop (the hold pose) and returns nil.
	before, _ := mon.posesBetween(time.Time{}, time.Now())
	stopRobot()
	stopRun(t, cancel, runErr)
	time.Sleep(200 * time.Millisecond)
	if after, x := mon.posesBetween(time.Time{}, time.Now()); after <= before || x != holdX {
		t.Errorf("no stop command at the hold pose on shutdown (%d -> %d commands, last x %v, hold %v)", before, after, x, holdX)
	}
}

// rostopicEcho runs the real `rostopic echo -n 1` against the test master.
func rostopicEcho(rc *rostest.Master, topic string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "/usr/bin/rostopic", "echo", "-n", "1", topic)
	cmd.Env = rc.Env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A node the master shuts down (rosnode kill, or a second node taking its
// name) exits Run with ErrShutDownByMaster instead of living on as a
// zombie that publishes nothing.
func TestNodeExitsWhenShutDownByMaster(t *testing.T) {
	rc := startRoscore(t)
	rostest.Require(t, "rosnode")
	for _, how := range []string{"rosnode kill", "duplicate name"} {
		t.Run(how, func(t *testing.T) {
			cfg := testConfig(1)
			cfg.Transport, cfg.MasterURI, cfg.Host = transport.ROS1, "http://"+rc.Addr(), "127.0.0.1"
			cfg.NodeName = "vla3d_zombie_" + strings.ReplaceAll(how, " ", "_")
			n, err := New(cfg, newLinePolicy(1, 32), zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel+1)))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- n.Run(context.Background()) }()
			time.Sleep(time.Second) // registered
			switch how {
			case "rosnode kill":
				rc.Run(t, 30*time.Second, "rosnode", "kill", "/"+cfg.NodeName)
			default:
				other, err := goroslib.NewNode(goroslib.NodeConf{Name: cfg.NodeName, MasterAddress: rc.Addr(), Host: "127.0.0.1",
					LogDestinations: goroslib.LogDestinationCallback})
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
			}
			select {
			case err := <-done:
				if !errors.Is(err, ErrShutDownByMaster) {
					t.Fatalf("Run returned %v, want ErrShutDownByMaster", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("node still running 15 s after the master shut it down")
			}
		})
	}
}

// A publisherUpdate that drops the pose feed (a hostile or confused peer)
// makes the node hold; it resubscribes and drives again instead of holding
// forever.
func TestNodeResubscribesAfterAFeedIsDropped(t *testing.T) {
	rc := startRoscore(t)
	const size = 32
	cfg := testConfig(1)
	cfg.Transport, cfg.MasterURI, cfg.Host, cfg.ControlHz = transport.ROS1, "http://"+rc.Addr(), "127.0.0.1", 20
	cfg.NodeName = "vla3d_resubscribe"
	n, err := New(cfg, newLinePolicy(1, size), zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() { cancel(); <-done }()
	robot := newFakeRobot(t, rc, &cfg, size)
	go robot.run(ctx, t, &cfg, size)
	cmds := &commandLog{}
	sub, err := goroslib.NewSubscriber(goroslib.SubscriberConf{Node: robot.node, Topic: cfg.Topics.CommandPose, Callback: cmds.add})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	drives := func(within time.Duration) bool {
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			if _, pos := cmds.since(time.Now().Add(-300 * time.Millisecond)); moving(pos) {
				return true
			}
			time.Sleep(50 * time.Millisecond)
		}
		return false
	}
	if !drives(15 * time.Second) {
		t.Fatal("the policy never drove")
	}
	nodes, err := robot.node.MasterGetNodes()
	if err != nil {
		t.Fatal(err)
	}
	info := nodes["/"+cfg.NodeName]
	if info == nil {
		t.Fatalf("node not registered: %v", nodes)
	}
	if err := apislave.NewClient(strings.TrimPrefix(info.Address, "http://"), "/hostile", &http.Client{Timeout: 5 * time.Second}).
		PublisherUpdate(cfg.Topics.EEPose, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	time.Sleep(time.Second)
	if at, pos := cmds.since(start); len(pos) == 0 {
		t.Fatal("no commands at all after the feed was dropped")
	} else if _, held := holdStart(at, pos); !held {
		t.Fatal("the node kept driving without a pose feed")
	}
	if !drives(8 * time.Second) {
		t.Fatal("the node did not resubscribe: still holding 8 s after the pose feed was dropped")
	}
	t.Logf("driving again %v after the pose feed was dropped", time.Since(start).Round(100*time.Millisecond))
}
