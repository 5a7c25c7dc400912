package observe

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/perception"
)

// ErrNoTransform is wrapped when tf holds no chain between two frames (at
// the requested time: ExtrapolationError matches it too).
var ErrNoTransform = errors.New("observe: no transform")

// ErrOldTFData is wrapped when a moving edge's sample is older than its
// cache window and so is dropped (tf2's TF_OLD_DATA warning).
var ErrOldTFData = errors.New("observe: tf data older than the cache")

// maxTFDepth bounds chain walks (and so catches parent loops).
const maxTFDepth = 64

type tfEdge struct {
	parent   string
	static   bool
	fixed    perception.Rigid // parent_from_child of a static edge
	cache    tfCache          // samples of a moving edge
	received time.Time        // local receive time of the newest accepted sample
}

// TFBuffer holds the tf tree (one parent per child) with tf2 BufferCore
// semantics: every moving edge keeps its stamped samples for cache_time in
// a ring buffer, static edges (/tf_static) hold at all times, and chain
// lookups are evaluated at one time, interpolating every moving edge
// between its bracketing samples. A child that changes parent restarts its
// history (tf2 keeps per-sample parents; no robot here reparents a camera).
type TFBuffer struct {
	mu     sync.Mutex
	cfg    TFConfig
	window int64 // cache_time in ns
	tol    int64 // extrapolation tolerance in ns
	edges  map[string]*tfEdge
	// Scratch chains (guarded by mu): the edges from source and from target
	// up to their common root, so one lookup walks the map once.
	srcPath, tgtPath tfPath
}

// tfPath is a chain of edges walked from a frame towards the root.
type tfPath struct {
	edges  [maxTFDepth]*tfEdge
	childs [maxTFDepth]string
	n      int
}

// NewTFBuffer returns an empty buffer with DefaultTFConfig.
func NewTFBuffer() *TFBuffer {
	b, err := NewTFBufferConfig(DefaultTFConfig())
	if err != nil {
		panic(err) // the defaults are valid; a failure is a bug here
	}
	return b
}

// NewTFBufferConfig returns an empty buffer configured by c.
func NewTFBufferConfig(c TFConfig) (*TFBuffer, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	return &TFBuffer{cfg: c, window: int64(c.CacheTime.Duration), tol: int64(c.ExtrapolationTolerance.Duration),
		edges: make(map[string]*tfEdge)}, nil
}

// stampNS is a header stamp in ns since the Unix epoch; the zero time (an
// unstamped message) is 0 rather than UnixNano's undefined value.
func stampNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Set records one edge sample (child points into parent) received at the
// local time received. Static edges replace their transform; moving edges
// insert in stamp order (late arrivals included), replacing an equal stamp.
func (b *TFBuffer) Set(e rosconv.StampedTransform, static bool, received time.Time) error {
	if e.Parent == "" || e.Child == "" || e.Parent == e.Child {
		return fmt.Errorf("observe: tf edge %q -> %q is malformed", e.Parent, e.Child)
	}
	r := e.Transform.Rotation
	rig, err := perception.RigidFromQuaternion(r[0], r[1], r[2], r[3], e.Transform.Translation)
	if err != nil {
		return fmt.Errorf("observe: tf edge %s -> %s: %w", e.Parent, e.Child, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ed, ok := b.edges[e.Child]
	if !ok {
		ed = &tfEdge{}
		b.edges[e.Child] = ed
	}
	if ed.parent != e.Parent || ed.static != static {
		ed.parent, ed.static = e.Parent, static
		ed.cache.reset()
	}
	if static {
		ed.fixed, ed.received = rig, received
		return nil
	}
	s := tfSample{stamp: stampNS(e.Stamp), t: e.Transform.Translation, q: perception.QuatFromArray(r).Normalize().Array()}
	if !ed.cache.insert(s, b.window, b.cfg.MaxSamples) {
		return fmt.Errorf("%w: %s -> %s stamped %s, newest %s, cache_time %v", ErrOldTFData, e.Parent, e.Child,
			fmtStamp(s.stamp), fmtStamp(ed.cache.newest()), b.cfg.CacheTime.Duration)
	}
	ed.received = received
	return nil
}

// Lookup returns targetFromSource at the latest time every moving edge of
// the chain has data (tf2's lookupTransform at time 0) and the oldest
// receive time of a moving edge used (zero if all static).
func (b *TFBuffer) Lookup(target, source string) (perception.Rigid, time.Time, error) {
	return b.LookupAt(target, source, time.Time{})
}

// LookupAt returns targetFromSource (maps points in source into target)
// evaluated at stamp at (the zero time: the latest common time), and the
// oldest receive time of a moving edge used (zero if all static), by which
// callers judge whether a moving edge's publisher stopped. A moving edge
// without samples within the extrapolation tolerance of at fails with an
// *ExtrapolationError. It does not allocate unless it fails.
func (b *TFBuffer) LookupAt(target, source string, at time.Time) (perception.Rigid, time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if target == source {
		return perception.Identity(), time.Time{}, nil
	}
	// Walk source up; if target is an ancestor that is the whole chain,
	// else both chains must meet at the same root.
	src, tgt := &b.srcPath, &b.tgtPath
	root, err := b.walk(source, target, src)
	if err != nil {
		return perception.Rigid{}, time.Time{}, err
	}
	tgt.n = 0
	if root != target {
		r2, err := b.walk(target, root, tgt)
		if err != nil {
			return perception.Rigid{}, time.Time{}, err
		}
		if r2 != root {
			return perception.Rigid{}, time.Time{}, fmt.Errorf("%w: %s and %s are not connected in tf", ErrNoTransform, target, source)
		}
	}
	ns := stampNS(at)
	if at.IsZero() {
		ns = min(src.latest(), tgt.latest())
		if ns == maxStamp {
			ns = 0 // all static: any time will do
		}
	}
	rootFromSrc, t1, err := b.compose(src, ns)
	if err != nil {
		return perception.Rigid{}, time.Time{}, err
	}
	if root == target {
		return rootFromSrc, t1, nil
	}
	rootFromTgt, t2, err := b.compose(tgt, ns)
	if err != nil {
		return perception.Rigid{}, time.Time{}, err
	}
	oldest := t1
	if !t2.IsZero() && (oldest.IsZero() || t2.Before(oldest)) {
		oldest = t2
	}
	return rootFromTgt.Inverse().Compose(rootFromSrc), oldest, nil
}

const maxStamp = int64(^uint64(0) >> 1)

// walk records in p the edges from frame up to stopAt or a frame without
// a parent, and returns where it stopped.
func (b *TFBuffer) walk(frame, stopAt string, p *tfPath) (string, error) {
	p.n = 0
	f := frame
	for range maxTFDepth {
		e, ok := b.edges[f]
		if f == stopAt || !ok {
			return f, nil
		}
		p.edges[p.n], p.childs[p.n] = e, f
		p.n++
		f = e.parent
	}
	return f, fmt.Errorf("%w: tf chain from %s longer than %d (loop?)", ErrNoTransform, frame, maxTFDepth)
}

// latest is the newest time every moving edge of p has data (maxStamp if
// none moves).
func (p *tfPath) latest() int64 {
	cur := maxStamp
	for _, e := range p.edges[:p.n] {
		if !e.static && e.cache.n > 0 {
			cur = min(cur, e.cache.newest())
		}
	}
	return cur
}

// compose returns endFromStart of p at ns and the oldest receive time of a
// moving edge on it.
func (b *TFBuffer) compose(p *tfPath, ns int64) (perception.Rigid, time.Time, error) {
	acc := perception.Identity()
	var oldest time.Time
	for k, e := range p.edges[:p.n] {
		if e.static {
			acc = e.fixed.Compose(acc)
			continue
		}
		s, ex := e.cache.sample(ns, b.tol)
		if ex != inRange {
			return acc, oldest, b.extrapolationError(e, p.childs[k], ns, ex)
		}
		r, err := perception.RigidFromQuaternion(s.q[0], s.q[1], s.q[2], s.q[3], s.t)
		if err != nil {
			return acc, oldest, fmt.Errorf("observe: tf edge %s -> %s: %w", e.parent, p.childs[k], err)
		}
		acc = r.Compose(acc)
		if oldest.IsZero() || e.received.Before(oldest) {
			oldest = e.received
		}
	}
	return acc, oldest, nil
}

func (b *TFBuffer) extrapolationError(e *tfEdge, child string, ns int64, ex extrapolation) error {
	if ex == noData {
		return fmt.Errorf("%w: tf edge %s -> %s has no samples", ErrNoTransform, e.parent, child)
	}
	return &ExtrapolationError{Parent: e.parent, Child: child, Requested: time.Unix(0, ns),
		Oldest: time.Unix(0, e.cache.oldest()), Newest: time.Unix(0, e.cache.newest()),
		Tolerance: b.cfg.ExtrapolationTolerance.Duration}
}

func fmtStamp(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// toTransform converts a rigid transform to the plain message type.
func toTransform(r perception.Rigid) msgs.Transform {
	return msgs.Transform{Translation: r.T, Rotation: r.Quaternion()}
}
