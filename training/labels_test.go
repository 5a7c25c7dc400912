package training

import (
	"math"
	"testing"

	"github.com/vla3d/vla3d/perception"
)

// One camera at the origin looking down +z (identity extrinsics), 16x16
// image: a 4x4 square of id 3 at depth 2 m and a 2x2 square of id 5 (ignored
// robot) must give one instance with the hand-computed box, mask and centroid.
func TestPseudoLabels(t *testing.T) {
	l := Layout{Cameras: 1, ImageW: 16, ImageH: 16, MaxInstances: 2, MaskW: 4, MaskH: 4}
	ids := make([]uint16, 256)
	depth := make([]float32, 256)
	for i := range depth {
		depth[i] = float32(math.NaN())
	}
	for r := 4; r < 8; r++ {
		for c := 8; c < 12; c++ {
			ids[r*16+c] = 3
			depth[r*16+c] = 2
		}
	}
	ids[0], ids[1], ids[16], ids[17] = 5, 5, 5, 5
	intr := []float32{10, 10, 8, 8} // corner-origin principal point at the image centre
	ext := []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}
	p := PseudoLabeler{Layout: l, Ignore: []uint16{5}, MinPixels: 2}
	dst := NewInstanceLabels(l)
	if err := p.Label(ids, depth, intr, ext, &dst); err != nil {
		t.Fatal(err)
	}
	if dst.Count != 1 || dst.BoxValid[0] != 1 {
		t.Fatalf("count %d valid %v", dst.Count, dst.BoxValid)
	}
	wantBox := []float32{10.0 / 16, 6.0 / 16, 4.0 / 16, 4.0 / 16}
	for k, w := range wantBox {
		if math.Abs(float64(dst.Boxes[k]-w)) > 1e-6 {
			t.Fatalf("box %v, want %v", dst.Boxes[:4], wantBox)
		}
	}
	// 1/4-scale mask: source cells are 4x4, the square fills cell (row 1, col 2).
	for i, m := range dst.Masks[:16] {
		if want := boolf(i == 1*4+2); m != want {
			t.Fatalf("mask %v", dst.Masks[:16])
		}
	}
	// Mask centre (10, 6) in corner-origin pixels, at depth 2:
	// x = (10-8)/10*2 = 0.4, y = (6-8)/10*2 = -0.4, z = 2.
	want := [3]float32{0.4, -0.4, 2}
	for k := range 3 {
		if math.Abs(float64(dst.Centroids[k]-want[k])) > 1e-5 {
			t.Fatalf("centroid %v, want %v", dst.Centroids[:3], want)
		}
	}
	// Check against perception's own unprojection convention.
	cam := perception.Pinhole{Fx: 10, Fy: 10, Cx: 8, Cy: 8, Width: 16, Height: 16}
	u := cam.Unproject(10, 6, 2)
	if math.Abs(u[0]-0.4) > 1e-9 || math.Abs(u[1]+0.4) > 1e-9 {
		t.Fatalf("perception unprojects (10,6,2) to %v", u)
	}
	if err := p.Label(ids[:10], depth, intr, ext, &dst); err == nil {
		t.Fatal("bad sizes accepted")
	}
}

func BenchmarkPseudoLabels(b *testing.B) {
	l := Layout{Cameras: 3, ImageW: 96, ImageH: 96, MaxInstances: 8, MaskW: 24, MaskH: 24}
	n := 3 * 96 * 96
	ids := make([]uint16, n)
	depth := make([]float32, n)
	for i := range ids {
		ids[i] = uint16((i / 96 / 12) % 7)
		depth[i] = 1
	}
	intr := []float32{80, 80, 48, 48, 80, 80, 48, 48, 80, 80, 48, 48}
	ext := make([]float32, 36)
	for c := range 3 {
		copy(ext[12*c:], []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0})
	}
	p := PseudoLabeler{Layout: l, MinPixels: 4}
	dst := NewInstanceLabels(l)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Label(ids, depth, intr, ext, &dst); err != nil {
			b.Fatal(err)
		}
	}
}
