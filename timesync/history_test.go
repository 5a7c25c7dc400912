package timesync

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestHistoryClosest(t *testing.T) {
	t0 := time.Unix(100, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	h := NewHistory[int](4)
	if _, _, ok := h.Closest(t0); ok {
		t.Fatal("empty history answered")
	}
	for i, st := range []int{0, 100, 200} {
		h.Add(ms(st), i)
	}
	for _, tc := range []struct {
		at   int
		want int
		dist time.Duration
	}{
		{-50, 0, 50 * time.Millisecond},
		{0, 0, 0},
		{40, 0, 40 * time.Millisecond},
		{50, 1, 50 * time.Millisecond}, // tie: the later stamp
		{60, 1, 40 * time.Millisecond},
		{150, 2, 50 * time.Millisecond}, // tie: the later stamp
		{900, 2, 700 * time.Millisecond},
	} {
		v, d, ok := h.Closest(ms(tc.at))
		if !ok || v != tc.want || d != tc.dist {
			t.Errorf("Closest(%d ms) = %d, %v, %v; want %d, %v", tc.at, v, d, ok, tc.want, tc.dist)
		}
	}
	// Capacity: the oldest value leaves.
	h.Add(ms(300), 3)
	h.Add(ms(400), 4)
	if v, _, _ := h.Closest(ms(0)); v != 1 {
		t.Errorf("after overflow Closest(0) = %d, want 1", v)
	}
	if st, v, ok := h.Newest(); !ok || v != 4 || !st.Equal(ms(400)) {
		t.Errorf("Newest = %v %d %v", st, v, ok)
	}
}

func TestHistoryEqualStampsNewestArrival(t *testing.T) {
	h := NewHistory[int](8)
	var zero time.Time
	for i := range 5 {
		h.Add(zero, i)
	}
	if v, _, _ := h.Closest(time.Unix(5, 0)); v != 4 {
		t.Fatalf("unstamped stream: got %d, want the newest 4", v)
	}
}

// Property: Closest equals a brute-force search with the same tie rule,
// whatever the arrival order.
func TestHistoryClosestProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		h := NewHistory[int](1 + r.IntN(8))
		n := r.IntN(12)
		type sv struct {
			t time.Time
			v int
		}
		var all []sv
		for i := range n {
			st := time.Unix(0, int64(r.IntN(20))*int64(time.Millisecond))
			h.Add(st, i)
			all = append(all, sv{st, i})
		}
		kept := all[max(0, len(all)-len(h.stamps)):]
		q := time.Unix(0, int64(r.IntN(25))*int64(time.Millisecond))
		v, d, ok := h.Closest(q)
		if len(kept) == 0 {
			if ok {
				t.Fatal("empty answered")
			}
			continue
		}
		best := kept[0]
		for _, s := range kept[1:] {
			ds, db := s.t.Sub(q).Abs(), best.t.Sub(q).Abs()
			if ds < db || (ds == db && !s.t.Before(best.t)) {
				best = s
			}
		}
		if v != best.v || d != best.t.Sub(q).Abs() {
			t.Fatalf("Closest = %d (%v), brute force %d", v, d, best.v)
		}
	}
}

func BenchmarkHistoryClosest(b *testing.B) {
	h := NewHistory[[7]float64](64)
	t0 := time.Unix(0, 0)
	for i := range 64 {
		h.Add(t0.Add(time.Duration(i)*10*time.Millisecond), [7]float64{})
	}
	q := t0.Add(315 * time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		h.Closest(q)
	}
}

func TestHistoryAtOrBefore(t *testing.T) {
	t0 := time.Unix(100, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	h := NewHistory[int](8)
	if _, ok := h.AtOrBefore(t0); ok {
		t.Fatal("empty history answered")
	}
	// Arrival order differs from stamp order; 100 ms appears twice.
	for i, st := range []int{0, 200, 100, 100} {
		h.Add(ms(st), i)
	}
	for _, tc := range []struct {
		at   int
		want int
		ok   bool
	}{
		{-1, 0, false},
		{0, 0, true},
		{99, 0, true},
		{100, 3, true}, // equal stamps: the later arrival
		{199, 3, true},
		{200, 1, true},
		{900, 1, true},
	} {
		v, ok := h.AtOrBefore(ms(tc.at))
		if ok != tc.ok || (ok && v != tc.want) {
			t.Errorf("AtOrBefore(%d ms) = %d, %v; want %d, %v", tc.at, v, ok, tc.want, tc.ok)
		}
	}
}
