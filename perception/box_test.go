package perception

import (
	"math/rand/v2"
	"testing"
)

func TestBox2DConversions(t *testing.T) {
	b := [4]float32{1, 2, 5, 10}
	c := XYXYToCXCYWH(b)
	if c != [4]float32{3, 6, 4, 8} {
		t.Fatalf("cxcywh = %v", c)
	}
	if CXCYWHToXYXY(c) != b {
		t.Fatalf("round trip = %v", CXCYWHToXYXY(c))
	}
	if got := NormalizeBox(b, 10, 20); got != [4]float32{0.1, 0.1, 0.5, 0.5} {
		t.Fatalf("NormalizeBox = %v", got)
	}
}

func TestBoxIoUGIoU(t *testing.T) {
	tests := []struct {
		name      string
		a, b      [4]float32
		iou, giou float64
	}{
		{"identical", [4]float32{0, 0, 2, 2}, [4]float32{0, 0, 2, 2}, 1, 1},
		// inter 1, union 4+4-1=7, enclosing 3x3=9: giou = 1/7 - 2/9
		{"overlap", [4]float32{0, 0, 2, 2}, [4]float32{1, 1, 3, 3}, 1.0 / 7, 1.0/7 - 2.0/9},
		// disjoint: union 2, enclosing 3x1=3 -> -1/3
		{"disjoint", [4]float32{0, 0, 1, 1}, [4]float32{2, 0, 3, 1}, 0, -1.0 / 3},
		{"contained", [4]float32{0, 0, 4, 4}, [4]float32{1, 1, 2, 2}, 1.0 / 16, 1.0 / 16},
		{"degenerate", [4]float32{1, 1, 1, 1}, [4]float32{1, 1, 1, 1}, 0, 0},
		{"far apart tends to -1", [4]float32{0, 0, 1, 1}, [4]float32{99, 99, 100, 100}, 0, 2.0/10000 - 1},
	}
	for _, tc := range tests {
		if got := BoxIoU(tc.a, tc.b); !near(got, tc.iou, 1e-9) {
			t.Errorf("%s: IoU %v want %v", tc.name, got, tc.iou)
		}
		if got := BoxGIoU(tc.a, tc.b); !near(got, tc.giou, 1e-9) {
			t.Errorf("%s: GIoU %v want %v", tc.name, got, tc.giou)
		}
	}
}

// Properties: symmetric, IoU in [0,1], GIoU in [-1,1] and <= IoU.
func TestBoxProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	rb := func() [4]float32 {
		x, y := rng.Float32()*10, rng.Float32()*10
		return [4]float32{x, y, x + rng.Float32()*5, y + rng.Float32()*5}
	}
	for range 2000 {
		a, b := rb(), rb()
		iou, giou := BoxIoU(a, b), BoxGIoU(a, b)
		if iou != BoxIoU(b, a) || giou != BoxGIoU(b, a) || iou < 0 || iou > 1 || giou < -1 || giou > iou+1e-12 {
			t.Fatalf("a %v b %v: iou %v giou %v", a, b, iou, giou)
		}
	}
}

func TestAABB(t *testing.T) {
	box, ok := AABBFromPoints([]float32{0, 0, 0, 2, 1, -1, 1, 3, 1})
	if !ok || box != (AABB{Min: [3]float32{0, 0, -1}, Max: [3]float32{2, 3, 1}}) {
		t.Fatalf("AABB = %v %v", box, ok)
	}
	if box.Volume() != 12 || box.Centroid() != [3]float32{1, 1.5, 0} {
		t.Fatalf("volume %v centroid %v", box.Volume(), box.Centroid())
	}
	if _, ok := AABBFromPoints(nil); ok {
		t.Fatal("empty AABB ok")
	}
	a := AABB{Max: [3]float32{2, 2, 2}}
	b := AABB{Min: [3]float32{1, 1, 1}, Max: [3]float32{3, 3, 3}}
	// inter 1, union 8+8-1 = 15
	if got := a.IoU(b); !near(got, 1.0/15, 1e-12) || a.IoU(a) != 1 {
		t.Fatalf("IoU = %v", got)
	}
	if got := a.IoU(AABB{Min: [3]float32{5, 5, 5}, Max: [3]float32{6, 6, 6}}); got != 0 {
		t.Fatalf("disjoint IoU = %v", got)
	}
	c, ok := PointsCentroid([]float32{0, 0, 0, 2, 4, 6})
	if !ok || c != [3]float32{1, 2, 3} {
		t.Fatalf("centroid %v", c)
	}
}
