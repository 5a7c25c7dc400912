package dataset

import (
	"fmt"
	"sort"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/perception"
)

// tfHistory is how many stamped transforms are kept per moving edge: enough
// to look a few control periods back when a set is finalized late.
const tfHistory = 64

type tfSample struct {
	stamp time.Time
	rigid perception.Rigid
}

type tfEdge struct {
	parent string
	static bool
	hist   []tfSample // sorted by stamp
}

// tfBuffer keeps recent transforms per child frame and looks chains up at a
// time, taking each edge's sample closest to it (a recording replays every
// stamp, so there is no need to interpolate).
type tfBuffer struct {
	edges map[string]*tfEdge
}

func newTFBuffer() *tfBuffer { return &tfBuffer{edges: map[string]*tfEdge{}} }

func (b *tfBuffer) set(e rosconv.StampedTransform, static bool) error {
	r, err := perception.RigidFromQuaternion(e.Transform.Rotation[0], e.Transform.Rotation[1],
		e.Transform.Rotation[2], e.Transform.Rotation[3], e.Transform.Translation)
	if err != nil {
		return fmt.Errorf("dataset: tf %s -> %s: %w", e.Parent, e.Child, err)
	}
	ed := b.edges[e.Child]
	if ed == nil || ed.parent != e.Parent || ed.static != static {
		ed = &tfEdge{parent: e.Parent, static: static}
		b.edges[e.Child] = ed
	}
	s := tfSample{stamp: e.Stamp, rigid: r}
	if static {
		ed.hist = append(ed.hist[:0], s)
		return nil
	}
	i := sort.Search(len(ed.hist), func(i int) bool { return ed.hist[i].stamp.After(e.Stamp) })
	ed.hist = append(ed.hist, tfSample{})
	copy(ed.hist[i+1:], ed.hist[i:])
	ed.hist[i] = s
	if len(ed.hist) > tfHistory {
		ed.hist = ed.hist[len(ed.hist)-tfHistory:]
	}
	return nil
}

func (e *tfEdge) at(t time.Time) perception.Rigid {
	if len(e.hist) == 1 {
		return e.hist[0].rigid
	}
	i := sort.Search(len(e.hist), func(i int) bool { return !e.hist[i].stamp.Before(t) })
	switch {
	case i == 0:
		return e.hist[0].rigid
	case i == len(e.hist):
		return e.hist[i-1].rigid
	}
	if t.Sub(e.hist[i-1].stamp) <= e.hist[i].stamp.Sub(t) {
		return e.hist[i-1].rigid
	}
	return e.hist[i].rigid
}

// lookup returns target-from-source at time t.
func (b *tfBuffer) lookup(target, source string, t time.Time) (msgs.Transform, error) {
	acc := perception.Identity()
	f := source
	for depth := 0; f != target; depth++ {
		e := b.edges[f]
		if e == nil || len(e.hist) == 0 || depth > 32 {
			return msgs.Transform{}, fmt.Errorf("dataset: no tf chain from %q to %q (stuck at %q)", source, target, f)
		}
		acc = e.at(t).Compose(acc)
		f = e.parent
	}
	return msgs.Transform{Translation: acc.T, Rotation: acc.Quaternion()}, nil
}
