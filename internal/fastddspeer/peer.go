// Package fastddspeer builds and runs src/peer.cpp, an independent ROS 2 peer
// (eProsima Fast DDS with hand-written type support, Fast CDR encoding) for
// the ROS 2 interop tests.
package fastddspeer

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed src/peer.cpp
var source []byte

// Build compiles the peer with g++ against Debian's libfastrtps-dev and
// returns the binary's path. It skips t only when g++ or the Fast DDS
// headers are absent (scripts/install.sh installs both).
func Build(t testing.TB) string {
	t.Helper()
	gxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("g++ not on PATH (scripts/install.sh installs it): cannot build the Fast DDS peer")
	}
	if _, err := os.Stat("/usr/include/fastdds/dds/domain/DomainParticipant.hpp"); err != nil {
		t.Skip("Fast DDS headers absent (Debian libfastrtps-dev; scripts/install.sh installs it)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "peer.cpp")
	if err := os.WriteFile(src, source, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "peer")
	out, err := exec.Command(gxx, "-std=c++17", "-O1", "-o", bin, src, "-lfastrtps", "-lfastcdr").CombinedOutput()
	if err != nil {
		t.Fatalf("building the Fast DDS peer: %v\n%s", err, out)
	}
	return bin
}

// Peer is a running peer; Lines holds what it printed.
type Peer struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	outs []Line
	done chan struct{}
}

// Line is one line the peer printed and when it arrived.
type Line struct {
	At   time.Time
	Text string
}

// Start runs the peer for seconds, with the cameras stalled from
// stallAfter for stallFor seconds (stallAfter < 0: never).
func Start(t testing.TB, bin string, seconds, stallAfter, stallFor float64) *Peer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, fmt.Sprint(seconds), fmt.Sprint(stallAfter), fmt.Sprint(stallFor))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Peer{cmd: cmd, done: make(chan struct{})}
	go p.read(stdout)
	t.Cleanup(func() {
		cancel()
		<-p.done
		_ = cmd.Wait()
	})
	return p
}

func (p *Peer) read(r io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.mu.Lock()
		p.outs = append(p.outs, Line{At: time.Now(), Text: sc.Text()})
		p.mu.Unlock()
	}
}

// Lines returns the lines starting with prefix printed in [from, to).
func (p *Peer) Lines(prefix string, from, to time.Time) []Line {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Line
	for _, l := range p.outs {
		if strings.HasPrefix(l.Text, prefix) && !l.At.Before(from) && l.At.Before(to) {
			out = append(out, l)
		}
	}
	return out
}

// WaitFor waits up to d for a line starting with prefix.
func (p *Peer) WaitFor(prefix string, d time.Duration) (Line, bool) {
	deadline := time.Now().Add(d)
	for {
		if ls := p.Lines(prefix, time.Time{}, time.Now().Add(time.Hour)); len(ls) > 0 {
			return ls[0], true
		}
		if time.Now().After(deadline) {
			return Line{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
