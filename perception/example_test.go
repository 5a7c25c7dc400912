package perception_test

import (
	"fmt"

	"github.com/vla3d/vla3d/perception"
)

// A 4x4 depth image of a wall 2 m in front of a camera mounted 1 m above the
// base origin, looking forward (base x) with its optical z along base x,
// becomes a 2x2 grid of patch centres in the base frame.
func ExamplePatchUnprojector() {
	cam, err := perception.PinholeFromCameraInfo(4, 4, "plumb_bob", []float64{0, 0, 0, 0, 0},
		[9]float64{4, 0, 1.5, 0, 4, 1.5, 0, 0, 1}, [12]float64{})
	if err != nil {
		panic(err)
	}
	// Optical frame (z fwd, x right, y down) -> base (x fwd, y left, z up).
	baseFromCam, err := perception.RigidFromMatrix3x4([12]float64{
		0, 0, 1, 0,
		-1, 0, 0, 0,
		0, -1, 0, 1,
	})
	if err != nil {
		panic(err)
	}
	depth := make([]float32, 16)
	for i := range depth {
		depth[i] = 2
	}
	points, valid := make([]float32, 4*3), make([]float32, 4)
	var u perception.PatchUnprojector
	if err := u.Unproject(depth, cam, baseFromCam, 2, points, valid); err != nil {
		panic(err)
	}
	for i := range 4 {
		fmt.Printf("patch %d: (%.2f, %.2f, %.2f) valid %v\n", i, points[3*i], points[3*i+1], points[3*i+2], valid[i])
	}
	// Output:
	// patch 0: (2.00, 0.50, 1.50) valid 1
	// patch 1: (2.00, -0.50, 1.50) valid 1
	// patch 2: (2.00, 0.50, 0.50) valid 1
	// patch 3: (2.00, -0.50, 0.50) valid 1
}

// Matching predicted instances to pseudo-labels: three predictions, two targets.
func ExampleHungarian() {
	cost := []float64{
		0.9, 0.1,
		0.2, 0.8,
		0.5, 0.5,
	}
	var h perception.Hungarian
	rowToCol := make([]int, 3)
	total, err := h.Solve(cost, 3, 2, rowToCol)
	if err != nil {
		panic(err)
	}
	fmt.Println(rowToCol, fmt.Sprintf("%.1f", total))
	// Output: [1 0 -1] 0.3
}

// A reference point 1 m in front of the camera projects to the image centre;
// one behind the camera is clamped and flagged invalid.
func ExampleProjectPoints() {
	cam := perception.Pinhole{Fx: 100, Fy: 100, Cx: 50, Cy: 50, Width: 100, Height: 100}
	points := []float32{0, 0, 1, 0.1, 0, -1}
	uv, valid := make([]float32, 4), make([]float32, 2)
	if err := perception.ProjectPoints(points, cam, perception.Identity(), perception.DefaultDepthEps, uv, valid); err != nil {
		panic(err)
	}
	fmt.Println(uv[:2], valid)
	// Output: [0.5 0.5] [1 0]
}
