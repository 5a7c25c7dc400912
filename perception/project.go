package perception

import (
	"fmt"
	"math"
)

// DefaultDepthEps is the depth clamp eps (metres) of the paper's projection
// z' = max(z, eps): 1 cm, below any camera's near range.
const DefaultDepthEps = 0.01

// ProjectPoints projects base-frame points into one view with the paper's
// depth clamp, for the instance module's reference points:
//
//	(u·z, v·z, z) = K (R p + t),  z' = max(z, eps),
//	dstUV = (u/z' / Width, v/z' / Height)
//
// points is [N*3] base-frame metres, camFromBase maps base to the optical
// frame, dstUV receives [N*2] normalised sampling coordinates (0..1 across the
// image, see Pinhole's pixel convention) and dstValid [N] 1/0. A point is
// invalid when it is behind or too close to the camera (z <= eps) or projects
// outside the image; its clamped coordinates are still written so a model can
// consume them unmasked. Lens distortion, when cam has one, is applied after
// the clamp.
func ProjectPoints(points []float32, cam Pinhole, camFromBase Rigid, eps float64, dstUV, dstValid []float32) error {
	n := len(points) / 3
	if len(points) != 3*n || len(dstUV) < 2*n || len(dstValid) < n {
		return fmt.Errorf("%w: %d point values, uv %d, valid %d", ErrBadShape, len(points), len(dstUV), len(dstValid))
	}
	if !(eps > 0) {
		return fmt.Errorf("%w: depth clamp eps %v must be positive", ErrBadShape, eps)
	}
	R, T := camFromBase.R, camFromBase.T
	invW, invH := 1/float64(cam.Width), 1/float64(cam.Height)
	distorted := !cam.Dist.IsZero()
	for i := range n {
		px, py, pz := float64(points[3*i]), float64(points[3*i+1]), float64(points[3*i+2])
		x := R[0]*px + R[1]*py + R[2]*pz + T[0]
		y := R[3]*px + R[4]*py + R[5]*pz + T[1]
		z := R[6]*px + R[7]*py + R[8]*pz + T[2]
		zc := math.Max(z, eps)
		nx, ny := x/zc, y/zc
		if distorted {
			nx, ny = cam.Dist.Distort(nx, ny)
		}
		u, v := cam.Fx*nx+cam.Cx, cam.Fy*ny+cam.Cy
		dstUV[2*i], dstUV[2*i+1] = float32(u*invW), float32(v*invH)
		if z > eps && cam.InImage(u, v) {
			dstValid[i] = 1
		} else {
			dstValid[i] = 0
		}
	}
	return nil
}

// ToGridSample converts [0,1] sampling coordinates in place to the [-1,1]
// convention of grid_sample with align_corners=false (-1 and 1 are the outer
// edges of the border pixels), i.e. g = 2·s - 1.
func ToGridSample(uv []float32) {
	for i, s := range uv {
		uv[i] = 2*s - 1
	}
}
