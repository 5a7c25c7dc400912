package timesync

import "time"

// History keeps the newest stamped values of one stream (poses, joint
// readings) in a fixed ring, so an observation can take the value stamped
// closest to its images even when it is assembled a few messages late. It
// is the one "closest stamped value" rule of vla3d: the live node, bag
// replay and training all pair streams through it. Not safe for concurrent
// use; the zero value is not usable, see NewHistory.
type History[T any] struct {
	stamps []time.Time
	vals   []T
	next   int // slot the next value goes to
	n      int
}

// NewHistory returns a history keeping the newest capacity values (>= 1).
func NewHistory[T any](capacity int) *History[T] {
	capacity = max(capacity, 1)
	return &History[T]{stamps: make([]time.Time, capacity), vals: make([]T, capacity)}
}

// Add records v stamped t. Values may arrive out of stamp order; the ring
// keeps arrival order and Closest searches all of it.
func (h *History[T]) Add(t time.Time, v T) {
	h.stamps[h.next], h.vals[h.next] = t, v
	h.next = (h.next + 1) % len(h.stamps)
	h.n = min(h.n+1, len(h.stamps))
}

// Len is the number of values held.
func (h *History[T]) Len() int { return h.n }

// Reset forgets every value.
func (h *History[T]) Reset() { h.next, h.n = 0, 0 }

// Closest returns the value stamped nearest t and its distance |stamp - t|.
// On a tie the later stamp wins, and among equal stamps the later arrival,
// so an unstamped publisher (every stamp equal) yields its newest value.
// ok is false when the history is empty.
func (h *History[T]) Closest(t time.Time) (v T, dist time.Duration, ok bool) {
	best := -1
	var bestD time.Duration
	var bestT time.Time
	for k := range h.n { // oldest arrival to newest
		i := (h.next - h.n + k + len(h.stamps)) % len(h.stamps)
		d := h.stamps[i].Sub(t).Abs()
		if best < 0 || d < bestD || (d == bestD && !h.stamps[i].Before(bestT)) {
			best, bestD, bestT = i, d, h.stamps[i]
		}
	}
	if best < 0 {
		return v, 0, false
	}
	return h.vals[best], bestD, true
}

// AtOrBefore returns the value in force at t: the latest stamped at or
// before t (among equal stamps the later arrival), e.g. the command a robot
// was executing when an image was taken. ok is false when none is that old.
func (h *History[T]) AtOrBefore(t time.Time) (v T, ok bool) {
	best := -1
	for k := range h.n { // oldest arrival to newest
		i := (h.next - h.n + k + len(h.stamps)) % len(h.stamps)
		if !h.stamps[i].After(t) && (best < 0 || !h.stamps[i].Before(h.stamps[best])) {
			best = i
		}
	}
	if best < 0 {
		return v, false
	}
	return h.vals[best], true
}

// Newest returns the latest stamp held (not the latest arrival) and its value.
func (h *History[T]) Newest() (t time.Time, v T, ok bool) {
	best := -1
	for k := range h.n {
		i := (h.next - h.n + k + len(h.stamps)) % len(h.stamps)
		if best < 0 || !h.stamps[i].Before(h.stamps[best]) {
			best = i
		}
	}
	if best < 0 {
		return t, v, false
	}
	return h.stamps[best], h.vals[best], true
}
