package timesync

import "time"

// ring is one input's storage: a fixed-capacity FIFO whose first past
// elements are the ROS "past" vector (heads already advanced over while
// searching for a better candidate) and the rest are the ROS "deque". Keeping
// both in one ring makes recovering the past an index move, with no copying
// and no allocation.
type ring[T any] struct {
	items  []T
	stamps []time.Duration // Unix nanoseconds, for cheap arithmetic
	head   int             // index of the oldest element
	n      int             // total elements (past + deque)
	past   int             // how many of the oldest elements are "past"
}

func newRing[T any](capacity int) ring[T] {
	return ring[T]{items: make([]T, capacity), stamps: make([]time.Duration, capacity)}
}

func (r *ring[T]) at(i int) int { return (r.head + i) % len(r.items) }

// dequeLen is the number of elements not yet advanced over.
func (r *ring[T]) dequeLen() int { return r.n - r.past }

// front is the stamp of the deque's first element; dequeLen must be > 0.
func (r *ring[T]) front() time.Duration { return r.stamps[r.at(r.past)] }

// frontItem is the deque's first element; dequeLen must be > 0.
func (r *ring[T]) frontItem() T { return r.items[r.at(r.past)] }

// lastPast is the stamp of the newest past element; past must be > 0.
func (r *ring[T]) lastPast() time.Duration { return r.stamps[r.at(r.past-1)] }

// back returns the stamp of element i counted from the newest (0 = newest).
func (r *ring[T]) back(i int) time.Duration { return r.stamps[r.at(r.n-1-i)] }

// push appends at the deque's back; the caller guarantees capacity.
func (r *ring[T]) push(v T, s time.Duration) {
	j := r.at(r.n)
	r.items[j], r.stamps[j] = v, s
	r.n++
}

// popOldest removes the oldest element (past first, then deque).
func (r *ring[T]) popOldest() {
	var zero T
	r.items[r.head] = zero // release references for the GC
	r.head = (r.head + 1) % len(r.items)
	r.n--
	if r.past > 0 {
		r.past--
	}
}

// clearPast discards all past elements.
func (r *ring[T]) clearPast() {
	for r.past > 0 {
		r.popOldest()
	}
}
