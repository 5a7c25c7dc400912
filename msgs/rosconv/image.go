package rosconv

import (
	"errors"
	"fmt"
	"math"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
)

// sensor_msgs/Image encodings (sensor_msgs/image_encodings.h names).
const (
	EncRGB8    = "rgb8"
	EncBGR8    = "bgr8"
	EncRGBA8   = "rgba8"
	EncBGRA8   = "bgra8"
	EncMono8   = "mono8"
	Enc16UC1   = perception.EncodingDepth16
	Enc32FC1   = perception.EncodingDepth32F
	maxPixels  = 1 << 26 // 64 Mpx: refuses absurd headers before any arithmetic can overflow
	maxSideLen = 1 << 16
)

// ErrImage is wrapped by every image conversion error.
var ErrImage = errors.New("rosconv: bad image")

// colorLayout returns bytes per pixel and the byte offsets of R, G, B.
func colorLayout(enc string) (bpp, r, g, b int, ok bool) {
	switch enc {
	case EncRGB8:
		return 3, 0, 1, 2, true
	case EncBGR8:
		return 3, 2, 1, 0, true
	case EncRGBA8:
		return 4, 0, 1, 2, true
	case EncBGRA8:
		return 4, 2, 1, 0, true
	case EncMono8:
		return 1, 0, 0, 0, true
	}
	return 0, 0, 0, 0, false
}

// checkLayout validates size, step and payload length for bpp bytes per pixel.
func checkLayout(m *sensor_msgs.Image, bpp int) (w, h, step int, err error) {
	w, h, step = int(m.Width), int(m.Height), int(m.Step)
	if w <= 0 || h <= 0 || w > maxSideLen || h > maxSideLen || w*h > maxPixels {
		return 0, 0, 0, fmt.Errorf("%w: size %dx%d", ErrImage, w, h)
	}
	row := w * bpp
	if step < row {
		return 0, 0, 0, fmt.Errorf("%w: step %d shorter than a %s row of %d bytes", ErrImage, step, m.Encoding, row)
	}
	// The last row may omit its padding, as some drivers trim it.
	if need := (h-1)*step + row; len(m.Data) < need {
		return 0, 0, 0, fmt.Errorf("%w: %d bytes, need %d for %dx%d %s with step %d", ErrImage, len(m.Data), need, w, h, m.Encoding, step)
	}
	return w, h, step, nil
}

// grow returns s resized to n, reusing its storage when large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// DecodeColor converts an rgb8, bgr8, rgba8, bgra8 or mono8 image into
// tightly packed RGB in dst (alpha dropped, mono replicated), honouring step.
func DecodeColor(m *sensor_msgs.Image, dst *msgs.RGBImage) error {
	bpp, ro, gof, bo, ok := colorLayout(m.Encoding)
	if !ok {
		return fmt.Errorf("%w: unsupported colour encoding %q (want rgb8, bgr8, rgba8, bgra8 or mono8)", ErrImage, m.Encoding)
	}
	w, h, step, err := checkLayout(m, bpp)
	if err != nil {
		return err
	}
	dst.Width, dst.Height = w, h
	dst.Pix = grow(dst.Pix, w*h*3)
	for y := range h {
		src := m.Data[y*step : y*step+w*bpp]
		out := dst.Pix[y*w*3 : (y+1)*w*3]
		swizzle(out, src, bpp, ro, gof, bo, m.Encoding == EncRGB8)
	}
	return nil
}

// swizzle converts one row to packed RGB. The loops re-slice instead of
// indexing so the compiler drops the bounds checks (this runs on every
// pixel of every camera frame).
func swizzle(out, src []uint8, bpp, ro, gof, bo int, rgb bool) {
	switch {
	case rgb:
		copy(out, src)
	case bpp == 1:
		for _, v := range src {
			if len(out) < 3 {
				return
			}
			out[0], out[1], out[2] = v, v, v
			out = out[3:]
		}
	case bpp == 3 && ro == 2: // bgr8
		for len(src) >= 3 && len(out) >= 3 {
			out[0], out[1], out[2] = src[2], src[1], src[0]
			src, out = src[3:], out[3:]
		}
	case bpp == 4 && ro == 0: // rgba8
		for len(src) >= 4 && len(out) >= 3 {
			out[0], out[1], out[2] = src[0], src[1], src[2]
			src, out = src[4:], out[3:]
		}
	case bpp == 4: // bgra8
		for len(src) >= 4 && len(out) >= 3 {
			out[0], out[1], out[2] = src[2], src[1], src[0]
			src, out = src[4:], out[3:]
		}
	default:
		for len(src) >= bpp && len(out) >= 3 && bpp > max(ro, gof, bo) {
			out[0], out[1], out[2] = src[ro], src[gof], src[bo]
			src, out = src[bpp:], out[3:]
		}
	}
}

// DecodeDepth converts a 16UC1 (millimetres) or 32FC1 (metres) image into
// metres in dst; pixels outside [minRange, maxRange] or without a return are
// NaN (see perception.DecodeDepth).
func DecodeDepth(m *sensor_msgs.Image, minRange, maxRange float32, dst *msgs.DepthImage) error {
	w, h := int(m.Width), int(m.Height)
	if w <= 0 || h <= 0 || w > maxSideLen || h > maxSideLen || w*h > maxPixels {
		return fmt.Errorf("%w: depth size %dx%d", ErrImage, w, h)
	}
	dst.Meters = grow(dst.Meters, w*h)
	if err := perception.DecodeDepth(m.Encoding, m.Data, w, h, int(m.Step), m.IsBigendian != 0, minRange, maxRange, dst.Meters); err != nil {
		dst.Width, dst.Height, dst.Meters = 0, 0, dst.Meters[:0]
		return fmt.Errorf("%w: %w", ErrImage, err)
	}
	dst.Width, dst.Height = w, h
	return nil
}

// EncodeColor fills m's size, encoding, step and data from src in the given
// colour encoding (alpha written as 255, mono8 as the Rec. 601 luma). m.Data
// is reused when large enough; the header is left to the caller.
func EncodeColor(src *msgs.RGBImage, encoding string, m *sensor_msgs.Image) error {
	bpp, ro, gof, bo, ok := colorLayout(encoding)
	if !ok {
		return fmt.Errorf("%w: unsupported colour encoding %q", ErrImage, encoding)
	}
	w, h := src.Width, src.Height
	if w <= 0 || h <= 0 || len(src.Pix) < w*h*3 {
		return fmt.Errorf("%w: source %dx%d with %d bytes", ErrImage, w, h, len(src.Pix))
	}
	m.Width, m.Height, m.Encoding, m.IsBigendian = uint32(w), uint32(h), encoding, 0
	m.Step = uint32(w * bpp)
	m.Data = grow(m.Data, w*h*bpp)
	for i := range w * h {
		p := src.Pix[3*i : 3*i+3]
		out := m.Data[i*bpp : i*bpp+bpp]
		if bpp == 1 {
			out[0] = uint8((299*int(p[0]) + 587*int(p[1]) + 114*int(p[2]) + 500) / 1000)
			continue
		}
		out[ro], out[gof], out[bo] = p[0], p[1], p[2]
		if bpp == 4 {
			out[3] = 255
		}
	}
	return nil
}

// EncodeDepth fills m from metric depth: 16UC1 stores rounded millimetres
// (NaN or out-of-range -> 0, the "no return" value), 32FC1 stores metres
// (NaN kept). Little-endian, no padding.
func EncodeDepth(src *msgs.DepthImage, encoding string, m *sensor_msgs.Image) error {
	w, h := src.Width, src.Height
	if w <= 0 || h <= 0 || len(src.Meters) < w*h {
		return fmt.Errorf("%w: depth source %dx%d with %d values", ErrImage, w, h, len(src.Meters))
	}
	var bpp int
	switch encoding {
	case Enc16UC1:
		bpp = 2
	case Enc32FC1:
		bpp = 4
	default:
		return fmt.Errorf("%w: unsupported depth encoding %q (want 16UC1 or 32FC1)", ErrImage, encoding)
	}
	m.Width, m.Height, m.Encoding, m.IsBigendian = uint32(w), uint32(h), encoding, 0
	m.Step = uint32(w * bpp)
	m.Data = grow(m.Data, w*h*bpp)
	for i, z := range src.Meters[:w*h] {
		if bpp == 2 {
			mm := uint16(0)
			if z > 0 && z*1000 < 65535.5 { // NaN fails z > 0
				mm = uint16(z*1000 + 0.5)
			}
			m.Data[2*i], m.Data[2*i+1] = byte(mm), byte(mm>>8)
			continue
		}
		b := math.Float32bits(z)
		m.Data[4*i], m.Data[4*i+1], m.Data[4*i+2], m.Data[4*i+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
	}
	return nil
}
