package dataset

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
)

func FuzzHeaderStamp(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0}, false)
	f.Add([]byte{0, 1, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0}, true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 5}, true)
	f.Fuzz(func(t *testing.T, data []byte, cdr bool) {
		c := &bag.Connection{Topic: "/x", Encoding: "ros1"}
		if cdr {
			c.Encoding = "cdr"
		}
		st, err := headerStamp(bag.Message{Conn: c, Data: data})
		if err == nil && (st.Nanosecond() >= 1e9 || st.Before(time.Unix(0, 0))) {
			t.Fatalf("stamp %v", st)
		}
	})
}

// Property: executing the derived action from cur with perception.ApplyDelta
// (q_next = q(rpy) * q_cur, p_next = p_cur + d, as the simulator and the node
// do) lands on next.
func TestDeriveActionInvertsExecution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		q := perception.QuatFromRPY(rng.Float64()*6-3, rng.Float64()*2.8-1.4, rng.Float64()*6-3)
		cur := msgs.Pose{Position: [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}, Orientation: q.Array()}
		dq := perception.QuatFromRPY(rng.Float64()*0.4-0.2, rng.Float64()*0.4-0.2, rng.Float64()*0.4-0.2)
		next := msgs.Pose{Orientation: dq.Mul(q).Array()}
		for k := range 3 {
			next.Position[k] = cur.Position[k] + rng.Float64()*0.1 - 0.05
		}
		a := DeriveAction(cur, next, 1)
		got := perception.ApplyDelta(perception.PoseFromMsg(cur), perception.DeltaFromAction(a[:])).Orientation
		if dot := got.Dot(perception.QuatFromArray(next.Orientation)); math.Abs(math.Abs(dot)-1) > 1e-5 {
			t.Fatalf("case %d: orientation off, |dot| = %v", i, math.Abs(dot))
		}
		for k := range 3 {
			if math.Abs(cur.Position[k]+float64(a[k])-next.Position[k]) > 1e-6 {
				t.Fatalf("case %d: position off", i)
			}
		}
	}
}
