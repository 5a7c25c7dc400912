package perception

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/vla3d/vla3d/msgs"
)

func TestApplyDeltaTable(t *testing.T) {
	id := IdentityQuat()
	yaw90 := QuatFromRPY(0, 0, math.Pi/2)
	tests := []struct {
		name string
		p    Pose
		d    Delta
		want Pose
	}{
		{"nothing", Pose{Orientation: id}, Delta{}, Pose{Orientation: id}},
		{"translate", Pose{Position: r3.Vec{X: 1}, Orientation: yaw90}, Delta{Translation: r3.Vec{X: 0.1, Z: -0.2}},
			Pose{Position: r3.Vec{X: 1.1, Z: -0.2}, Orientation: yaw90}}, // base frame, not the pose's frame
		{"yaw", Pose{Orientation: id}, Delta{Yaw: 0.3}, Pose{Orientation: QuatFromRPY(0, 0, 0.3)}},
		// The increment is applied on the left, in the base frame: a roll
		// after a 90° yaw turns about base x, i.e. R = Rx(0.2) Rz(90°).
		{"left", Pose{Orientation: yaw90}, Delta{Roll: 0.2}, Pose{Orientation: QuatFromRPY(0.2, 0, 0).Mul(yaw90)}},
		{"normalised", Pose{Orientation: Quat{W: 3}}, Delta{Pitch: 0.1}, Pose{Orientation: QuatFromRPY(0, 0.1, 0)}},
		{"zero orientation", Pose{}, Delta{}, Pose{Orientation: id}},
	}
	for _, tc := range tests {
		got := ApplyDelta(tc.p, tc.d)
		if !vecNear(got.Position, tc.want.Position, 1e-12) || !quatNear(got.Orientation, tc.want.Orientation, 1e-12) {
			t.Errorf("%s: got %v want %v", tc.name, got, tc.want)
		}
	}
}

func TestDeltaBetweenTable(t *testing.T) {
	id := IdentityQuat()
	s, c := math.Sin(0.05), math.Cos(0.05)
	tests := []struct {
		name      string
		cur, next Pose
		want      Delta
	}{
		{"still", Pose{Orientation: id}, Pose{Orientation: id}, Delta{}},
		{"translate", Pose{Position: r3.Vec{X: 1, Y: 2, Z: 3}, Orientation: id}, Pose{Position: r3.Vec{X: 1.5, Y: 2, Z: 2}, Orientation: id},
			Delta{Translation: r3.Vec{X: 0.5, Z: -1}}},
		{"roll", Pose{Orientation: id}, Pose{Orientation: Quat{X: s, W: c}}, Delta{Roll: 0.1}},
		{"yaw from yawed", Pose{Orientation: Quat{Z: s, W: c}}, Pose{Orientation: Quat{Z: math.Sin(0.1), W: math.Cos(0.1)}}, Delta{Yaw: 0.1}},
		{"unnormalised", Pose{Orientation: Quat{W: 2}}, Pose{Orientation: Quat{X: 3 * s, W: 3 * c}}, Delta{Roll: 0.1}},
		// q and -q are the same orientation: no rotation.
		{"sign flip", Pose{Orientation: id}, Pose{Orientation: id.Neg()}, Delta{}},
		// The shorter way round: yaw 3.1 to -3.1 is +0.083 rad, not -6.2.
		{"short way", Pose{Orientation: QuatFromRPY(0, 0, 3.1)}, Pose{Orientation: QuatFromRPY(0, 0, -3.1)}, Delta{Yaw: 2*math.Pi - 6.2}},
		{"zero orientation", Pose{}, Pose{Position: r3.Vec{Y: 1}, Orientation: Quat{Z: 1}}, Delta{Translation: r3.Vec{Y: 1}}},
		{"NaN orientation", Pose{Orientation: Quat{X: math.NaN()}}, Pose{Orientation: Quat{Z: 1}}, Delta{}},
	}
	for _, tc := range tests {
		got := DeltaBetween(tc.cur, tc.next)
		if !vecNear(got.Translation, tc.want.Translation, 1e-12) || !near(got.Roll, tc.want.Roll, 1e-9) ||
			!near(got.Pitch, tc.want.Pitch, 1e-9) || !near(got.Yaw, tc.want.Yaw, 1e-9) {
			t.Errorf("%s: got %+v want %+v", tc.name, got, tc.want)
		}
	}
}

// Property: executing the delta between two poses from the first lands on
// the second (the quaternion up to sign), and deriving the delta of an
// executed one recovers it (for increments below π, away from the lock).
func TestDeltaRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	randVec := func(s float64) r3.Vec {
		return r3.Vec{X: s * rng.NormFloat64(), Y: s * rng.NormFloat64(), Z: s * rng.NormFloat64()}
	}
	for range 1000 {
		cur := Pose{Position: randVec(1), Orientation: randomQuat(rng)}
		next := Pose{Position: randVec(1), Orientation: randomQuat(rng)}
		got := ApplyDelta(cur, DeltaBetween(cur, next))
		if !vecNear(got.Position, next.Position, 1e-12) || !sameRotation(got.Orientation, next.Orientation, 1e-9) {
			t.Fatalf("ApplyDelta(cur, DeltaBetween(cur, next)) = %v, want %v", got, next)
		}
		d := Delta{Translation: randVec(0.05), Roll: rng.Float64() - 0.5, Pitch: rng.Float64() - 0.5, Yaw: rng.Float64() - 0.5}
		back := DeltaBetween(cur, ApplyDelta(cur, d))
		if !vecNear(back.Translation, d.Translation, 1e-12) || !near(back.Roll, d.Roll, 1e-9) ||
			!near(back.Pitch, d.Pitch, 1e-9) || !near(back.Yaw, d.Yaw, 1e-9) {
			t.Fatalf("DeltaBetween(cur, ApplyDelta(cur, %+v)) = %+v", d, back)
		}
	}
}

func TestDeltaAction(t *testing.T) {
	a := []float32{0.1, -0.2, 0.3, 0.01, -0.02, 0.03, 0.7}
	d := DeltaFromAction(a)
	want := Delta{Translation: r3.Vec{X: float64(a[msgs.ActionDX]), Y: float64(a[msgs.ActionDY]), Z: float64(a[msgs.ActionDZ])},
		Roll: float64(a[msgs.ActionDRoll]), Pitch: float64(a[msgs.ActionDPitch]), Yaw: float64(a[msgs.ActionDYaw])}
	if d != want {
		t.Fatalf("DeltaFromAction = %+v want %+v", d, want)
	}
	b := make([]float32, msgs.EEActionDim)
	b[msgs.ActionGripper] = 0.7
	d.PutAction(b)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("PutAction = %v want %v", b, a)
		}
	}
	if d.Rotation() != QuatFromRPY(d.Roll, d.Pitch, d.Yaw) {
		t.Fatal("Rotation")
	}
}
