// Package orttest holds the test helper every package that runs ONNX Runtime
// shares: skip, with a clear message, only when the library is truly absent.
package orttest

import (
	"os"
	"testing"

	"github.com/vla3d/vla3d/policy/ort/ortenv"
)

// RequireLibrary returns the ONNX Runtime library the project resolves
// ($VLA3D_ORT_LIB, else the install script's copy), skipping the test when
// it cannot be resolved or the file is not there.
func RequireLibrary(tb testing.TB) string {
	tb.Helper()
	lib, err := ortenv.ResolveLibrary("")
	if err != nil {
		tb.Skipf("ONNX Runtime library not found (run scripts/install.sh or set %s): %v", ortenv.LibraryEnv, err)
	}
	if _, err := os.Stat(lib); err != nil {
		tb.Skipf("ONNX Runtime library %s missing (run scripts/install.sh): %v", lib, err)
	}
	return lib
}
