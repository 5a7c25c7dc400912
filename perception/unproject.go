package perception

import (
	"errors"
	"fmt"
	"math"
)

// ErrBadShape is wrapped by errors about mismatched sizes and buffers.
var ErrBadShape = errors.New("perception: bad shape")

// PatchGrid returns the patch grid of a width x height image cut into
// patch x patch tiles. Like a ViT patch embedding (a stride-patch
// convolution), it covers floor(width/patch) x floor(height/patch) whole
// patches; the remainder columns at the right and rows at the bottom are not
// covered. An image smaller than one patch is refused.
func PatchGrid(width, height, patch int) (cols, rows int, err error) {
	if patch <= 0 || width < patch || height < patch {
		return 0, 0, fmt.Errorf("%w: %dx%d image cannot hold a %d px patch", ErrBadShape, width, height, patch)
	}
	return width / patch, height / patch, nil
}

// PatchUnprojector turns a depth image into one 3D point per image patch in
// the base frame. It owns scratch buffers and a cache of patch-centre rays,
// so after the first call with a given camera and patch size it allocates
// nothing. Not safe for concurrent use; use one per goroutine.
type PatchUnprojector struct {
	// MinValidFraction is the fraction of a patch's pixels that must hold
	// valid depth for the patch to be valid (0 = at least one pixel).
	MinValidFraction float64

	keys   []uint32  // 2*patch² depth bit patterns: gather buffer + select scratch
	rays   []float64 // [cols*rows*2] x, y of the ray at each patch centre (z = 1)
	rayCam Pinhole
	rayP   int
}

// Unproject writes, for every patch of the grid PatchGrid(cam.Width,
// cam.Height, patch) in row-major order, the base-frame 3D point seen at the
// patch-centre pixel at the patch's robust depth (the lower median of its
// valid pixels: a measured value, not an interpolation) into
// dstPoints[3i:3i+3], and 1 into dstValid[i]. A patch without enough valid
// depth gets point (0,0,0) and valid 0: flagged, not guessed.
//
// depth is metres, row-major cam.Width x cam.Height, NaN = invalid (as
// written by DecodeDepth). dstPoints needs 3*N values and dstValid N.
func (u *PatchUnprojector) Unproject(depth []float32, cam Pinhole, baseFromCamera Rigid, patch int, dstPoints, dstValid []float32) error {
	cols, rows, err := PatchGrid(cam.Width, cam.Height, patch)
	if err != nil {
		return err
	}
	w := cam.Width
	n := cols * rows
	if len(depth) < w*cam.Height {
		return fmt.Errorf("%w: depth has %d values for a %dx%d camera", ErrBadShape, len(depth), w, cam.Height)
	}
	if len(dstPoints) < 3*n || len(dstValid) < n {
		return fmt.Errorf("%w: destinations hold %d points/%d flags, need %d", ErrBadShape, len(dstPoints)/3, len(dstValid), n)
	}
	u.prepare(cam, patch, cols, rows)
	minValid := max(1, int(math.Ceil(u.MinValidFraction*float64(patch*patch))))
	R, T := baseFromCamera.R, baseFromCamera.T
	for pr := range rows {
		for pc := range cols {
			i := pr*cols + pc
			keys := u.keys[:patch*patch]
			m, lo, hi := gatherPatchKeys(depth, w, pc*patch, pr*patch, patch, keys)
			if int(m) < minValid {
				dstPoints[3*i], dstPoints[3*i+1], dstPoints[3*i+2] = 0, 0, 0
				dstValid[i] = 0
				continue
			}
			z := float64(math.Float32frombits(histKeySelect(keys[:m], u.keys[patch*patch:], int(m-1)/2, lo, hi)))
			x, y := u.rays[2*i]*z, u.rays[2*i+1]*z
			dstPoints[3*i] = float32(R[0]*x + R[1]*y + R[2]*z + T[0])
			dstPoints[3*i+1] = float32(R[3]*x + R[4]*y + R[5]*z + T[1])
			dstPoints[3*i+2] = float32(R[6]*x + R[7]*y + R[8]*z + T[2])
			dstValid[i] = 1
		}
	}
	return nil
}

// gatherPatchKeys copies the depth bit patterns of the patch x patch tile at
// (x0,y0) into keys, valid ones first (keys[:m]), and returns m with the
// valid keys' minimum lo and maximum hi.
func gatherPatchKeys(depth []float32, w, x0, y0, patch int, keys []uint32) (m, lo, hi uint32) {
	// lo is tracked as min(key-1) so that invalid pixels, folded to key 0,
	// wrap to MaxUint32 and never win; hi is max(key) directly.
	loM1 := uint32(math.MaxUint32)
	for y := y0; y < y0+patch; y++ {
		m, loM1, hi = gatherRowKeys(depth[y*w+x0:y*w+x0+patch], keys, m, loM1, hi)
	}
	return m, loM1 + 1, hi
}

// gatherRowKeys is gatherPatchKeys' inner loop, kept out of line so its five
// live values stay in registers instead of spilling. Branch-free on float
// bits (see depthKeyValid): every key is stored, m advances only over valid
// depth (NaN, ±Inf, zero and negative depth are invalid).
//
//go:noinline
func gatherRowKeys(row []float32, keys []uint32, m, loM1, hi uint32) (uint32, uint32, uint32) {
	keys = keys[m:]
	k := 0
	for _, z := range row {
		bits := math.Float32bits(z)
		ok := depthKeyValid(bits)
		keys[k] = bits
		k += int(ok)
		key := bits & -ok
		loM1 = min(loM1, key-1)
		hi = max(hi, key)
	}
	return m + uint32(k), loM1, hi
}

// prepare sizes the scratch buffer and recomputes the patch-centre rays
// when the camera or patch size changed since the last call.
func (u *PatchUnprojector) prepare(cam Pinhole, patch, cols, rows int) {
	if len(u.keys) < 2*patch*patch {
		u.keys = make([]uint32, 2*patch*patch)
	}
	if u.rays != nil && u.rayCam == cam && u.rayP == patch {
		return
	}
	if cap(u.rays) < 2*cols*rows {
		u.rays = make([]float64, 2*cols*rows)
	}
	u.rays = u.rays[:2*cols*rows]
	half := float64(patch) / 2
	for pr := range rows {
		for pc := range cols {
			r := cam.Ray(float64(pc*patch)+half, float64(pr*patch)+half)
			i := pr*cols + pc
			u.rays[2*i], u.rays[2*i+1] = r[0], r[1]
		}
	}
	u.rayCam, u.rayP = cam, patch
}

// UnprojectDepth writes the base-frame point of every pixel (at its centre)
// into dstPoints[3i:3i+3] and 1/0 validity into dstValid[i]; invalid pixels
// get (0,0,0). depth is row-major cam.Width x cam.Height metres, NaN invalid.
func UnprojectDepth(depth []float32, cam Pinhole, baseFromCamera Rigid, dstPoints, dstValid []float32) error {
	w, h := cam.Width, cam.Height
	if len(depth) < w*h || len(dstPoints) < 3*w*h || len(dstValid) < w*h {
		return fmt.Errorf("%w: %dx%d camera with depth %d, points %d, valid %d", ErrBadShape, w, h, len(depth), len(dstPoints), len(dstValid))
	}
	for r := range h {
		for c := range w {
			i := r*w + c
			z := depth[i]
			if !(z > 0) || math.IsInf(float64(z), 0) {
				dstPoints[3*i], dstPoints[3*i+1], dstPoints[3*i+2] = 0, 0, 0
				dstValid[i] = 0
				continue
			}
			p := baseFromCamera.Apply(cam.Unproject(float64(c)+0.5, float64(r)+0.5, float64(z)))
			dstPoints[3*i], dstPoints[3*i+1], dstPoints[3*i+2] = float32(p[0]), float32(p[1]), float32(p[2])
			dstValid[i] = 1
		}
	}
	return nil
}
