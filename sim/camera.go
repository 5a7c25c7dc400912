package sim

import (
	"math"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
)

// Intrinsics returns the pinhole parameters of a MuJoCo camera rendered at
// w x h: MuJoCo's frustum is symmetric with vertical field of view fovy and
// square pixels, so fx = fy = (h/2)/tan(fovy/2), and the optical axis passes
// through the image centre, which in pixel-centre coordinates (pixel i spans
// [i-0.5, i+0.5]) is ((w-1)/2, (h-1)/2).
func Intrinsics(w, h int, fovyDeg float64) (fx, fy, cx, cy float64) {
	f := float64(h) / 2 / math.Tan(fovyDeg*math.Pi/360)
	return f, f, float64(w-1) / 2, float64(h-1) / 2
}

// CameraInfo is the calibration a sensor_msgs/CameraInfo would carry for a
// rendered (distortion-free, rectified) camera.
func CameraInfo(frameID string, w, h int, fovyDeg float64) msgs.CameraInfo {
	fx, fy, cx, cy := Intrinsics(w, h, fovyDeg)
	return msgs.CameraInfo{
		FrameID: frameID, Width: w, Height: h,
		DistortionModel: "plumb_bob",
		D:               []float64{0, 0, 0, 0, 0},
		K:               [9]float64{fx, 0, cx, 0, fy, cy, 0, 0, 1},
		R:               [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1},
		P:               [12]float64{fx, 0, cx, 0, 0, fy, cy, 0, 0, 0, 1, 0},
	}
}

// OpticalFrameID is the tf frame of camera name's optical frame.
func OpticalFrameID(name string) string { return name + "_color_optical_frame" }

// BaseFromOptical converts a MuJoCo camera pose (position and row-major
// rotation whose columns are the camera's x right, y up, z backward axes in
// the base frame) into the base <- optical transform (REP 103 optical frame:
// x right, y down, z forward): R_opt = R_cam · diag(1, -1, -1).
func BaseFromOptical(pos [3]float64, mat [9]float64) msgs.Transform {
	r := [9]float64{
		mat[0], -mat[1], -mat[2],
		mat[3], -mat[4], -mat[5],
		mat[6], -mat[7], -mat[8],
	}
	return msgs.Transform{Translation: pos, Rotation: perception.QuatFromMatrix(r).Array()}
}

// TransformPoint applies t (child -> parent) to p.
func TransformPoint(t msgs.Transform, p Vec3) Vec3 {
	m := perception.QuatFromArray(t.Rotation).Matrix()
	return Vec3{
		m[0]*p[0] + m[1]*p[1] + m[2]*p[2] + t.Translation[0],
		m[3]*p[0] + m[4]*p[1] + m[5]*p[2] + t.Translation[1],
		m[6]*p[0] + m[7]*p[1] + m[8]*p[2] + t.Translation[2],
	}
}
