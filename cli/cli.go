// Package cli is what every vla3d binary shares on its command line: one
// help and exit-code policy (Main, Parse, UsageError), one signal context
// (SignalContext), one logger (LogFlags, Logger), ROS remapping arguments
// and master/host resolution (ParseROS, ResolveNode), flags-over-config
// (GivenFlags) and the ONNX Runtime library flag (ORTLibFlag, UseORTLib).
//
// The package holds no state: everything a function reads (arguments,
// writers, the environment, signals) is passed in, with the process's own
// as defaults.
//
// Exit codes:
//
//	0    success, or -h/--help (usage printed to stdout)
//	1    runtime error: "<binary>: <error>" on stderr
//	2    usage error: "<binary>: <error>" and a hint on stderr
//	128+n  interrupted by signal n (the run returned context.Canceled after it)
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Exit codes returned by Main and Exec.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// RunFunc is a binary's body: it parses args (without the program name),
// writes its output to stdout and its diagnostics (logs) to stderr, and
// stops when ctx is cancelled.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// MainConf configures Exec.
type MainConf struct {
	// Name of the binary, the prefix of every error message.
	Name string

	// Run is the binary's body.
	Run RunFunc

	// (optional) command-line arguments without the program name.
	// It defaults to os.Args[1:].
	Args []string

	// (optional) standard output: help and the binary's results.
	// It defaults to os.Stdout.
	Stdout io.Writer

	// (optional) standard error: errors, hints and logs.
	// It defaults to os.Stderr.
	Stderr io.Writer

	// (optional) signals that cancel Run's context.
	// It defaults to SIGINT and SIGTERM.
	Signals []os.Signal

	// (optional) called on a second signal, while Run is still winding down.
	// It defaults to printing "<Name>: second <signal>, exiting now" to
	// Stderr and exiting the process with 128+signal.
	OnSecondSignal func(os.Signal)
}

// Main runs run under the process's arguments, standard streams and
// SIGINT/SIGTERM, and returns the exit code: main is
//
//	func main() { os.Exit(cli.Main("vla3d-node", run)) }
func Main(name string, run RunFunc) int {
	return Exec(MainConf{Name: name, Run: run})
}

// Exec runs conf.Run with a signal context and turns its error into an exit
// code and a message (see the package documentation).
func Exec(conf MainConf) int {
	if conf.Args == nil {
		conf.Args = os.Args[1:]
	}
	if conf.Stdout == nil {
		conf.Stdout = os.Stdout
	}
	if conf.Stderr == nil {
		conf.Stderr = os.Stderr
	}
	if conf.OnSecondSignal == nil {
		conf.OnSecondSignal = func(s os.Signal) {
			fmt.Fprintf(conf.Stderr, "%s: second %v, exiting now\n", conf.Name, s)
			os.Exit(signalExitCode(s))
		}
	}
	ctx, stop := SignalContext(context.Background(), SignalConf{Signals: conf.Signals, OnSecond: conf.OnSecondSignal})
	defer stop()
	err := conf.Run(ctx, conf.Args, conf.Stdout, conf.Stderr)
	if err != nil && errors.Is(err, context.Canceled) {
		if in, ok := errors.AsType[*Interrupted](context.Cause(ctx)); ok {
			err = fmt.Errorf("%w (%w)", err, in)
		}
	}
	return Report(conf.Name, err, conf.Stderr)
}

// Report writes err to stderr as name's final message and returns the exit
// code: nil and flag.ErrHelp 0 (nothing written: help went to stdout), a
// UsageError 2 (the message and a hint), an error wrapping Interrupted
// 128+signal, anything else 1.
func Report(name string, err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if ue, ok := errors.AsType[*UsageError](err); ok {
		cmd := ue.Command
		if cmd == "" {
			cmd = name
		}
		fmt.Fprintf(stderr, "Run '%s -h' for usage.\n", cmd)
		return ExitUsage
	}
	if in, ok := errors.AsType[*Interrupted](err); ok {
		return signalExitCode(in.Signal)
	}
	return ExitError
}

func signalExitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return ExitError
}

// UsageError is a command-line mistake: Report exits 2 and hints at -h.
type UsageError struct {
	// Command is what the hint tells the user to run with -h, e.g.
	// "vla3d-sim node"; "" is the binary's name.
	Command string
	Err     error
}

func (e *UsageError) Error() string { return e.Err.Error() }

func (e *UsageError) Unwrap() error { return e.Err }

// Usage marks err as a usage error of command ("" = the binary); nil stays
// nil.
func Usage(command string, err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Command: command, Err: err}
}

// Usagef is a usage error of the binary with a formatted message.
func Usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// Parse parses args with fs (which must use flag.ContinueOnError) under the
// help policy: -h, -help and --help write fs.Usage to stdout and return
// flag.ErrHelp; a bad flag returns a *UsageError for fs.Name() and prints
// nothing (Report prints it). Usage functions must write to fs.Output().
func Parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	prev := fs.Output()
	var out bufferWriter
	fs.SetOutput(&out)
	err := fs.Parse(args)
	fs.SetOutput(prev)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		if _, werr := stdout.Write(out.b); werr != nil {
			return fmt.Errorf("writing help: %w", werr)
		}
		return flag.ErrHelp
	default:
		return &UsageError{Command: fs.Name(), Err: err}
	}
}

// bufferWriter collects what the flag package prints during Parse.
type bufferWriter struct{ b []byte }

func (w *bufferWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// GivenFlags reports the flags set on fs's command line (flag.Visit), so
// that a flag overrides a config file only where the user gave it.
func GivenFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
