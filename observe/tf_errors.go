package observe

import (
	"errors"
	"fmt"
	"time"
)

// ErrExtrapolation is matched (errors.Is) by every *ExtrapolationError.
var ErrExtrapolation = errors.New("observe: tf extrapolation")

// ExtrapolationError is tf2's ExtrapolationException: a lookup time lies
// more than the tolerance outside a moving edge's samples. It matches
// ErrExtrapolation and ErrNoTransform (no transform at that time).
type ExtrapolationError struct {
	Parent, Child             string
	Requested, Oldest, Newest time.Time
	Tolerance                 time.Duration
}

// Future reports extrapolation beyond the newest sample (the publisher is
// late or stopped) rather than before the oldest (the cache expired).
func (e *ExtrapolationError) Future() bool { return e.Requested.After(e.Newest) }

func (e *ExtrapolationError) Error() string {
	if e.Future() {
		return fmt.Sprintf("observe: tf lookup would require extrapolation %v into the future: requested %s, newest %s -> %s data at %s (tolerance %v)",
			e.Requested.Sub(e.Newest), fmtStamp(e.Requested.UnixNano()), e.Parent, e.Child, fmtStamp(e.Newest.UnixNano()), e.Tolerance)
	}
	return fmt.Sprintf("observe: tf lookup would require extrapolation %v into the past: requested %s, oldest %s -> %s data at %s (tolerance %v)",
		e.Oldest.Sub(e.Requested), fmtStamp(e.Requested.UnixNano()), e.Parent, e.Child, fmtStamp(e.Oldest.UnixNano()), e.Tolerance)
}

// Is makes errors.Is(err, ErrExtrapolation) and errors.Is(err,
// ErrNoTransform) hold.
func (e *ExtrapolationError) Is(target error) bool {
	return target == ErrExtrapolation || target == ErrNoTransform
}

// futureGap is how far into the future err's lookup extrapolated, if err
// is a future ExtrapolationError. A function of its own so that the
// errors.As target escapes to the heap only on this error path.
func futureGap(err error) (time.Duration, bool) {
	var ee *ExtrapolationError
	if !errors.As(err, &ee) || !ee.Future() {
		return 0, false
	}
	return ee.Requested.Sub(ee.Newest), true
}
