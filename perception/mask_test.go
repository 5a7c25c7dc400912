package perception

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestMaskBackprojection(t *testing.T) {
	labels := []uint16{
		0, 3, 3,
		0, 3, 1,
	}
	mask := make([]uint8, 6)
	if err := MaskFromLabels(labels, 3, mask); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mask, []uint8{0, 1, 1, 0, 1, 0}) {
		t.Fatalf("mask = %v", mask)
	}
	box, ok := MaskBox(mask, 3, 2)
	if !ok || box != [4]float32{1, 0, 3, 2} {
		t.Fatalf("MaskBox = %v %v", box, ok)
	}
	if _, ok := MaskBox(make([]uint8, 6), 3, 2); ok {
		t.Fatal("empty mask box ok")
	}
	cam := Pinhole{Fx: 1, Fy: 1, Cx: 1.5, Cy: 1, Width: 3, Height: 2}
	nan := float32(math.NaN())
	depth := []float32{
		9, 2, nan,
		9, 4, 9,
	}
	// base <- camera: pure translation (0, 0, 1).
	base := Rigid{R: Identity().R, T: [3]float64{0, 0, 1}}
	pts, err := BackprojectMask(mask, depth, cam, base, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	// pixel (1,0): centre (1.5,0.5) -> ray (0,-0.5) * 2 = (0,-1,2) -> +1 z
	// pixel (1,1): centre (1.5,1.5) -> ray (0, 0.5) * 4 = (0, 2, 4)
	if want := []float32{0, -1, 3, 0, 2, 5}; !slices.Equal(pts, want) {
		t.Fatalf("points = %v want %v", pts, want)
	}
	// Centroid: 2D centre (1.5, 1.0), lower median depth of {2, 4} = 2 -> (0, 0, 2) + (0,0,1).
	c, ok, err := InstanceCentroid(mask, depth, cam, base, nil)
	if err != nil || !ok || c != [3]float32{0, 0, 3} {
		t.Fatalf("centroid = %v %v %v", c, ok, err)
	}
	if _, ok, _ := InstanceCentroid(make([]uint8, 6), depth, cam, base, nil); ok {
		t.Fatal("empty mask centroid ok")
	}
	if _, err := BackprojectMask(mask[:5], depth, cam, base, 1, nil); !errors.Is(err, ErrBadShape) {
		t.Fatalf("short mask err = %v", err)
	}
	if _, err := BackprojectMask(mask, depth, cam, base, 0, nil); !errors.Is(err, ErrBadShape) {
		t.Fatalf("stride 0 err = %v", err)
	}
	// Stride 2 visits only (0,0) and (2,0): neither is in-mask with depth.
	if pts, _ := BackprojectMask(mask, depth, cam, base, 2, pts[:0]); len(pts) != 0 {
		t.Fatalf("stride 2 points = %v", pts)
	}
}
