package timesync

import (
	"errors"
	"fmt"
	"time"
)

// Config parameterizes ApproxTimeSync with the knobs of ROS ApproximateTime.
type Config struct {
	// QueueSize is the most messages kept per input (ROS queue_size); >= 1.
	QueueSize int
	// MaxInterval is the largest allowed spread between the earliest and the
	// latest stamp of an emitted set (ROS max_interval_duration); <= 0 means
	// no limit.
	MaxInterval time.Duration
	// AgePenalty (>= 0) favours older sets: a later candidate must be better
	// by this fraction of its lateness to win (ROS age_penalty, default 0.1).
	AgePenalty float64
	// InterMessageLowerBounds optionally gives, per input, the least time
	// between two consecutive stamps (ROS setInterMessageLowerBound); it lets
	// sets be emitted earlier. Nil or zero entries mean no bound.
	InterMessageLowerBounds []time.Duration
}

// DefaultConfig returns the ROS defaults: queue 10, no interval limit, age
// penalty 0.1, no rate bounds.
func DefaultConfig() Config { return Config{QueueSize: 10, AgePenalty: 0.1} }

// Stats counts what happened to the messages fed to the synchronizer.
type Stats struct {
	Sets       uint64   // sets emitted
	Dropped    []uint64 // per input: dropped because its queue overflowed
	Discarded  []uint64 // per input: skipped because no valid set could contain them
	OutOfOrder []uint64 // per input: arrived with a stamp older than their predecessor
}

const noPivot = -1

// ApproxTimeSync matches messages from N inputs into sets with close stamps.
// It is deterministic: the emitted sets depend only on the order of Add calls
// and the stamps. It is not safe for concurrent use; callers serialize Add.
type ApproxTimeSync[T any] struct {
	cfg    Config
	stamp  func(T) time.Time
	emit   func(set []T)
	q      []ring[T]
	bounds []time.Duration

	nonEmpty       int // inputs whose deque is non-empty
	pivot          int
	pivotTime      time.Duration
	candStart      time.Duration
	candEnd        time.Duration
	candidate      []T
	hasDropped     []bool
	virtualMoves   []int
	times          []time.Duration // scratch: head or virtual stamps
	lastSeen       []time.Duration
	seen           []bool
	stats          Stats
	zeroCandidates []T
}

// New builds a synchronizer over n >= 2 inputs. stamp extracts a message's
// header stamp; emit receives every matched set, indexed like the inputs
// (the slice is reused: copy what must outlive the call).
func New[T any](n int, cfg Config, stamp func(T) time.Time, emit func(set []T)) (*ApproxTimeSync[T], error) {
	switch {
	case n < 2:
		return nil, fmt.Errorf("timesync: need at least 2 inputs, got %d", n)
	case cfg.QueueSize < 1:
		return nil, fmt.Errorf("timesync: queue size must be >= 1, got %d", cfg.QueueSize)
	case cfg.AgePenalty < 0:
		return nil, fmt.Errorf("timesync: age penalty must be >= 0, got %g", cfg.AgePenalty)
	case stamp == nil || emit == nil:
		return nil, errors.New("timesync: stamp and emit functions are required")
	case cfg.InterMessageLowerBounds != nil && len(cfg.InterMessageLowerBounds) != n:
		return nil, fmt.Errorf("timesync: %d inter-message bounds for %d inputs", len(cfg.InterMessageLowerBounds), n)
	}
	s := &ApproxTimeSync[T]{
		cfg:            cfg,
		stamp:          stamp,
		emit:           emit,
		q:              make([]ring[T], n),
		bounds:         make([]time.Duration, n),
		pivot:          noPivot,
		candidate:      make([]T, n),
		hasDropped:     make([]bool, n),
		virtualMoves:   make([]int, n),
		times:          make([]time.Duration, n),
		lastSeen:       make([]time.Duration, n),
		seen:           make([]bool, n),
		zeroCandidates: make([]T, n),
		stats: Stats{
			Dropped:    make([]uint64, n),
			Discarded:  make([]uint64, n),
			OutOfOrder: make([]uint64, n),
		},
	}
	for i := range s.q {
		// A queue transiently holds QueueSize+1 messages before the drop.
		s.q[i] = newRing[T](cfg.QueueSize + 1)
		if cfg.InterMessageLowerBounds != nil {
			if b := cfg.InterMessageLowerBounds[i]; b > 0 {
				s.bounds[i] = b
			}
		}
	}
	return s, nil
}

// Inputs is the number of synchronized inputs.
func (s *ApproxTimeSync[T]) Inputs() int { return len(s.q) }

// Stats returns a copy of the counters.
func (s *ApproxTimeSync[T]) Stats() Stats {
	return Stats{
		Sets:       s.stats.Sets,
		Dropped:    append([]uint64(nil), s.stats.Dropped...),
		Discarded:  append([]uint64(nil), s.stats.Discarded...),
		OutOfOrder: append([]uint64(nil), s.stats.OutOfOrder...),
	}
}

// StatsInto copies the counters into dst without allocating when dst's
// slices already have room (for periodic diagnostics).
func (s *ApproxTimeSync[T]) StatsInto(dst *Stats) {
	dst.Sets = s.stats.Sets
	dst.Dropped = append(dst.Dropped[:0], s.stats.Dropped...)
	dst.Discarded = append(dst.Discarded[:0], s.stats.Discarded...)
	dst.OutOfOrder = append(dst.OutOfOrder[:0], s.stats.OutOfOrder...)
}

// Reset forgets every queued message and the current candidate, keeping the
// counters (e.g. after a time jump when a bag loops).
func (s *ApproxTimeSync[T]) Reset() {
	for i := range s.q {
		for s.q[i].n > 0 {
			s.q[i].popOldest()
		}
		s.hasDropped[i] = false
		s.seen[i] = false
	}
	s.nonEmpty = 0
	s.pivot = noPivot
	copy(s.candidate, s.zeroCandidates)
}

// Add feeds one message of input i; any sets it completes are emitted
// before Add returns, oldest first.
func (s *ApproxTimeSync[T]) Add(i int, msg T) error {
	if i < 0 || i >= len(s.q) {
		return fmt.Errorf("timesync: input %d out of range [0,%d)", i, len(s.q))
	}
	// Nanoseconds since the Unix epoch: exact for stamps in 1678..2262.
	st := time.Duration(s.stamp(msg).UnixNano())
	if s.seen[i] && st < s.lastSeen[i] {
		// ROS only warns about this; the message is still used.
		s.stats.OutOfOrder[i]++
	}
	s.seen[i], s.lastSeen[i] = true, st

	q := &s.q[i]
	q.push(msg, st)
	if q.dequeLen() == 1 {
		s.nonEmpty++
		if s.nonEmpty == len(s.q) {
			s.process()
		}
	}
	if q.n > s.cfg.QueueSize {
		// Cancel any ongoing candidate search and drop the offending oldest.
		s.nonEmpty = 0
		for j := range s.q {
			s.q[j].past = 0
			if s.q[j].dequeLen() > 0 {
				s.nonEmpty++
			}
		}
		q.popOldest()
		s.stats.Dropped[i]++
		s.hasDropped[i] = true
		if s.pivot != noPivot {
			copy(s.candidate, s.zeroCandidates)
			s.pivot = noPivot
			s.process()
		}
	}
	return nil
}

// boundary returns the input whose deque head is earliest (end=false; ties
// go to the lowest index) or latest (end=true; ties go to the highest index).
func boundary(times []time.Duration, end bool) (int, time.Duration) {
	idx, t := 0, times[0]
	for i := 1; i < len(times); i++ {
		ti := times[i]
		if (ti < t) != end {
			idx, t = i, ti
		}
	}
	return idx, t
}

// virtualTime is the optimistic stamp of input i's next message: its head
// if any, else the earliest stamp the next message can carry given the rate
// bound, but never earlier than the pivot.
func (s *ApproxTimeSync[T]) virtualTime(i int) time.Duration {
	q := &s.q[i]
	if q.dequeLen() > 0 {
		return q.front()
	}
	lb := q.lastPast() + s.bounds[i]
	if lb > s.pivotTime {
		return lb
	}
	return s.pivotTime
}

// worse reports (a-candEnd)*(1+penalty) >= b-candStart: a set ending at a
// and starting at b is no better than the current candidate.
func (s *ApproxTimeSync[T]) worse(end, start time.Duration) bool {
	return float64(end-s.candEnd)*(1+s.cfg.AgePenalty) >= float64(start-s.candStart)
}

func (s *ApproxTimeSync[T]) process() {
	n := len(s.q)
	for s.nonEmpty == n {
		for i := range s.q {
			s.times[i] = s.q[i].front()
		}
		endIdx, endTime := boundary(s.times, true)
		startIdx, startTime := boundary(s.times, false)
		for i := range s.hasDropped {
			if i != endIdx {
				// No dropped message could have been better than the heads we
				// hold, so this input may be a pivot again.
				s.hasDropped[i] = false
			}
		}
		if s.pivot == noPivot {
			if s.cfg.MaxInterval > 0 && endTime-startTime > s.cfg.MaxInterval {
				s.deleteFront(startIdx)
				continue
			}
			if s.hasDropped[endIdx] {
				s.deleteFront(startIdx)
				continue
			}
			s.makeCandidate()
			s.candStart, s.candEnd = startTime, endTime
			s.pivot, s.pivotTime = endIdx, endTime
			s.moveFrontToPast(startIdx)
		} else {
			if !s.worse(endTime, startTime) {
				s.makeCandidate()
				s.candStart, s.candEnd = startTime, endTime
			}
			s.moveFrontToPast(startIdx)
		}

		switch {
		case startIdx == s.pivot:
			// Every candidate containing the pivot has been tried.
			s.publish()
		case s.worse(endTime, s.pivotTime):
			// Any later candidate spans [pivotTime, endTime], already too big.
			s.publish()
		case s.nonEmpty < n:
			s.virtualSearch()
		}
	}
}

// virtualSearch advances heads over optimistic (virtual) future stamps to
// prove the candidate optimal before more messages arrive, and undoes the
// advances when it cannot.
func (s *ApproxTimeSync[T]) virtualSearch() {
	for i := range s.virtualMoves {
		s.virtualMoves[i] = 0
	}
	for {
		for i := range s.times {
			s.times[i] = s.virtualTime(i)
		}
		_, endTime := boundary(s.times, true)
		startIdx, startTime := boundary(s.times, false)
		if s.worse(endTime, s.pivotTime) {
			s.publish()
			return
		}
		if !s.worse(endTime, startTime) {
			// An optimistic future candidate would beat ours: wait for data.
			s.nonEmpty = 0
			for i := range s.q {
				s.q[i].past -= s.virtualMoves[i]
				if s.q[i].dequeLen() > 0 {
					s.nonEmpty++
				}
			}
			return
		}
		// startIdx != pivot here: with startTime == pivotTime the two tests
		// above are complements, so one of them returned.
		s.moveFrontToPast(startIdx)
		s.virtualMoves[startIdx]++
	}
}

func (s *ApproxTimeSync[T]) deleteFront(i int) {
	s.q[i].popOldest() // past is empty when there is no pivot
	s.stats.Discarded[i]++
	if s.q[i].dequeLen() == 0 {
		s.nonEmpty--
	}
}

func (s *ApproxTimeSync[T]) moveFrontToPast(i int) {
	s.q[i].past++
	if s.q[i].dequeLen() == 0 {
		s.nonEmpty--
	}
}

func (s *ApproxTimeSync[T]) makeCandidate() {
	for i := range s.q {
		s.candidate[i] = s.q[i].frontItem()
		// A better candidate makes everything advanced over useless.
		s.stats.Discarded[i] += uint64(s.q[i].past)
		s.q[i].clearPast()
	}
}

func (s *ApproxTimeSync[T]) publish() {
	s.stats.Sets++
	s.emit(s.candidate)
	copy(s.candidate, s.zeroCandidates)
	s.pivot = noPivot
	s.nonEmpty = 0
	for i := range s.q {
		q := &s.q[i]
		q.past = 0
		q.popOldest() // the candidate's message is the oldest of each input
		if q.dequeLen() > 0 {
			s.nonEmpty++
		}
	}
}
