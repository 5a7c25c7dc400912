package rosconv

import (
	"fmt"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"

	"github.com/vla3d/vla3d/msgs"
)

// Mono16 is the sensor_msgs/Image encoding of instance-label images (16UC1 is
// accepted on input too): one uint16 instance id per pixel, 0 = background.
const Mono16 = "mono16"

// EncodeLabels fills m (size, encoding, step, data) with little-endian mono16
// instance ids, reusing m.Data's storage when it is large enough.
func EncodeLabels(src *msgs.LabelImage, m *sensor_msgs.Image) error {
	w, h := src.Width, src.Height
	if w <= 0 || h <= 0 || len(src.IDs) < w*h {
		return fmt.Errorf("%w: label image %dx%d with %d ids", ErrImage, w, h, len(src.IDs))
	}
	m.Width, m.Height, m.Encoding, m.IsBigendian, m.Step = uint32(w), uint32(h), Mono16, 0, uint32(2*w)
	if cap(m.Data) < 2*w*h {
		m.Data = make([]uint8, 2*w*h)
	}
	m.Data = m.Data[:2*w*h]
	for i, id := range src.IDs[:w*h] {
		m.Data[2*i], m.Data[2*i+1] = byte(id), byte(id>>8)
	}
	return nil
}

// DecodeLabels parses a mono16/16UC1 label image (either byte order, any row
// padding) into dst, reusing dst.IDs when it is large enough.
func DecodeLabels(m *sensor_msgs.Image, dst *msgs.LabelImage) error {
	if m.Encoding != Mono16 && m.Encoding != "16UC1" {
		return fmt.Errorf("%w: label encoding %q, want mono16 or 16UC1", ErrImage, m.Encoding)
	}
	w, h := int(m.Width), int(m.Height)
	if w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 || int(m.Step) < 2*w || len(m.Data) < int(m.Step)*(h-1)+2*w {
		return fmt.Errorf("%w: label image %dx%d step %d with %d bytes", ErrImage, w, h, m.Step, len(m.Data))
	}
	dst.Width, dst.Height = w, h
	if cap(dst.IDs) < w*h {
		dst.IDs = make([]uint16, w*h)
	}
	dst.IDs = dst.IDs[:w*h]
	for y := 0; y < h; y++ {
		row := m.Data[y*int(m.Step):]
		for x := 0; x < w; x++ {
			lo, hi := row[2*x], row[2*x+1]
			if m.IsBigendian != 0 {
				lo, hi = hi, lo
			}
			dst.IDs[y*w+x] = uint16(lo) | uint16(hi)<<8
		}
	}
	return nil
}
