package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vla3d/vla3d/internal/fastddspeer"
	"github.com/vla3d/vla3d/internal/netns"
	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/transport/ros2"
)

// bigPattern is peer.cpp's 1280x720 rgb8 test pattern.
func bigPattern(n int) []byte {
	d := make([]byte, n)
	for i := range d {
		d[i] = byte((i*31 + i/7) & 0xff)
	}
	return d
}

// TestNodeInteropFastDDS runs the node over ROS 2 against an independent
// ROS 2 peer (Fast DDS, hand-written type support, Fast CDR), inside a
// network namespace: the peer publishes 3 RGB-D cameras, camera_info, /tf,
// /tf_static, /ee_pose, /joint_states and the latched instruction at 15 Hz
// with sensor-data QoS and subscribes to the node's outputs with ROS 2's
// default QoS. Commands must arrive at the control rate, a stalled camera
// must make the node hold (and say so in /diagnostics), a 1280x720 rgb8
// image must cross intact both ways, and shutdown must publish a stop.
func TestNodeInteropFastDDS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a C++ Fast DDS peer and runs in a network namespace: skipped with -short")
	}
	if !netns.Isolate(t) {
		return
	}
	bin := fastddspeer.Build(t)
	const size = 64
	cfg := testConfig(3)
	cfg.Transport = transport.ROS2
	cfg.ROS2.DomainID = 0
	cfg.ControlHz = 20
	cfg.Safety.MaxInputAge = Duration{Duration: 300 * time.Millisecond}
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	n, err := New(cfg, newLinePolicy(3, size), log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()

	// A Go-side ROS 2 monitor: /diagnostics, and the big image sent back.
	mon, err := ros2.New(ros2.Conf{Name: "interop_monitor", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	var mu sync.Mutex
	var controls []string
	var bigGot, bigBad int
	back, err := mon.Publish("/interop/big_image_back", &sensor_msgs.Image{}, transport.Default)
	if err != nil {
		t.Fatal(err)
	}
	want := bigPattern(1280 * 720 * 3)
	subBig, err := mon.Subscribe("/interop/big_image", func() any { return &sensor_msgs.Image{} }, func(m any) {
		img := m.(*sensor_msgs.Image)
		ok := img.Width == 1280 && img.Height == 720 && img.Encoding == "rgb8" && img.Step == 3840 && string(img.Data) == string(want)
		mu.Lock()
		if ok {
			bigGot++
		} else {
			bigBad++
		}
		mu.Unlock()
		if ok {
			if err := back.Write(img); err != nil {
				t.Errorf("writing the big image back: %v", err)
			}
		}
	}, transport.Default, func(err error) { t.Errorf("big image: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer subBig.Close()
	subDiag, err := mon.Subscribe(cfg.Topics.Diagnostics, func() any { return &diagnostic_msgs.DiagnosticArray{} }, func(m any) {
		for _, s := range m.(*diagnostic_msgs.DiagnosticArray).Status {
			if strings.HasSuffix(s.Name, ": control") {
				mu.Lock()
				controls = append(controls, s.Message)
				mu.Unlock()
			}
		}
	}, transport.Default, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer subDiag.Close()

	const stallAfter, stallFor = 9.0, 3.0
	peer := fastddspeer.Start(t, bin, 40, stallAfter, stallFor)
	if _, ok := peer.WaitFor("ready", 20*time.Second); !ok {
		t.Fatal("the Fast DDS peer did not start")
	}
	// The policy's commands (x > 0.4: not the hold pose) reach the peer.
	cmdX := func(l fastddspeer.Line) float64 {
		f := strings.Fields(l.Text)
		x, _ := strconv.ParseFloat(f[2], 64)
		return x
	}
	deadline := time.Now().Add(8 * time.Second)
	for {
		ls := peer.Lines("cmd ", time.Time{}, time.Now())
		if len(ls) > 0 && cmdX(ls[len(ls)-1]) > 0.4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no policy command reached the Fast DDS peer within 8 s (%d commands)", len(ls))
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	time.Sleep(2 * time.Second)
	hz := float64(len(peer.Lines("cmd ", start, time.Now()))) / 2
	if hz < 16 || hz > 24 {
		t.Errorf("commands at the peer: %.1f Hz, want ~20", hz)
	}
	t.Logf("commands at the Fast DDS peer: %.1f Hz (control rate 20 Hz)", hz)

	// The stall: the node keeps commanding, constant (the hold), and its
	// diagnostics say why.
	stall, ok := peer.WaitFor("stall", 15*time.Second)
	if !ok {
		t.Fatal("the peer never stalled its cameras")
	}
	time.Sleep(time.Until(stall.At.Add(1500 * time.Millisecond)))
	from := time.Now()
	time.Sleep(time.Second)
	held := peer.Lines("cmd ", from, time.Now())
	if len(held) < 15 {
		t.Errorf("only %d commands in 1 s while the cameras stalled", len(held))
	}
	for _, l := range held {
		if cmdX(l) != cmdX(held[0]) {
			t.Errorf("command moved during the stall: %q vs %q", l.Text, held[0].Text)
			break
		}
	}
	if _, ok := peer.WaitFor("resume", 5*time.Second); !ok {
		t.Error("the peer never resumed")
	}
	mu.Lock()
	stale := false
	for _, c := range controls {
		stale = stale || strings.Contains(c, "stale_cameras")
	}
	nControls := len(controls)
	mu.Unlock()
	if !stale {
		t.Errorf("no /diagnostics control status said stale_cameras (%d statuses)", nControls)
	}

	// Outputs the peer saw, and the big image both ways.
	for _, what := range []string{"gripper ", "chunk ", "diag "} {
		if len(peer.Lines(what, time.Time{}, time.Now())) == 0 {
			t.Errorf("the peer received no %q messages", strings.TrimSpace(what))
		}
	}
	if _, ok := peer.WaitFor("big_ok", 5*time.Second); !ok {
		t.Errorf("the 1280x720 image sent back did not reach the peer intact (bad: %d)", len(peer.Lines("big_bad", time.Time{}, time.Now())))
	}
	mu.Lock()
	if bigGot == 0 || bigBad > 0 {
		t.Errorf("1280x720 images from the peer: %d intact, %d damaged", bigGot, bigBad)
	}
	t.Logf("1280x720 rgb8 from the peer: %d intact, %d damaged; back to the peer: %d intact; %d stall commands held; %d control statuses",
		bigGot, bigBad, len(peer.Lines("big_ok", time.Time{}, time.Now())), len(held), nControls)
	mu.Unlock()
	// The node announced itself as rmw does: `ros2 node list` would show it.
	found := false
	for _, l := range peer.Lines("node ", time.Time{}, time.Now()) {
		var ns, name string
		var readers, writers int
		if _, err := fmt.Sscanf(l.Text, "node %s %s readers %d writers %d", &ns, &name, &readers, &writers); err == nil &&
			ns == "/" && name == cfg.NodeName && readers >= 3*3+4 && writers >= 4 {
			if !found {
				t.Logf("ros_discovery_info at the Fast DDS peer: %s", l.Text)
			}
			found = true
		}
	}
	if !found {
		t.Errorf("the peer never saw %s on ros_discovery_info with its readers and writers: %v", cfg.NodeName, peer.Lines("node ", time.Time{}, time.Now()))
	}
	if ls := peer.Lines("qos_incompatible", time.Time{}, time.Now()); len(ls) > 0 {
		t.Errorf("the peer reported incompatible QoS: %v", ls)
	}

	// Shutdown publishes a stop the peer receives.
	before := len(peer.Lines("cmd ", time.Time{}, time.Now()))
	stopRun(t, cancel, runErr)
	time.Sleep(300 * time.Millisecond)
	if after := len(peer.Lines("cmd ", time.Time{}, time.Now())); after <= before {
		t.Errorf("no stop command reached the peer on shutdown (%d -> %d)", before, after)
	}
}
