package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/transport/ros1"
)

// lockedBuffer collects a child's output safely across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSimWithNodeLaunch is the whole product: the real roslaunch starts
// roscore, the MuJoCo simulated robot (vla3d-sim) and vla3d-node running
// the tiny ONNX model; the node must drive the robot at the control rate
// and publish a stop on SIGINT.
func TestSimWithNodeLaunch(t *testing.T) {
	roslaunch, err := exec.LookPath("roslaunch")
	if err != nil {
		t.Skip("roslaunch not on PATH (install Debian's ros-core)")
	}
	e := setupE2E(t)
	root, model, bin := e.root, e.model, e.bin

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	home := t.TempDir()
	cmd := exec.Command("/usr/bin/python3", roslaunch, "-p", fmt.Sprint(port), "vla3d", "sim_with_node.launch", "model:="+model)
	// The environment of a shell that has not sourced scripts/env.sh: the
	// launch wrappers must find the ONNX Runtime library themselves.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VLA3D_ORT_LIB=") && !strings.HasPrefix(kv, "MUJOCO_GL=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		fmt.Sprintf("ROS_MASTER_URI=http://127.0.0.1:%d", port), "ROS_IP=127.0.0.1", "ROS_HOME="+home,
		"ROS_PACKAGE_PATH="+filepath.Join(root, "launch"), "VLA3D_BIN_DIR="+bin, "PATH=/usr/bin:"+os.Getenv("PATH"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}()

	// Connect a monitor once the master is up.
	var mon transport.Transport
	for deadline := time.Now().Add(30 * time.Second); ; {
		mon, err = ros1.New(ros1.Conf{Name: "e2e_monitor", MasterAddress: fmt.Sprintf("127.0.0.1:%d", port), Host: "127.0.0.1"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ROS master from roslaunch not reachable: %v\n%s", err, out.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	defer mon.Close()
	watch := watchNode(t, mon)

	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		c := watch.Control()
		if c == "executing policy" {
			break
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("roslaunch exited early (%v)\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not executing the policy after 60 s (control status %q)\n%s", c, out.String())
		}
	}
	start := time.Now()
	time.Sleep(2 * time.Second)
	if n := watch.CommandsSince(start); n < 16 || n > 24 {
		t.Errorf("%d commands in 2 s, want ~20 (10 Hz)", n)
	}

	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-exited:
		stopped = true
	case <-time.After(20 * time.Second):
		t.Fatalf("roslaunch did not stop on SIGINT\n%s", out.String())
	}
	if !strings.Contains(out.String(), "published stop command") {
		t.Errorf("no stop command on SIGINT:\n%s", out.String())
	}
}
