//go:build xla

package main

// Building with -tags xla links GoMLX's XLA backend (PJRT through gopjrt), the
// fast path on a GPU: run with -backend xla:cuda
// and a CUDA PJRT plugin on PJRT_PLUGIN_LIBRARY_PATH. The default build keeps
// only the pure-Go backend, which needs no native libraries.
import _ "github.com/gomlx/gomlx/backends/xla"
