package perception

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/vla3d/vla3d/msgs"
)

func TestPoseMsgRoundTrip(t *testing.T) {
	tests := []msgs.Pose{
		{Orientation: [4]float64{0, 0, 0, 1}},
		{Position: [3]float64{1, -2, 3}, Orientation: [4]float64{0.1, 0.2, 0.3, 0.9}},
		{}, // a zero quaternion is carried as is, not repaired
	}
	for _, m := range tests {
		p := PoseFromMsg(m)
		if p.Position != (r3.Vec{X: m.Position[0], Y: m.Position[1], Z: m.Position[2]}) ||
			p.Orientation != (Quat{X: m.Orientation[0], Y: m.Orientation[1], Z: m.Orientation[2], W: m.Orientation[3]}) {
			t.Errorf("PoseFromMsg(%v) = %v", m, p)
		}
		if got := p.Msg(); got != m {
			t.Errorf("round trip %v -> %v", m, got)
		}
	}
	if v := VecFromArray([3]float64{1, 2, 3}); v != (r3.Vec{X: 1, Y: 2, Z: 3}) || VecArray(v) != [3]float64{1, 2, 3} {
		t.Errorf("vector conversion %v", v)
	}
}

func TestPoseRigid(t *testing.T) {
	s := math.Sqrt2 / 2
	p := Pose{Position: r3.Vec{X: 1, Y: 2, Z: 3}, Orientation: Quat{Z: 2 * s, W: 2 * s}} // yaw 90°, not unit
	r := p.Rigid()
	if got := r.Apply([3]float64{1, 0, 0}); !near(got[0], 1, 1e-12) || !near(got[1], 3, 1e-12) || !near(got[2], 3, 1e-12) {
		t.Errorf("Apply = %v, want (1, 3, 3)", got)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for range 200 {
		a := randomRigid(rng)
		if !rigidNear(a.Pose().Rigid(), a, 1e-12) {
			t.Fatal("Rigid -> Pose -> Rigid")
		}
		if q := a.Pose().Orientation; q.Array() != a.Quaternion() {
			t.Fatalf("Pose orientation %v != Quaternion %v", q, a.Quaternion())
		}
	}
}
