package node

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/trajectory_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/visualization_msgs"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
	"github.com/vla3d/vla3d/transport"
)

// testModel is the checked-in tiny 3DVLA model (3 cameras, 96x96).
var testModel = filepath.Join("..", "policy", "testdata", "model.onnx")

// loadTestModel opens the checked-in tiny model on ONNX Runtime's CPU
// provider; it skips only when the runtime library is absent (the model is
// part of the repository: its absence is a failure).
func loadTestModel(t testing.TB) *ort.Policy {
	t.Helper()
	if _, err := os.Stat(testModel); err != nil {
		t.Fatalf("checked-in tiny model %s missing (regenerate: go run ./cmd/vla3d-export -tiny -o policy/testdata/): %v", testModel, err)
	}
	orttest.RequireLibrary(t)
	pol, err := ort.Load(testModel, ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pol.Close() })
	return pol
}

// The node runs the real tiny model through ONNX Runtime against a real
// roscore: three 128x128 RGB-D cameras resized to the model's 96x96,
// commands at the control rate, chunks of the model's horizon, and the
// diagnostics reporting that the policy (not the hold) is driving.
func TestNodeWithONNXRuntimeModel(t *testing.T) {
	pol := loadTestModel(t)
	rc := startRoscore(t)
	spec := pol.Spec()
	const size = 128
	cfg := testConfig(spec.Cameras)
	cfg.Transport, cfg.MasterURI, cfg.Host, cfg.ControlHz = transport.ROS1, "http://"+rc.Addr(), "127.0.0.1", 10
	cfg.Markers.Enabled, cfg.Markers.MinConfidence = true, 0 // the untrained probes are unsure: draw them all
	n, err := New(cfg, pol, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
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
	chunkPoints := make(chan int, 100)
	markerArrays := make(chan *visualization_msgs.MarkerArray, 100)
	for topic, cb := range map[string]any{
		cfg.Markers.Topic: func(m *visualization_msgs.MarkerArray) {
			select {
			case markerArrays <- m:
			default:
			}
		},
		cfg.Topics.CommandPose: func(m *geometry_msgs.PoseStamped) {
			mon.mu.Lock()
			mon.poses = append(mon.poses, time.Now())
			mon.xs = append(mon.xs, m.Pose.Position.X)
			mon.lastX = m.Pose.Position.X
			mon.mu.Unlock()
		},
		cfg.Topics.Chunk: func(m *trajectory_msgs.JointTrajectory) {
			select {
			case chunkPoints <- len(m.Points) * len(m.Points[0].Positions):
			default:
			}
		},
		cfg.Topics.Diagnostics: func(m *diagnostic_msgs.DiagnosticArray) {
			mon.mu.Lock()
			mon.lastDiag, mon.diagCount = *m, mon.diagCount+1
			mon.mu.Unlock()
		},
	} {
		s, err := goroslib.NewSubscriber(goroslib.SubscriberConf{Node: obsNode, Topic: topic, Callback: cb})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	robot := newFakeRobot(t, rc, &cfg, size)
	go robot.run(ctx, t, &cfg, size)

	select {
	case got := <-chunkPoints:
		if got != spec.Horizon*spec.ActionDim {
			t.Errorf("chunk holds %d values, want %d", got, spec.Horizon*spec.ActionDim)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no action chunk from the ONNX model within 20 s")
	}
	checkLiveMarkers(t, markerArrays, spec, cfg.BaseFrame)
	// Let diagnostics cover a window in which the policy drives.
	deadline := time.Now().Add(15 * time.Second)
	for {
		time.Sleep(500 * time.Millisecond)
		msg, _ := mon.controlStatus()
		if msg == "executing policy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("control status %q, want executing policy", msg)
		}
	}
	start := time.Now()
	time.Sleep(2 * time.Second)
	if cnt, _ := mon.posesBetween(start, time.Now()); cnt < 16 || cnt > 24 {
		t.Errorf("%d commands in 2 s at 10 Hz", cnt)
	}
	mon.mu.Lock()
	var predictMs float64
	for _, s := range mon.lastDiag.Status {
		for _, kv := range s.Values {
			if kv.Key == "predict_mean_ms" {
				predictMs, _ = strconv.ParseFloat(kv.Value, 64)
			}
		}
	}
	mon.mu.Unlock()
	t.Logf("tiny model predict mean %.2f ms (from /diagnostics)", predictMs)
	cancel()
	select {
	case err := <-done:
		if err != nil && !strings.Contains(err.Error(), "context") {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("node did not stop")
	}
}

// checkLiveMarkers waits for an inference's markers and a command marker:
// one sphere per instance probe of the tiny row-C model, completion points,
// the planned chunk with one target per step, all finite, in the base frame.
func checkLiveMarkers(t *testing.T, arrays <-chan *visualization_msgs.MarkerArray, spec policy.Spec, frame string) {
	t.Helper()
	seen := map[string]int{}
	deadline := time.After(20 * time.Second)
	for seen[MarkerNSInstances] == 0 || seen[MarkerNSCommand] == 0 {
		var a *visualization_msgs.MarkerArray
		select {
		case a = <-arrays:
		case <-deadline:
			t.Fatalf("markers seen %v within 20 s", seen)
		}
		for _, m := range a.Markers {
			if m.Header.FrameId != frame {
				t.Fatalf("marker %s/%d in frame %q, want %q", m.Ns, m.Id, m.Header.FrameId, frame)
			}
			if v, bad := nonFinite(&m); bad {
				t.Fatalf("marker %s/%d carries %v", m.Ns, m.Id, v)
			}
			switch m.Ns {
			case MarkerNSPlan:
				if len(m.Points) != spec.Horizon {
					t.Fatalf("plan has %d targets, want %d", len(m.Points), spec.Horizon)
				}
			case MarkerNSCompletion:
				if len(m.Points) == 0 {
					t.Fatal("empty completion marker")
				}
			}
			seen[m.Ns]++
		}
	}
	if seen[MarkerNSPlan] == 0 || seen[MarkerNSCompletion] == 0 {
		t.Fatalf("markers seen %v: no plan or completion", seen)
	}
	t.Logf("markers seen: %v", seen)
}
