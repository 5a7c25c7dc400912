package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testRun parses -n and -log-level like a binary and fails as told.
func testRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tool", flag.ContinueOnError)
	n := fs.Int("n", 0, "a number")
	LogFlags(fs, LogConf{})
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tool [flags]")
		fs.PrintDefaults()
	}
	if err := Parse(fs, args, stdout); err != nil {
		return err
	}
	switch *n {
	case 1:
		return errors.New("boom")
	case 2:
		return Usagef("need more %s", "input")
	case 3:
		return fmt.Errorf("wrapped: %w", Usage("tool sub", errors.New("bad mode")))
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

func TestExecExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings
		stderr     []string
		noStdout   bool
		noStderr   bool
		stderrLine int // lines on stderr, when > 0
	}{
		{name: "ok", args: []string{}, code: 0, stdout: []string{"ok"}, noStderr: true},
		{name: "-h", args: []string{"-h"}, code: 0, stdout: []string{"Usage: tool", "-log-level"}, noStderr: true},
		{name: "--help", args: []string{"--help"}, code: 0, stdout: []string{"Usage: tool", "-n int"}, noStderr: true},
		{name: "-help after flags", args: []string{"-n", "1", "-help"}, code: 0, stdout: []string{"Usage: tool"}, noStderr: true},
		{name: "unknown flag", args: []string{"-x"}, code: 2, noStdout: true,
			stderr: []string{"tool: flag provided but not defined: -x\n", "Run 'tool -h' for usage.\n"}, stderrLine: 2},
		{name: "bad value", args: []string{"-n", "many"}, code: 2, noStdout: true,
			stderr: []string{"invalid value \"many\" for flag -n", "Run 'tool -h'"}, stderrLine: 2},
		{name: "bad log level", args: []string{"-log-level", "loud"}, code: 2, noStdout: true,
			stderr: []string{"-log-level", "want debug, info, warn or error"}},
		{name: "runtime error", args: []string{"-n", "1"}, code: 1, noStdout: true, stderr: []string{"tool: boom\n"}, stderrLine: 1},
		{name: "usage error from run", args: []string{"-n", "2"}, code: 2, noStdout: true,
			stderr: []string{"tool: need more input\n", "Run 'tool -h' for usage."}},
		{name: "wrapped sub-command usage error", args: []string{"-n", "3"}, code: 2, noStdout: true,
			stderr: []string{"tool: wrapped: bad mode\n", "Run 'tool sub -h' for usage."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Exec(MainConf{Name: "tool", Run: testRun, Args: tc.args, Stdout: &out, Stderr: &errb})
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errb.String())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q: %q", w, out.String())
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q: %q", w, errb.String())
				}
			}
			if tc.noStdout && out.Len() > 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
			if tc.noStderr && errb.Len() > 0 {
				t.Errorf("stderr %q, want nothing", errb.String())
			}
			if tc.stderrLine > 0 && strings.Count(errb.String(), "\n") != tc.stderrLine {
				t.Errorf("stderr has not %d lines: %q", tc.stderrLine, errb.String())
			}
		})
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 0, ""},
		{fmt.Errorf("x: %w", flag.ErrHelp), 0, ""},
		{errors.New("disk full"), 1, "bin: disk full\n"},
		{Usagef("no input"), 2, "bin: no input\nRun 'bin -h' for usage.\n"},
		{fmt.Errorf("ctx: %w", &Interrupted{Signal: syscall.SIGINT}), 130, "bin: ctx: received interrupt\n"},
		{&Interrupted{Signal: syscall.SIGTERM}, 143, "bin: received terminated\n"},
		{Usage("", nil), 0, ""},
	}
	for _, tc := range tests {
		var errb bytes.Buffer
		if code := Report("bin", tc.err, &errb); code != tc.code || errb.String() != tc.msg {
			t.Errorf("Report(%v) = %d %q, want %d %q", tc.err, code, errb.String(), tc.code, tc.msg)
		}
	}
}

// sendSelf delivers sig to this process.
func sendSelf(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatal(err)
	}
}

func TestExecSignal(t *testing.T) {
	// The first signal cancels the run's context (exit 128+n when the run
	// returns the cancellation), the second calls OnSecondSignal.
	seconds := make(chan os.Signal, 1)
	run := func(ctx context.Context, _ []string, _, _ io.Writer) error {
		sendSelf(t, syscall.SIGUSR1)
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			return errors.New("not cancelled by the signal")
		}
		sendSelf(t, syscall.SIGUSR1)
		select {
		case <-seconds:
		case <-time.After(10 * time.Second):
			return errors.New("second signal not seen")
		}
		return fmt.Errorf("stopping: %w", ctx.Err())
	}
	var out, errb bytes.Buffer
	code := Exec(MainConf{Name: "tool", Run: run, Args: []string{}, Stdout: &out, Stderr: &errb,
		Signals: []os.Signal{syscall.SIGUSR1}, OnSecondSignal: func(s os.Signal) { seconds <- s }})
	if want := 128 + int(syscall.SIGUSR1); code != want {
		t.Errorf("exit %d, want %d; stderr %q", code, want, errb.String())
	}
	if want := "tool: stopping: context canceled (received user defined signal 1)\n"; errb.String() != want {
		t.Errorf("stderr %q, want %q", errb.String(), want)
	}

	// A run that stops cleanly after the signal exits 0.
	clean := func(ctx context.Context, _ []string, _, _ io.Writer) error {
		sendSelf(t, syscall.SIGUSR2)
		<-ctx.Done()
		return nil
	}
	errb.Reset()
	if code := Exec(MainConf{Name: "tool", Run: clean, Args: []string{}, Stdout: &out, Stderr: &errb,
		Signals: []os.Signal{syscall.SIGUSR2}}); code != 0 || errb.Len() > 0 {
		t.Errorf("clean stop: exit %d, stderr %q", code, errb.String())
	}
}

func TestSignalContextStop(t *testing.T) {
	ctx, stop := SignalContext(context.Background(), SignalConf{Signals: []os.Signal{syscall.SIGUSR1}})
	stop()
	stop() // idempotent
	if ctx.Err() == nil {
		t.Fatal("stop does not cancel the context")
	}
	if _, ok := context.Cause(ctx).(*Interrupted); ok {
		t.Fatal("stopped context reports a signal")
	}
}

func TestGivenFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string // sorted names
	}{
		{nil, ""},
		{[]string{"-a", "x"}, "a"},
		{[]string{"-a", "default-a", "-b=false", "-c", "0"}, "a,b,c"}, // set to the default is still set
		{[]string{"-c", "1", "--", "-a", "y"}, "c"},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.String("a", "default-a", "")
		fs.Bool("b", false, "")
		fs.Int("c", 0, "")
		if err := Parse(fs, tc.args, io.Discard); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range []string{"a", "b", "c"} {
			if GivenFlags(fs)[n] {
				got = append(got, n)
			}
		}
		if g := strings.Join(got, ","); g != tc.want {
			t.Errorf("%v: given %q, want %q", tc.args, g, tc.want)
		}
	}
}

// TestSecondSignalExits runs Exec in a child process (this test binary)
// whose run ignores cancellation: the second signal must end the process
// with 128+signal and say so.
func TestSecondSignalExits(t *testing.T) {
	if os.Getenv("CLI_TEST_CHILD") == "1" {
		os.Exit(Exec(MainConf{Name: "child", Args: []string{}, Signals: []os.Signal{syscall.SIGUSR1},
			Run: func(ctx context.Context, _ []string, stdout, _ io.Writer) error {
				fmt.Fprintln(stdout, "ready")
				<-ctx.Done()
				fmt.Fprintln(stdout, "cancelled")
				select {} // a run that does not stop
			}}))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalExits$")
	cmd.Env = append(os.Environ(), "CLI_TEST_CHILD=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for _, want := range []string{"ready", "cancelled"} {
		if !lines.Scan() || lines.Text() != want {
			_ = cmd.Process.Kill()
			t.Fatalf("child said %q, want %q (stderr %q)", lines.Text(), want, stderr.String())
		}
		if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGUSR1) {
			t.Errorf("child ended with %v, want exit %d", err, 128+int(syscall.SIGUSR1))
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the second signal did not end the child")
	}
	if !strings.Contains(stderr.String(), "child: second user defined signal 1, exiting now") {
		t.Errorf("stderr %q", stderr.String())
	}
}
