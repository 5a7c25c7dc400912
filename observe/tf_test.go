package observe

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
)

func TestTFBufferChains(t *testing.T) {
	b := NewTFBuffer()
	h := math.Sqrt(0.5)
	set := func(parent, child string, tr [3]float64, q [4]float64, static bool) {
		t.Helper()
		if err := b.Set(rosconv.StampedTransform{Parent: parent, Child: child, Transform: msgs.Transform{Translation: tr, Rotation: q}}, static, time.Unix(5, 0)); err != nil {
			t.Fatal(err)
		}
	}
	id := [4]float64{0, 0, 0, 1}
	set("world", "base_link", [3]float64{1, 0, 0}, id, true)
	set("world", "camera_link", [3]float64{0, 2, 0}, [4]float64{0, 0, h, h}, false) // yaw 90°
	set("camera_link", "cam_optical", [3]float64{0, 0, 0.5}, id, true)
	// base_from_optical: p_world = Rz90 (p + (0,0,0.5)) + (0,2,0); p_base = p_world - (1,0,0).
	r, oldest, err := b.Lookup("base_link", "cam_optical")
	if err != nil {
		t.Fatal(err)
	}
	got := r.Apply([3]float64{1, 0, 0}) // Rz90 (1,0,0.5) = (0,1,0.5); + (0,2,0) - (1,0,0) = (-1,3,0.5)
	want := [3]float64{-1, 3, 0.5}
	for i := range 3 {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("base_from_optical(1,0,0) = %v, want %v", got, want)
		}
	}
	if !oldest.Equal(time.Unix(5, 0)) {
		t.Errorf("oldest dynamic edge %v", oldest)
	}
	if _, _, err := b.Lookup("base_link", "nowhere"); !errors.Is(err, ErrNoTransform) {
		t.Errorf("unconnected frame: %v", err)
	}
	if r, _, err := b.Lookup("x", "x"); err != nil || r.R[0] != 1 {
		t.Errorf("identity lookup %v %v", r, err)
	}
	set("a", "b", [3]float64{}, id, true)
	set("b", "a", [3]float64{}, id, true)
	if _, _, err := b.Lookup("base_link", "a"); !errors.Is(err, ErrNoTransform) {
		t.Errorf("loop not detected: %v", err)
	}
	if err := b.Set(rosconv.StampedTransform{Parent: "p", Child: "c", Transform: msgs.Transform{}}, true, time.Time{}); err == nil {
		t.Error("zero quaternion accepted")
	}
}
