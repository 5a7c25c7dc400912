package ortenv

import (
	"os"
	"strings"
	"testing"
)

// TestResolveLibraryPrecedence: the explicitly configured path, then
// $VLA3D_ORT_LIB, then the project copy.
func TestResolveLibraryPrecedence(t *testing.T) {
	t.Setenv(LibraryEnv, "/env/lib.so")
	if p, err := ResolveLibrary("/cfg/lib.so"); err != nil || p != "/cfg/lib.so" {
		t.Fatalf("an explicit path must beat the environment: %q, %v", p, err)
	}
	if p, err := ResolveLibrary(""); err != nil || p != "/env/lib.so" {
		t.Fatalf("env: %q, %v", p, err)
	}
	t.Setenv(LibraryEnv, "")
	p, err := ResolveLibrary("")
	if err != nil {
		t.Skipf("no project-local ONNX Runtime library: %v", err)
	}
	if !strings.HasSuffix(p, projectLibrary) {
		t.Fatalf("project copy: %q", p)
	}
}

// TestAcquireRefCount: nested acquires share one environment, a second
// library is refused while it lives, and releases are idempotent.
func TestAcquireRefCount(t *testing.T) {
	lib, err := ResolveLibrary("")
	if err != nil {
		t.Skipf("ONNX Runtime library not found: %v", err)
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library %s missing: %v", lib, err)
	}
	r1, err := Acquire(lib)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Acquire(lib)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(lib + ".other"); err == nil || !strings.Contains(err.Error(), "already loaded") {
		t.Fatalf("second library: %v", err)
	}
	if err := r2(); err != nil {
		t.Fatal(err)
	}
	if err := r2(); err != nil { // idempotent: must not drop r1's reference
		t.Fatal(err)
	}
	environment.mu.Lock()
	refs := environment.refs
	environment.mu.Unlock()
	if refs != 1 {
		t.Fatalf("%d references after one release", refs)
	}
	if err := r1(); err != nil {
		t.Fatal(err)
	}
}
