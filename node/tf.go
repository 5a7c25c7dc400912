package node

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/perception"
)

// ErrNoTransform is wrapped when tf holds no chain between two frames.
var ErrNoTransform = errors.New("node: no transform")

// maxTFDepth bounds chain walks (and so catches parent loops).
const maxTFDepth = 64

type tfEdge struct {
	parent        string
	parentFromChd perception.Rigid
	stamp         time.Time
	received      time.Time
	static        bool
}

// TFBuffer keeps the latest transform of every tf edge (a tree: one parent
// per child) and answers chain lookups. Camera mounts are static or slow, so
// the latest edge is used rather than interpolating in time; Lookup reports
// the oldest receive time along the chain so callers can judge staleness of
// dynamic edges.
type TFBuffer struct {
	mu    sync.Mutex
	edges map[string]*tfEdge
}

// NewTFBuffer returns an empty buffer.
func NewTFBuffer() *TFBuffer { return &TFBuffer{edges: make(map[string]*tfEdge)} }

// Set records one edge (child points into parent).
func (b *TFBuffer) Set(e rosconv.StampedTransform, static bool, received time.Time) error {
	if e.Parent == "" || e.Child == "" || e.Parent == e.Child {
		return fmt.Errorf("node: tf edge %q -> %q is malformed", e.Parent, e.Child)
	}
	r := e.Transform.Rotation
	rig, err := perception.RigidFromQuaternion(r[0], r[1], r[2], r[3], e.Transform.Translation)
	if err != nil {
		return fmt.Errorf("node: tf edge %s -> %s: %w", e.Parent, e.Child, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ed, ok := b.edges[e.Child]
	if !ok {
		ed = &tfEdge{}
		b.edges[e.Child] = ed
	}
	ed.parent, ed.parentFromChd, ed.stamp, ed.received, ed.static = e.Parent, rig, e.Stamp, received, static
	return nil
}

// chain returns rootFromFrame for the root reached by walking frame's
// parents, the root's name, the number of steps and the oldest dynamic
// receive time (zero when all edges are static).
func (b *TFBuffer) chain(frame string, stopAt string) (perception.Rigid, string, time.Time, error) {
	acc := perception.Identity()
	var oldest time.Time
	f := frame
	for range maxTFDepth {
		if f == stopAt {
			return acc, f, oldest, nil
		}
		e, ok := b.edges[f]
		if !ok {
			return acc, f, oldest, nil
		}
		acc = e.parentFromChd.Compose(acc)
		if !e.static && (oldest.IsZero() || e.received.Before(oldest)) {
			oldest = e.received
		}
		f = e.parent
	}
	return acc, f, oldest, fmt.Errorf("%w: tf chain from %s longer than %d (loop?)", ErrNoTransform, frame, maxTFDepth)
}

// Lookup returns targetFromSource (maps points in source into target) and
// the oldest receive time of a dynamic edge used (zero if all static).
func (b *TFBuffer) Lookup(target, source string) (perception.Rigid, time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if target == source {
		return perception.Identity(), time.Time{}, nil
	}
	// Walk source up; if target is an ancestor we are done.
	rootFromSrc, root, t1, err := b.chain(source, target)
	if err != nil {
		return perception.Rigid{}, time.Time{}, err
	}
	if root == target {
		return rootFromSrc, t1, nil
	}
	rootFromTgt, root2, t2, err := b.chain(target, root)
	if err != nil {
		return perception.Rigid{}, time.Time{}, err
	}
	if root2 != root {
		return perception.Rigid{}, time.Time{}, fmt.Errorf("%w: %s and %s are not connected in tf", ErrNoTransform, target, source)
	}
	oldest := t1
	if !t2.IsZero() && (oldest.IsZero() || t2.Before(oldest)) {
		oldest = t2
	}
	return rootFromTgt.Inverse().Compose(rootFromSrc), oldest, nil
}

// toTransform converts a rigid transform to the plain message type.
func toTransform(r perception.Rigid) msgs.Transform {
	return msgs.Transform{Translation: r.T, Rotation: r.Quaternion()}
}
