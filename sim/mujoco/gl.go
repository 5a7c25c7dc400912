// Package mujoco is the thin cgo binding to MuJoCo 2.2.2 that the simulator
// needs: loading MJCF from memory, stepping physics, reading and writing state,
// and rendering RGB, metric depth and geom segmentation offscreen through
// OSMesa on the CPU.
package mujoco

/*
#cgo LDFLAGS: -lmujoco -lOSMesa -lm
#include <stdlib.h>
#include "vla_mj.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// GL is an OSMesa OpenGL context. OpenGL contexts are bound to an OS thread,
// so every GL call is made under runtime.LockOSThread after making this
// context current (see withGL).
type GL struct {
	c *C.vla_gl
}

// NewGL creates an offscreen OpenGL context with a default framebuffer of
// w x h pixels (MuJoCo renders into its own offscreen buffer; this one only
// has to exist).
func NewGL(w, h int) (*GL, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("mujoco: invalid GL buffer size %dx%d", w, h)
	}
	c := (*C.vla_gl)(C.calloc(1, C.size_t(unsafe.Sizeof(C.vla_gl{}))))
	if c == nil {
		return nil, errors.New("mujoco: out of memory for GL context")
	}
	if rc := C.vla_gl_create(c, C.int(w), C.int(h)); rc != 0 {
		C.vla_gl_destroy(c)
		C.free(unsafe.Pointer(c))
		return nil, fmt.Errorf("mujoco: OSMesa context creation failed (code %d)", int(rc))
	}
	return &GL{c: c}, nil
}

// withGL runs f on a locked OS thread with this context current.
func (g *GL) withGL(f func() error) error {
	if g == nil || g.c == nil {
		return errors.New("mujoco: GL context is closed")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rc := C.vla_gl_current(g.c); rc != 0 {
		return fmt.Errorf("mujoco: OSMesaMakeCurrent failed (code %d)", int(rc))
	}
	// Unbind before the thread is unlocked, so no goroutine-shared OS thread
	// keeps this context current (it may be destroyed later).
	defer C.vla_gl_release()
	return f()
}

// Close destroys the context. Models rendering through it must be closed first.
func (g *GL) Close() {
	if g == nil || g.c == nil {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.vla_gl_destroy(g.c)
	C.free(unsafe.Pointer(g.c))
	g.c = nil
}
