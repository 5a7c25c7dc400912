package dataset

import (
	"sort"
	"time"
)

// history keeps the most recent stamped values of one stream in stamp order
// so a step can take the value closest to its own stamp even when it is
// assembled a few messages late.
type history[T any] struct {
	limit  int
	stamps []time.Time
	vals   []T
}

func newHistory[T any](limit int) *history[T] { return &history[T]{limit: limit} }

func (h *history[T]) add(t time.Time, v T) {
	i := sort.Search(len(h.stamps), func(i int) bool { return h.stamps[i].After(t) })
	h.stamps = append(h.stamps, time.Time{})
	h.vals = append(h.vals, v)
	copy(h.stamps[i+1:], h.stamps[i:])
	copy(h.vals[i+1:], h.vals[i:])
	h.stamps[i], h.vals[i] = t, v
	if n := len(h.stamps); n > h.limit {
		h.stamps = append(h.stamps[:0], h.stamps[n-h.limit:]...)
		h.vals = append(h.vals[:0], h.vals[n-h.limit:]...)
	}
}

// closest returns the value whose stamp is nearest t, and how far it is.
func (h *history[T]) closest(t time.Time) (v T, dist time.Duration, ok bool) {
	if len(h.stamps) == 0 {
		return v, 0, false
	}
	i := sort.Search(len(h.stamps), func(i int) bool { return !h.stamps[i].Before(t) })
	best := i
	switch {
	case i == len(h.stamps):
		best = i - 1
	case i > 0 && t.Sub(h.stamps[i-1]) <= h.stamps[i].Sub(t):
		best = i - 1
	}
	d := h.stamps[best].Sub(t)
	if d < 0 {
		d = -d
	}
	return h.vals[best], d, true
}

func (h *history[T]) reset() {
	h.stamps, h.vals = h.stamps[:0], h.vals[:0]
}
