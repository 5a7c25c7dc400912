// Package netns runs a test inside its own Linux network namespace whose
// only interface is loopback with multicast on, so DDS discovery and data
// (multicast included) behave as on a network yet never leave the
// namespace.
package netns

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// envInside names the namespace a re-executed test runs in.
const envInside = "VLA3D_NETNS"

// CycloneConfig pins Cyclone DDS to lo with multicast (inside the namespace).
const CycloneConfig = `<CycloneDDS><Domain id="any"><General>` +
	`<Interfaces><NetworkInterface name="lo" multicast="true"/></Interfaces>` +
	`<AllowMulticast>true</AllowMulticast></General></Domain></CycloneDDS>`

// Isolate returns true inside the namespace: the caller runs the test body.
// Outside, it creates a namespace, re-executes the current test binary
// there for this test only, streams its output into t's log, fails t when
// the inner run fails, deletes the namespace and returns false. It skips t
// when `ip` is absent or the process may not create namespaces (not root).
func Isolate(t *testing.T) bool {
	t.Helper()
	if ns := os.Getenv(envInside); ns != "" {
		for _, args := range [][]string{{"link", "set", "lo", "up"}, {"link", "set", "lo", "multicast", "on"},
			{"route", "add", "224.0.0.0/4", "dev", "lo"}} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil && !strings.Contains(string(out), "File exists") {
				t.Fatalf("ip %s inside %s: %v\n%s", strings.Join(args, " "), ns, err, out)
			}
		}
		os.Setenv("CYCLONEDDS_URI", CycloneConfig)
		return true
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("ip (iproute2) not on PATH: cannot create a network namespace (scripts/install.sh installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("creating a network namespace needs root (CI runs as root)")
	}
	ns := fmt.Sprintf("vla3d-test-%d", os.Getpid())
	if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", ns, err, out)
	}
	defer func() {
		if out, err := exec.Command(ip, "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
		}
	}()
	args := []string{"netns", "exec", ns, os.Args[0], "-test.run", "^" + t.Name() + "$", "-test.count=1", "-test.v"}
	cmd := exec.Command(ip, args...)
	cmd.Env = append(os.Environ(), envInside+"="+ns)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("inside network namespace %s:\n%s", ns, out.String())
	if err != nil {
		t.Fatalf("test inside the namespace failed: %v", err)
	}
	if strings.Contains(out.String(), "--- SKIP") {
		t.Fatalf("test skipped inside the namespace")
	}
	return false
}
