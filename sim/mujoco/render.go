package mujoco

/*
#include "vla_mj.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Frame holds the buffers one camera render fills. Rows are top-to-bottom
// (MuJoCo's bottom-up rows are flipped), depth is metric distance along the
// optical axis in metres (NaN where nothing was hit), and Geoms holds the
// model geom id per pixel (-1 for none).
type Frame struct {
	Width, Height int
	RGB           []uint8
	Depth         []float32
	Geoms         []int32

	rawDepth []float32
	scratch  []uint8
	rawGeoms []int32
	rawRGB   []uint8
}

// NewFrame allocates buffers for a w x h render.
func NewFrame(w, h int) *Frame {
	n := w * h
	return &Frame{
		Width: w, Height: h,
		RGB: make([]uint8, 3*n), Depth: make([]float32, n), Geoms: make([]int32, n),
		rawDepth: make([]float32, n), scratch: make([]uint8, 3*n), rawGeoms: make([]int32, n),
		rawRGB: make([]uint8, 3*n),
	}
}

// Render draws camera cam into f: always RGB and depth, and the geom
// segmentation when seg is true.
func (m *Model) Render(cam int, f *Frame, seg bool) error {
	if m.s == nil || m.s.rendering == 0 {
		return errors.New("mujoco: rendering not enabled")
	}
	if cam < 0 || cam >= int(m.s.m.ncam) {
		return fmt.Errorf("mujoco: camera id %d out of range", cam)
	}
	w, h := f.Width, f.Height
	err := m.gl.withGL(func() error {
		if rc := C.vla_render_rgbd(m.s, C.int(cam), C.int(w), C.int(h),
			(*C.uchar)(unsafe.Pointer(&f.rawRGB[0])), (*C.float)(unsafe.Pointer(&f.rawDepth[0]))); rc != 0 {
			return fmt.Errorf("mujoco: render %dx%d exceeds the offscreen buffer", w, h)
		}
		if !seg {
			return nil
		}
		if rc := C.vla_render_seg(m.s, C.int(cam), C.int(w), C.int(h),
			(*C.uchar)(unsafe.Pointer(&f.scratch[0])), (*C.int)(unsafe.Pointer(&f.rawGeoms[0]))); rc != 0 {
			return fmt.Errorf("mujoco: segmentation render %dx%d failed", w, h)
		}
		return nil
	})
	if err != nil {
		return err
	}
	near, far := m.ClipPlanes()
	flipRows(f.RGB, f.rawRGB, w*3, h)
	LinearizeDepth(f.Depth, f.rawDepth, w, h, near, far)
	if seg {
		flipRows(f.Geoms, f.rawGeoms, w, h)
	}
	return nil
}

func flipRows[T any](dst, src []T, stride, h int) {
	for r := 0; r < h; r++ {
		copy(dst[r*stride:(r+1)*stride], src[(h-1-r)*stride:(h-r)*stride])
	}
}

// LinearizeDepth converts OpenGL depth-buffer values (bottom-up rows, in
// [0,1]) into metric depth along the optical axis with top-down rows:
// z = n / (1 - d (1 - n/f)). Pixels at the far plane (nothing hit) become NaN.
func LinearizeDepth(dst, raw []float32, w, h int, near, far float64) {
	k := 1 - near/far
	for r := 0; r < h; r++ {
		src := raw[(h-1-r)*w : (h-r)*w]
		out := dst[r*w : (r+1)*w]
		for i, d := range src {
			if d >= 1 {
				out[i] = float32(math.NaN())
				continue
			}
			out[i] = float32(near / (1 - float64(d)*k))
		}
	}
}
