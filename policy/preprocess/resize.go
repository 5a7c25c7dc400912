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
	// Bilinear: taps lo/hi with weight w on hi.
	lo, hi []int32
	w      []float32
	// Area: source range [start, end) per output sample.
	start, end []int32
}

func (t *axisTable) prepare(src, dst int) {
	if t.src == src && t.dst == dst && t.lo != nil {
		return
	}
	t.src, t.dst = src, dst
	t.lo, t.hi, t.w = make([]int32, dst), make([]int32, dst), make([]float32, dst)
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
	if mode == Area {
		for y := range dh {
			clear(row)
			for sy := r.ys.start[y]; sy < r.ys.end[y]; sy++ {
				r.areaRow(src[int(sy)*sw*3:(int(sy)+1)*sw*3], row)
			}
			inv := 1 / float32(r.ys.end[y]-r.ys.start[y])
			for x := range dw {
				o := y*dw + x
				dst[o], dst[plane+o], dst[2*plane+o] = row[3*x]*inv, row[3*x+1]*inv, row[3*x+2]*inv
			}
		}
		return
	}
	for y := range dh {
		lo, hi, wy := int(r.ys.lo[y]), int(r.ys.hi[y]), r.ys.w[y]
		r.bilinearRow(src[lo*sw*3:(lo+1)*sw*3], row)
		r.bilinearRow(src[hi*sw*3:(hi+1)*sw*3], row2)
		for x := range dw {
			o := y*dw + x
			for c := range 3 {
				a, b := row[3*x+c], row2[3*x+c]
				dst[c*plane+o] = a + (b-a)*wy
			}
		}
	}
}

// bilinearRow resamples one packed RGB row horizontally into acc (in [0,1]).
func (r *resizer) bilinearRow(src []uint8, acc []float32) {
	for x := range r.xs.dst {
		lo, hi, w := 3*int(r.xs.lo[x]), 3*int(r.xs.hi[x]), r.xs.w[x]
		for c := range 3 {
			a, b := unit(src[lo+c]), unit(src[hi+c])
			acc[3*x+c] = a + (b-a)*w
		}
	}
}

// areaRow adds the horizontal box averages of one source row to acc.
func (r *resizer) areaRow(src []uint8, acc []float32) {
	for x := range r.xs.dst {
		a, b := int(r.xs.start[x]), int(r.xs.end[x])
		var s0, s1, s2 float32
		for sx := a; sx < b; sx++ {
			s0 += unit(src[3*sx])
			s1 += unit(src[3*sx+1])
			s2 += unit(src[3*sx+2])
		}
		inv := 1 / float32(b-a)
		acc[3*x] += s0 * inv
		acc[3*x+1] += s1 * inv
		acc[3*x+2] += s2 * inv
	}
}
