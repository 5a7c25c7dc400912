package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vla3d/vla3d/transport/ros2"
)

// TestSimWithNodeROS2 is the quick start's default: the MuJoCo simulated
// robot (vla3d-sim node) and vla3d-node running the tiny ONNX model, two
// processes talking ROS 2 over DDS in localhost-only mode (as
// scripts/demo.sh runs them); a ROS 2 monitor in the test must see the
// node execute the policy at the control rate, and SIGINT must publish a
// stop.
func TestSimWithNodeROS2(t *testing.T) {
	e := setupE2E(t)
	root, model, lib, bin := e.root, e.model, e.ortLib, e.bin
	domain := 100 + rand.IntN(100) // apart from other tests running at the same time
	env := append(os.Environ(), "ROS_LOCALHOST_ONLY=1", fmt.Sprintf("ROS_DOMAIN_ID=%d", domain), "VLA3D_ORT_LIB="+lib)
	start := func(name string, args ...string) (*exec.Cmd, *lockedBuffer, chan error) {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir, cmd.Env = root, env
		out := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited, done := make(chan error, 1), make(chan struct{})
		go func() { exited <- cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
		})
		return cmd, out, exited
	}
	_, simOut, simExited := start("vla3d-sim", "node", "--transport", "ros2", "--hz", "10", "--auto-reset")
	nodeCmd, nodeOut, nodeExited := start("vla3d-node", "--transport", "ros2", "--config", "launch/vla3d_node.yaml", "--model", model, "--rate", "10")

	mon, err := ros2.New(ros2.Conf{Name: "e2e_monitor", Domain: uint32(domain), LocalhostOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	watch := watchNode(t, mon)

	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		c := watch.Control()
		if c == "executing policy" {
			break
		}
		select {
		case err := <-simExited:
			t.Fatalf("vla3d-sim exited early (%v)\n%s", err, simOut.String())
		case err := <-nodeExited:
			t.Fatalf("vla3d-node exited early (%v)\n%s", err, nodeOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not executing the policy after 60 s (control status %q)\nnode:\n%s\nsim:\n%s", c, nodeOut.String(), simOut.String())
		}
	}
	from := time.Now()
	time.Sleep(2 * time.Second)
	if n := watch.CommandsSince(from); n < 16 || n > 24 {
		t.Errorf("%d commands in 2 s, want ~20 (10 Hz)", n)
	}
	_ = nodeCmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-nodeExited:
		if err != nil {
			t.Errorf("vla3d-node exit: %v\n%s", err, nodeOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("vla3d-node did not stop on SIGINT\n%s", nodeOut.String())
	}
	if !strings.Contains(nodeOut.String(), "published stop command") {
		t.Errorf("no stop command on SIGINT:\n%s", nodeOut.String())
	}
}
