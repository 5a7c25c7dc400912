package cli

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// SignalConf configures SignalContext.
type SignalConf struct {
	// (optional) the signals that cancel the context.
	// It defaults to SIGINT and SIGTERM.
	Signals []os.Signal

	// (optional) called on the second signal (the first cancelled the
	// context; a user pressing Ctrl-C again wants out now).
	// It defaults to exiting the process with 128+signal.
	OnSecond func(os.Signal)
}

// Interrupted is the cause (context.Cause) of a context cancelled by a
// signal.
type Interrupted struct {
	Signal os.Signal
}

func (e *Interrupted) Error() string { return "received " + e.Signal.String() }

// SignalContext returns a context cancelled (with cause *Interrupted) by
// the first of conf.Signals, calls conf.OnSecond on the next one, and a
// stop func that releases the signals (idempotent; call it when done).
func SignalContext(parent context.Context, conf SignalConf) (context.Context, func()) {
	sigs := conf.Signals
	if len(sigs) == 0 {
		sigs = []os.Signal{syscall.SIGINT, syscall.SIGTERM}
	}
	onSecond := conf.OnSecond
	if onSecond == nil {
		onSecond = func(s os.Signal) { os.Exit(signalExitCode(s)) }
	}
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			cancel(&Interrupted{Signal: s})
		case <-done:
			return
		}
		select {
		case s := <-ch:
			onSecond(s)
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel(context.Canceled)
		})
	}
}
