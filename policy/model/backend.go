package model

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/gomlx/gomlx/backends"
)

var stdoutMu sync.Mutex

// NewBackend creates the GoMLX backend for config (e.g. CPUBackend,
// "xla:cuda"). SimpleGo prints its parallelism setting to stdout, which
// vla3d's binaries keep for results (JSON lines, tables): while the backend
// is created stdout is diverted and whatever the library printed goes to
// stderr instead.
func NewBackend(config string) (backends.Backend, error) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	r, w, err := os.Pipe()
	if err != nil {
		return backends.NewWithConfig(config)
	}
	saved := os.Stdout
	os.Stdout = w
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(os.Stderr, r)
		close(done)
	}()
	b, berr := backends.NewWithConfig(config)
	os.Stdout = saved
	_ = w.Close()
	<-done
	_ = r.Close()
	if berr != nil {
		return nil, fmt.Errorf("GoMLX backend %q: %w", config, berr)
	}
	return b, nil
}
