package preprocess

import "math"

// ResizeMode selects the colour resampling filter.
type ResizeMode int

const (
	// Bilinear samples the 2x2 neighbourhood of each output pixel centre
	// (half-pixel aligned, edges clamped). Fast; aliases when shrinking a lot.
	Bilinear ResizeMode = iota
	// Area averages every source pixel whose centre falls in the output
	// pixel's footprint (box filter); the right choice for large reductions.
	Area
)

// String names the mode as in configuration files.
func (m ResizeMode) String() string {
	if m == Area {
		return "area"
	}
	return "bilinear"
}

// ParseResizeMode parses "bilinear" or "area" ("" = bilinear).
func ParseResizeMode(s string) (ResizeMode, bool) {
	switch s {
	case "", "bilinear":
		return Bilinear, true
	case "area":
		return Area, true
	}
	return Bilinear, false
}

// axisTable is the per-axis sampling plan from src to dst samples, cached
// per (src, dst) size so resizing allocates nothing in steady state.
type axisTable struct {
	src, dst int
	// Bilinear: taps lo/hi with weight w on hi; lo3/hi3 are 3*lo, 3*hi
	// (byte offsets in a packed RGB row).
	lo, hi   []int32
	lo3, hi3 []int32
	w        []float32
	// Area: source range [start, end) per output sample.
	start, end []int32
}

func (t *axisTable) prepare(src, dst int) {
	if t.src == src && t.dst == dst && t.lo != nil {
		return
	}
	t.src, t.dst = src, dst
	t.lo, t.hi, t.w = make([]int32, dst), make([]int32, dst), make([]float32, dst)
	t.lo3, t.hi3 = make([]int32, dst), make([]int32, dst)
	t.start, t.end = make([]int32, dst), make([]int32, dst)
	scale := float64(src) / float64(dst)
	for i := range dst {
		s := (float64(i)+0.5)*scale - 0.5
		lo := math.Floor(s)
		w := s - lo
		l, h := int(lo), int(lo)+1
		if l < 0 {
			l, w = 0, 0
		}
		if h > src-1 {
			h = src - 1
		}
		if l > src-1 {
			l = src - 1
		}
		t.lo[i], t.hi[i], t.w[i] = int32(l), int32(h), float32(w)
		t.lo3[i], t.hi3[i] = int32(3*l), int32(3*h)
		// Source pixel centres c+0.5 inside [i*scale, (i+1)*scale).
		a := int(math.Ceil(float64(i)*scale - 0.5))
		b := int(math.Ceil(float64(i+1)*scale - 0.5))
		a = max(0, min(a, src-1))
		b = max(a+1, min(b, src)) // at least the nearest pixel when upscaling
		t.start[i], t.end[i] = int32(a), int32(b)
	}
}

// unit maps a byte to [0,1].
func unit(b uint8) float32 { return float32(b) * (1.0 / 255) }

// resizer converts packed RGB bytes into planar float CHW at a new size.
type resizer struct {
	xs, ys axisTable
	row    []float32 // scratch: one horizontally resampled source row, 3 channels interleaved
	row2   []float32
}

// resizeRGB writes dst [3][dh][dw] from src (sw x sh, packed RGB).
func (r *resizer) resizeRGB(src []uint8, sw, sh int, dst []float32, dw, dh int, mode ResizeMode) {
	plane := dw * dh
	if sw == dw && sh == dh {
		// One sequential pass per output plane; re-slicing drops bounds checks.
		for c := range 3 {
			out := dst[c*plane : (c+1)*plane]
			in := src[c:]
			for i := range out {
				if len(in) == 0 {
					break
				}
				out[i] = unit(in[0])
				if len(in) < 3 {
					break
				}
				in = in[3:]
			}
		}
		return
	}
	r.xs.prepare(sw, dw)
	r.ys.prepare(sh, dh)
	if cap(r.row) < 3*dw {
		r.row, r.row2 = make([]float32, 3*dw), make([]float32, 3*dw)
	}
	row, row2 := r.row[:3*dw], r.row2[:3*dw]
	// Rows are accumulated in byte units and scaled to [0,1] once per output.
	const inv = 1.0 / 255
	if mode == Area {
		for y := range dh {
			clear(row)
			for sy := r.ys.start[y]; sy < r.ys.end[y]; sy++ {
				r.areaRow(src[int(sy)*sw*3:(int(sy)+1)*sw*3], row)
			}
			k := inv / float32(r.ys.end[y]-r.ys.start[y])
			for x := range dw {
				o := y*dw + x
				dst[o], dst[plane+o], dst[2*plane+o] = row[3*x]*k, row[3*x+1]*k, row[3*x+2]*k
			}
		}
		return
	}
	for y := range dh {
		lo, hi, wy := int(r.ys.lo[y]), int(r.ys.hi[y]), r.ys.w[y]
		r.bilinearRow(src[lo*sw*3:(lo+1)*sw*3], row)
		if hi != lo {
			r.bilinearRow(src[hi*sw*3:(hi+1)*sw*3], row2)
		} else {
			copy(row2, row)
		}
		d0, d1, d2 := dst[y*dw:(y+1)*dw], dst[plane+y*dw:plane+(y+1)*dw], dst[2*plane+y*dw:2*plane+(y+1)*dw]
		for x := range d0 {
			a, b := row[3*x:3*x+3], row2[3*x:3*x+3]
			d0[x] = (a[0] + (b[0]-a[0])*wy) * inv
			d1[x] = (a[1] + (b[1]-a[1])*wy) * inv
			d2[x] = (a[2] + (b[2]-a[2])*wy) * inv
		}
	}
}

// bilinearRow resamples one packed RGB row horizontally into acc (byte units).
func (r *resizer) bilinearRow(src []uint8, acc []float32) {
	lo, hi, w := r.xs.lo3, r.xs.hi3, r.xs.w
	for x := range w {
		l, h, wx := int(lo[x]), int(hi[x]), w[x]
		a, b, o := src[l:l+3], src[h:h+3], acc[3*x:3*x+3]
		a0, a1, a2 := float32(a[0]), float32(a[1]), float32(a[2])
		o[0] = a0 + (float32(b[0])-a0)*wx
		o[1] = a1 + (float32(b[1])-a1)*wx
		o[2] = a2 + (float32(b[2])-a2)*wx
	}
}

// areaRow adds the horizontal box averages (byte units) of one source row to acc.
func (r *resizer) areaRow(src []uint8, acc []float32) {
	for x := range r.xs.dst {
		a, b := int(r.xs.start[x]), int(r.xs.end[x])
		var s0, s1, s2 uint32
		px := src[3*a : 3*b]
		for len(px) >= 3 {
			s0 += uint32(px[0])
			s1 += uint32(px[1])
			s2 += uint32(px[2])
			px = px[3:]
		}
		inv := 1 / float32(b-a)
		acc[3*x] += float32(s0) * inv
		acc[3*x+1] += float32(s1) * inv
		acc[3*x+2] += float32(s2) * inv
	}
}
