package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"

	"github.com/vla3d/vla3d/transport"
)

// nodeMonitor watches a running vla3d-node over either ROS: when each
// pose command arrived and the latest control status in /diagnostics.
type nodeMonitor struct {
	mu      sync.Mutex
	stamps  []time.Time
	control string
}

func watchNode(t *testing.T, tr transport.Transport) *nodeMonitor {
	t.Helper()
	m := &nodeMonitor{}
	subPose, err := tr.Subscribe("/vla3d/command_pose", func() any { return &geometry_msgs.PoseStamped{} },
		func(any) { m.mu.Lock(); m.stamps = append(m.stamps, time.Now()); m.mu.Unlock() }, transport.Default, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(subPose.Close)
	subDiag, err := tr.Subscribe("/diagnostics", func() any { return &diagnostic_msgs.DiagnosticArray{} }, func(msg any) {
		for _, s := range msg.(*diagnostic_msgs.DiagnosticArray).Status {
			if strings.HasSuffix(s.Name, ": control") {
				m.mu.Lock()
				m.control = s.Message
				m.mu.Unlock()
			}
		}
	}, transport.Default, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(subDiag.Close)
	return m
}

// Control is the latest control status.
func (m *nodeMonitor) Control() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.control
}

// CommandsSince counts the pose commands received after from.
func (m *nodeMonitor) CommandsSince(from time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.stamps {
		if s.After(from) {
			n++
		}
	}
	return n
}

// e2e is what the end-to-end tests need: the repository root, the
// checked-in tiny model, the ONNX Runtime library and freshly built
// vla3d-node and vla3d-sim binaries in bin.
type e2e struct{ root, model, ortLib, bin string }

func setupE2E(t *testing.T) e2e {
	t.Helper()
	if testing.Short() {
		t.Skip("builds both binaries and runs the simulator: skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not on PATH")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	e := e2e{root: root, model: filepath.Join(root, "policy", "testdata", "model.onnx"),
		ortLib: filepath.Join(root, ".deps", "onnxruntime", "libonnxruntime.so.1"), bin: t.TempDir()}
	if _, err := os.Stat(e.model); err != nil {
		t.Fatalf("checked-in tiny model missing (regenerate: go run ./cmd/vla3d-export -tiny -o policy/testdata/): %v", err)
	}
	if _, err := os.Stat(e.ortLib); err != nil {
		t.Skip("ONNX Runtime library absent (run scripts/install.sh)")
	}
	for _, c := range []string{"vla3d-node", "vla3d-sim"} {
		build := exec.Command(goBin, "build", "-o", filepath.Join(e.bin, c), "./cmd/"+c)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", c, err, out)
		}
	}
	return e
}
