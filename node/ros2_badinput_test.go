package node

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/transport/ros2"
	"github.com/vla3d/vla3d/transport/ros2/dds"
)

// TestNodeROS2BadInput feeds the node, over ROS 2 on loopback, malformed
// CDR on a camera topic, a publisher of the wrong type on /ee_pose and a
// best-effort publisher on the reliable, transient-local /tf_static: it
// must keep running and holding, and count each in /diagnostics.
func TestNodeROS2BadInput(t *testing.T) {
	cfg := testConfig(1)
	cfg.Transport = transport.ROS2
	cfg.ROS2.DomainID, cfg.ROS2.LocalhostOnly = 91, true
	log := zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))
	n, err := New(cfg, newLinePolicy(1, 32), log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()

	peer, err := ros2.New(ros2.Conf{Name: "hostile_peer", Domain: 91, LocalhostOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	var mu sync.Mutex
	var last map[string]string
	var control string
	sub, err := peer.Subscribe(cfg.Topics.Diagnostics, func() any { return &diagnostic_msgs.DiagnosticArray{} }, func(m any) {
		mu.Lock()
		defer mu.Unlock()
		last = map[string]string{}
		for _, s := range m.(*diagnostic_msgs.DiagnosticArray).Status {
			for _, kv := range s.Values {
				last[kv.Key] = kv.Value
			}
			if s.Name == cfg.NodeName+": control" {
				control = s.Message
			}
		}
	}, transport.Default, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	p := peer.Participant()
	garbage, err := p.NewWriter("rt"+cfg.Cameras[0].ColorTopic, "sensor_msgs::msg::dds_::Image_", ros2.QoS(transport.SensorData))
	if err != nil {
		t.Fatal(err)
	}
	wrongType, err := peer.Publish(cfg.Topics.EEPose, &std_msgs.String{}, transport.SensorData)
	if err != nil {
		t.Fatal(err)
	}
	bestEffort, err := p.NewWriter("rt"+cfg.Topics.TFStatic, "tf2_msgs::msg::dds_::TFMessage_", dds.QoS{Reliability: dds.BestEffort, Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer bestEffort.Close()
	count := func(key string) int {
		mu.Lock()
		defer mu.Unlock()
		v, _ := strconv.Atoi(last[key])
		return v
	}
	deadline := time.Now().Add(15 * time.Second)
	for count("malformed_messages_total") == 0 || count("type_mismatches_total") == 0 || count("qos_mismatches_total") == 0 {
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("diagnostics never counted every bad input: %v", last)
		}
		_ = garbage.Write([]byte{0, 1, 0, 0, 0xff, 0xff, 0xff, 0x7f, 1, 2}) // a 2 GiB header string
		_ = wrongType.Write(&std_msgs.String{Data: "not a pose"})
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	if control == "" || control == "executing policy" {
		t.Errorf("control status %q: the node must hold without valid inputs", control)
	}
	mu.Unlock()
	select {
	case err := <-runErr:
		t.Fatalf("node stopped: %v", err)
	default:
	}
	stopRun(t, cancel, runErr)
}
