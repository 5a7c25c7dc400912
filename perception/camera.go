package perception

import (
	"errors"
	"fmt"
	"math"
)

// Pinhole is a pinhole camera with optional lens distortion.
//
// Pixel convention: continuous image coordinates whose origin is the top-left
// CORNER of the top-left pixel, so pixel (col,row) covers [col,col+1)x[row,row+1)
// and its centre is (col+0.5,row+0.5). With this convention a point inside the
// image has 0 <= u < Width, u/Width is exactly the [0,1] sampling coordinate the
// model uses, and resizing is a plain multiplication. ROS/OpenCV put the centre
// of pixel 0 at 0, so PinholeFromCameraInfo adds 0.5 to their cx, cy.
type Pinhole struct {
	Fx, Fy, Cx, Cy float64
	Width, Height  int
	// Dist is the lens distortion (zero value = none). It applies to
	// Project/Unproject of single points and to the batched routines.
	Dist Distortion
}

// Distortion holds the radial/tangential Brown-Conrady coefficients of the ROS
// "plumb_bob" (k1,k2,p1,p2,k3) and "rational_polynomial" (k1..k6) models:
//
//	radial = (1 + K1 r² + K2 r⁴ + K3 r⁶) / (1 + K4 r² + K5 r⁴ + K6 r⁶)
//	x_d = x·radial + 2 P1 x y + P2 (r² + 2x²)
//	y_d = y·radial + P1 (r² + 2y²) + 2 P2 x y
type Distortion struct {
	K1, K2, P1, P2, K3, K4, K5, K6 float64
}

// IsZero reports whether the distortion is the identity.
func (d Distortion) IsZero() bool { return d == Distortion{} }

// Distort maps an undistorted normalised image point (x = X/Z, y = Y/Z) to its
// distorted position.
func (d Distortion) Distort(x, y float64) (float64, float64) {
	if d.IsZero() {
		return x, y
	}
	r2 := x*x + y*y
	r4 := r2 * r2
	r6 := r4 * r2
	radial := (1 + d.K1*r2 + d.K2*r4 + d.K3*r6) / (1 + d.K4*r2 + d.K5*r4 + d.K6*r6)
	xd := x*radial + 2*d.P1*x*y + d.P2*(r2+2*x*x)
	yd := y*radial + d.P1*(r2+2*y*y) + 2*d.P2*x*y
	return xd, yd
}

// undistortIterations bounds the fixed-point inversion; real lenses converge
// to ~1e-12 in well under this many steps inside the image.
const undistortIterations = 40

// Undistort inverts Distort by fixed-point iteration (the same scheme OpenCV's
// undistortPoints uses): x = (x_d - tangential(x)) / radial(x).
func (d Distortion) Undistort(xd, yd float64) (float64, float64) {
	if d.IsZero() {
		return xd, yd
	}
	x, y := xd, yd
	for range undistortIterations {
		r2 := x*x + y*y
		r4 := r2 * r2
		r6 := r4 * r2
		icdist := (1 + d.K4*r2 + d.K5*r4 + d.K6*r6) / (1 + d.K1*r2 + d.K2*r4 + d.K3*r6)
		dx := 2*d.P1*x*y + d.P2*(r2+2*x*x)
		dy := d.P1*(r2+2*y*y) + 2*d.P2*x*y
		nx, ny := (xd-dx)*icdist, (yd-dy)*icdist
		if math.Abs(nx-x) < 1e-14 && math.Abs(ny-y) < 1e-14 {
			return nx, ny
		}
		x, y = nx, ny
	}
	return x, y
}

// ErrInvalidCamera is wrapped by every camera construction error.
var ErrInvalidCamera = errors.New("perception: invalid camera")

// PinholeFromCameraInfo builds a camera from the fields of
// sensor_msgs/CameraInfo. K is used (it describes image_raw); P is the
// fallback when K is all zero (some drivers fill only P). Supported
// distortion: "plumb_bob" and "rational_polynomial" (handled exactly), and any
// model — including "" and "equidistant" — whose coefficients are all zero.
// Nonzero coefficients of any other model are refused, naming model and
// coefficients, because silently ignoring them would misplace every 3D point.
func PinholeFromCameraInfo(width, height int, distortionModel string, D []float64, K [9]float64, P [12]float64) (Pinhole, error) {
	if width <= 0 || height <= 0 {
		return Pinhole{}, fmt.Errorf("%w: image size %dx%d", ErrInvalidCamera, width, height)
	}
	fx, fy, cx, cy := K[0], K[4], K[2], K[5]
	if fx == 0 && fy == 0 {
		fx, fy, cx, cy = P[0], P[5], P[2], P[6]
	}
	c := Pinhole{Fx: fx, Fy: fy, Cx: cx + 0.5, Cy: cy + 0.5, Width: width, Height: height}
	if err := c.Validate(); err != nil {
		return Pinhole{}, err
	}
	for i, v := range D {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Pinhole{}, fmt.Errorf("%w: distortion %q coefficient D[%d] = %v", ErrInvalidCamera, distortionModel, i, v)
		}
	}
	allZero := true
	for _, v := range D {
		if v != 0 {
			allZero = false
		}
	}
	if allZero {
		return c, nil
	}
	var d [8]float64
	switch distortionModel {
	case "plumb_bob":
		if len(D) > 5 {
			return Pinhole{}, fmt.Errorf("%w: plumb_bob expects at most 5 coefficients, got %d: %v", ErrInvalidCamera, len(D), D)
		}
	case "rational_polynomial":
		if len(D) > 8 {
			// Thin-prism / tilt terms (D[8:]) are not modelled; refuse rather than ignore.
			for _, v := range D[8:] {
				if v != 0 {
					return Pinhole{}, fmt.Errorf("%w: rational_polynomial coefficients beyond k6 are unsupported: %v", ErrInvalidCamera, D)
				}
			}
		}
	default:
		return Pinhole{}, fmt.Errorf("%w: distortion model %q with nonzero coefficients %v is unsupported (use plumb_bob, rational_polynomial or rectified images)", ErrInvalidCamera, distortionModel, D)
	}
	copy(d[:], D)
	c.Dist = Distortion{K1: d[0], K2: d[1], P1: d[2], P2: d[3], K3: d[4], K4: d[5], K5: d[6], K6: d[7]}
	return c, nil
}

// Validate reports an error for a size or intrinsics that cannot describe a camera.
func (c Pinhole) Validate() error {
	if c.Width <= 0 || c.Height <= 0 {
		return fmt.Errorf("%w: image size %dx%d", ErrInvalidCamera, c.Width, c.Height)
	}
	for _, v := range [...]float64{c.Fx, c.Fy} {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: focal length fx=%v fy=%v must be finite and positive", ErrInvalidCamera, c.Fx, c.Fy)
		}
	}
	if math.IsNaN(c.Cx) || math.IsNaN(c.Cy) || math.IsInf(c.Cx, 0) || math.IsInf(c.Cy, 0) {
		return fmt.Errorf("%w: principal point cx=%v cy=%v must be finite", ErrInvalidCamera, c.Cx, c.Cy)
	}
	return nil
}

// Scaled returns the camera for the image resized (stretched) to newW x newH.
// Focal lengths and principal point scale independently per axis; this is
// exact in the corner-origin pixel convention. Distortion acts on normalised
// coordinates and is unchanged.
func (c Pinhole) Scaled(newW, newH int) Pinhole {
	sx := float64(newW) / float64(c.Width)
	sy := float64(newH) / float64(c.Height)
	return Pinhole{
		Fx: c.Fx * sx, Fy: c.Fy * sy, Cx: c.Cx * sx, Cy: c.Cy * sy,
		Width: newW, Height: newH, Dist: c.Dist,
	}
}

// Intrinsics returns fx, fy, cx, cy as float32 (the layout of policy.Input.Intrinsics).
func (c Pinhole) Intrinsics() [4]float32 {
	return [4]float32{float32(c.Fx), float32(c.Fy), float32(c.Cx), float32(c.Cy)}
}

// Project maps a point in the camera's optical frame (z forward, x right, y
// down) to pixel coordinates. ok is false when the point is not in front of
// the camera (z <= 0); u, v are then meaningless.
func (c Pinhole) Project(p [3]float64) (u, v float64, ok bool) {
	if !(p[2] > 0) {
		return 0, 0, false
	}
	x, y := c.Dist.Distort(p[0]/p[2], p[1]/p[2])
	return c.Fx*x + c.Cx, c.Fy*y + c.Cy, true
}

// Ray returns the viewing ray through pixel coordinate (u,v) scaled so that
// its z component is 1 (a point at depth z is Ray·z).
func (c Pinhole) Ray(u, v float64) [3]float64 {
	x, y := c.Dist.Undistort((u-c.Cx)/c.Fx, (v-c.Cy)/c.Fy)
	return [3]float64{x, y, 1}
}

// Unproject returns the point in the optical frame seen at pixel coordinate
// (u,v) with depth z along the optical axis (depth images store z, not range).
func (c Pinhole) Unproject(u, v, z float64) [3]float64 {
	r := c.Ray(u, v)
	return [3]float64{r[0] * z, r[1] * z, z}
}

// InImage reports whether pixel coordinate (u,v) lies inside the image.
func (c Pinhole) InImage(u, v float64) bool {
	return u >= 0 && v >= 0 && u < float64(c.Width) && v < float64(c.Height)
}
