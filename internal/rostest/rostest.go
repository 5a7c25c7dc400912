// Package rostest runs the real ROS 1 tools from Debian (roscore, rosbag,
// rostopic) for integration tests: a master on a free loopback port in its
// own process group, background tools stopped by group, and one-shot tool
// runs, all with ROS_HOME and logs in the test's temp directory.
package rostest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2"
)

// Python is Debian's interpreter: the ROS 1 Python tools must run under it,
// not whatever python3 comes first on PATH.
const Python = "/usr/bin/python3"

// Master is a running roscore.
type Master struct {
	Port int
	// Env is the environment for ROS tools talking to this master.
	Env []string
}

// Addr is the master's host:port (goroslib's MasterAddress).
func (m *Master) Addr() string { return fmt.Sprintf("127.0.0.1:%d", m.Port) }

// URI is the master's ROS_MASTER_URI.
func (m *Master) URI() string { return "http://" + m.Addr() }

// FreePort returns a free TCP port on loopback.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Require skips the test when a ROS tool is not installed (CI installs
// them: scripts/install.sh).
func Require(t testing.TB, tools ...string) {
	t.Helper()
	for _, n := range tools {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("ROS tool %s not installed (Debian's ros-core; scripts/install.sh installs it): %v", n, err)
		}
	}
}

// StartMaster starts `roscore -p PORT` and waits until it answers; it is
// stopped when the test ends.
func StartMaster(t testing.TB) *Master {
	t.Helper()
	Require(t, "roscore")
	port := FreePort(t)
	home := t.TempDir()
	m := &Master{Port: port, Env: append(os.Environ(),
		fmt.Sprintf("ROS_MASTER_URI=http://127.0.0.1:%d", port), "ROS_IP=127.0.0.1", "ROS_HOME="+home,
		"ROS_LOG_DIR="+filepath.Join(home, "log"), "PATH=/usr/bin:"+os.Getenv("PATH"))}
	var out strings.Builder
	stop := m.start(t, &out, "roscore", "-p", fmt.Sprint(port))
	t.Cleanup(stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := goroslib.NewNode(goroslib.NodeConf{Name: "rostest_probe", MasterAddress: m.Addr(), Host: "127.0.0.1",
			LogDestinations: goroslib.LogDestinationCallback})
		if err == nil {
			n.Close()
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("roscore did not come up: %v\n%s", err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Start runs a long-running tool against the master in its own process
// group, logging to the test's temp directory; the returned function stops
// the group (SIGINT, then SIGKILL after 15 s) and is also run at cleanup.
func (m *Master) Start(t testing.TB, name string, args ...string) (stop func()) {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(name)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	s := m.start(t, logf, name, args...)
	stop = func() { s(); _ = logf.Close() }
	t.Cleanup(stop)
	return stop
}

func (m *Master) start(t testing.TB, out interface{ Write([]byte) (int, error) }, name string, args ...string) func() {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = m.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
}

// Run runs a tool to completion (at most timeout) and returns its combined
// output; a failure fails the test.
func (m *Master) Run(t testing.TB, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = m.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}
