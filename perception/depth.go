package perception

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Depth image encodings of sensor_msgs/Image accepted by DecodeDepth.
const (
	// EncodingDepth16 is unsigned 16-bit millimetres (0 = no return).
	EncodingDepth16 = "16UC1"
	// EncodingMono16 is the same layout some drivers publish depth under.
	EncodingMono16 = "mono16"
	// EncodingDepth32F is 32-bit float metres (NaN/0 = no return).
	EncodingDepth32F = "32FC1"
)

// ErrBadDepth is wrapped by every depth decoding error.
var ErrBadDepth = errors.New("perception: bad depth image")

// DecodeDepth converts a sensor_msgs/Image depth payload to metres in dst
// (row-major, len(dst) >= width*height; only the first width*height values
// are written). step is the row length in bytes (>= width*bytes per pixel;
// padding honoured) and bigEndian is the message's is_bigendian.
//
// A pixel is invalid — written as NaN, never guessed — when it is 0, NaN,
// ±Inf, or outside [minRange, maxRange] metres. maxRange may be +Inf.
func DecodeDepth(encoding string, data []byte, width, height, step int, bigEndian bool, minRange, maxRange float32, dst []float32) error {
	var bpp int
	switch encoding {
	case EncodingDepth16, EncodingMono16:
		bpp = 2
	case EncodingDepth32F:
		bpp = 4
	default:
		return fmt.Errorf("%w: unsupported encoding %q (want %s or %s)", ErrBadDepth, encoding, EncodingDepth16, EncodingDepth32F)
	}
	if width <= 0 || height <= 0 {
		return fmt.Errorf("%w: size %dx%d", ErrBadDepth, width, height)
	}
	if !(minRange >= 0) || !(maxRange > minRange) {
		return fmt.Errorf("%w: range [%v, %v] must satisfy 0 <= min < max", ErrBadDepth, minRange, maxRange)
	}
	rowBytes := width * bpp
	if rowBytes/bpp != width || step < rowBytes {
		return fmt.Errorf("%w: step %d shorter than a %s row of %d pixels", ErrBadDepth, step, encoding, width)
	}
	// The last row need not carry padding; everything before it must.
	need := (height-1)*step + rowBytes
	if (need-rowBytes)/step != height-1 || need < 0 || len(data) < need {
		return fmt.Errorf("%w: %d bytes, need %d for %dx%d %s with step %d", ErrBadDepth, len(data), need, width, height, encoding, step)
	}
	if len(dst) < width*height {
		return fmt.Errorf("%w: destination holds %d values, need %d", ErrBadDepth, len(dst), width*height)
	}
	nan := float32(math.NaN())
	mm := newMillimetreRange(minRange, maxRange)
	for r := range height {
		row := data[r*step : r*step+rowBytes]
		out := dst[r*width : (r+1)*width]
		// Concrete byte orders (not the interface) so the loads inline.
		switch {
		case bpp == 2 && !bigEndian:
			for c := range out {
				out[c] = mm.metres(binary.LittleEndian.Uint16(row[2*c:]), nan)
			}
		case bpp == 2:
			for c := range out {
				out[c] = mm.metres(binary.BigEndian.Uint16(row[2*c:]), nan)
			}
		case !bigEndian:
			for c := range out {
				out[c] = validDepth(math.Float32frombits(binary.LittleEndian.Uint32(row[4*c:])), minRange, maxRange, nan)
			}
		default:
			for c := range out {
				out[c] = validDepth(math.Float32frombits(binary.BigEndian.Uint32(row[4*c:])), minRange, maxRange, nan)
			}
		}
	}
	return nil
}

// validDepth returns z when it is a usable measurement, else nan. NaN fails
// both range comparisons, ±Inf is outside every finite range, and 0 is the
// sensors' "no return" code (caught by the extra test when minRange is 0).
func validDepth(z, minRange, maxRange, nan float32) float32 {
	if z == 0 || !(z >= minRange && z <= maxRange) || z > math.MaxFloat32 {
		return nan
	}
	return z
}

// millimetreRange is the set of 16UC1 codes whose metric value lies in
// [minRange, maxRange], as an integer interval, so the per-pixel test is one
// unsigned comparison instead of three float ones.
type millimetreRange struct {
	lo, span uint16
	empty    bool
}

// mmToMetres is the float32 conversion every 16UC1 pixel goes through.
func mmToMetres(v uint16) float32 { return float32(v) * 0.001 }

// newMillimetreRange finds the codes by binary search; mmToMetres is
// monotonic, so the interval reproduces the float comparisons exactly.
// Code 0 ("no return") is always excluded.
func newMillimetreRange(minRange, maxRange float32) millimetreRange {
	// First code >= 1 with metres >= minRange.
	lo := 1 + sort.Search(math.MaxUint16, func(i int) bool { return mmToMetres(uint16(i+1)) >= minRange })
	// First code with metres > maxRange; hi is the one before it.
	hi := sort.Search(math.MaxUint16+1, func(i int) bool { return mmToMetres(uint16(i)) > maxRange }) - 1
	if lo > hi || lo > math.MaxUint16 {
		return millimetreRange{empty: true}
	}
	return millimetreRange{lo: uint16(lo), span: uint16(hi - lo)}
}

func (r millimetreRange) metres(v uint16, nan float32) float32 {
	if v-r.lo > r.span || r.empty { // unsigned: v-lo wraps when v < lo
		return nan
	}
	return mmToMetres(v)
}

// ResizeDepthNearest resamples a depth image to dstW x dstH by nearest
// neighbour (never interpolating across depth edges or into NaN holes, which
// would invent surfaces). Pixel centres map to pixel centres.
func ResizeDepthNearest(src []float32, srcW, srcH int, dst []float32, dstW, dstH int) error {
	if srcW <= 0 || srcH <= 0 || dstW <= 0 || dstH <= 0 {
		return fmt.Errorf("%w: resize %dx%d -> %dx%d", ErrBadDepth, srcW, srcH, dstW, dstH)
	}
	if len(src) < srcW*srcH || len(dst) < dstW*dstH {
		return fmt.Errorf("%w: buffers %d/%d too short for %dx%d -> %dx%d", ErrBadDepth, len(src), len(dst), srcW, srcH, dstW, dstH)
	}
	for r := range dstH {
		sr := min((2*r+1)*srcH/(2*dstH), srcH-1)
		for c := range dstW {
			sc := min((2*c+1)*srcW/(2*dstW), srcW-1)
			dst[r*dstW+c] = src[sr*srcW+sc]
		}
	}
	return nil
}
