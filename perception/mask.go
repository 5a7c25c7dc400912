package perception

import (
	"fmt"
	"math"
)

// Masks are row-major []uint8 images of the camera's size; nonzero = inside.

// MaskFromLabels writes mask[i] = 1 where labels[i] == id, else 0.
func MaskFromLabels(labels []uint16, id uint16, mask []uint8) error {
	if len(mask) < len(labels) {
		return fmt.Errorf("%w: mask of %d for %d labels", ErrBadShape, len(mask), len(labels))
	}
	for i, l := range labels {
		if l == id {
			mask[i] = 1
		} else {
			mask[i] = 0
		}
	}
	return nil
}

func checkMaskDepth(mask []uint8, depth []float32, cam Pinhole) error {
	n := cam.Width * cam.Height
	if cam.Width <= 0 || cam.Height <= 0 || len(mask) < n || len(depth) < n {
		return fmt.Errorf("%w: mask %d and depth %d for a %dx%d camera", ErrBadShape, len(mask), len(depth), cam.Width, cam.Height)
	}
	return nil
}

// BackprojectMask appends to dst the base-frame point of every masked pixel
// with valid depth (NaN, non-positive and infinite depth skipped), visiting
// every stride-th row and column (stride 1 = all pixels), and returns the
// extended slice (no allocation when dst has the capacity).
func BackprojectMask(mask []uint8, depth []float32, cam Pinhole, baseFromCamera Rigid, stride int, dst []float32) ([]float32, error) {
	if err := checkMaskDepth(mask, depth, cam); err != nil {
		return dst, err
	}
	if stride < 1 {
		return dst, fmt.Errorf("%w: stride %d", ErrBadShape, stride)
	}
	w := cam.Width
	for r := 0; r < cam.Height; r += stride {
		for c := 0; c < w; c += stride {
			i := r*w + c
			z := depth[i]
			if mask[i] == 0 || !(z > 0) || z > math.MaxFloat32 {
				continue
			}
			p := baseFromCamera.Apply(cam.Unproject(float64(c)+0.5, float64(r)+0.5, float64(z)))
			dst = append(dst, float32(p[0]), float32(p[1]), float32(p[2]))
		}
	}
	return dst, nil
}

// MaskBox returns the tight XYXY box of the mask in pixel-edge coordinates
// (a single pixel (c,r) gives (c, r, c+1, r+1)); ok is false for an empty mask.
func MaskBox(mask []uint8, width, height int) (box [4]float32, ok bool) {
	if width <= 0 || height <= 0 || len(mask) < width*height {
		return box, false
	}
	x1, y1, x2, y2 := width, height, -1, -1
	for r := range height {
		for c, m := range mask[r*width : (r+1)*width] {
			if m != 0 {
				x1, x2 = min(x1, c), max(x2, c)
				y1, y2 = min(y1, r), max(y2, r)
			}
		}
	}
	if x2 < 0 {
		return box, false
	}
	return [4]float32{float32(x1), float32(y1), float32(x2 + 1), float32(y2 + 1)}, true
}

// InstanceCentroid is the instance module's 3D pseudo-label: the mask's 2D
// centre (mean of the centres of its pixels that have valid depth)
// unprojected at the (lower) median of that depth, in the base frame. The median keeps
// depth edges and flying pixels from pulling the centre; the result lies at
// visible-surface depth, as the paper's "unproject the mask centre with
// depth" prescribes. scratch is reused for the median when large enough. ok
// is false when the mask has no pixel with valid depth.
func InstanceCentroid(mask []uint8, depth []float32, cam Pinhole, baseFromCamera Rigid, scratch []float32) (c [3]float32, ok bool, err error) {
	if err := checkMaskDepth(mask, depth, cam); err != nil {
		return c, false, err
	}
	w := cam.Width
	var su, sv float64
	buf := scratch[:0]
	for r := range cam.Height {
		for col := range w {
			i := r*w + col
			if mask[i] == 0 {
				continue
			}
			z := depth[i]
			if !(z > 0) || z > math.MaxFloat32 {
				continue
			}
			su += float64(col) + 0.5
			sv += float64(r) + 0.5
			buf = append(buf, z)
		}
	}
	if len(buf) == 0 {
		return c, false, nil
	}
	n := float64(len(buf))
	p := baseFromCamera.Apply(cam.Unproject(su/n, sv/n, float64(lowerMedian(buf))))
	return [3]float32{float32(p[0]), float32(p[1]), float32(p[2])}, true, nil
}
