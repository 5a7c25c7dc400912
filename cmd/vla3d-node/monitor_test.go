package main

import (
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
