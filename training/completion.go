package training

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy/model"
)

// Completion coordinate sources of a training run (the -completion flag).
const (
	// CompletionFromLabels computes the predictor's completion queries from
	// the recorded (or detected) instance masks with CompletionLabeler and
	// feeds them to the model (model.CompletionInput).
	CompletionFromLabels = "labels"
	// CompletionDerivedInGraph lets the model derive them from its own
	// instance reference points (model.CompletionDerived).
	CompletionDerivedInGraph = "derived"
)

// ResolveCompletionSource maps a completion choice (CompletionFromLabels,
// the default when empty, or CompletionDerivedInGraph) to the model's
// completion source: labels become model.CompletionInput when every sample
// carries completion coordinates, and fall back to model.CompletionDerived
// when some do not (recordings without instance labels).
func ResolveCompletionSource(choice string, data Dataset) (string, error) {
	switch choice {
	case CompletionDerivedInGraph:
		return model.CompletionDerived, nil
	case CompletionFromLabels, "":
	default:
		return "", fmt.Errorf("completion source %q: want %q or %q", choice, CompletionFromLabels, CompletionDerivedInGraph)
	}
	for i := range data.Len() {
		s, err := data.Sample(i)
		if err != nil {
			return "", fmt.Errorf("completion source: %w", err)
		}
		if s.CompletionCoords == nil {
			return model.CompletionDerived, nil
		}
	}
	return model.CompletionInput, nil
}

// CompletionLabeler generates the Coordinate-Driven 3D Self-Supervised
// Predictor's completion query coordinates of one sample from its instance
// masks: each chosen instance's mask is back-projected with depth in every
// view and merged in the base frame, then perception.CompletionTargets
// denoises (DBSCAN), completes (AxisReflection by default), keeps the
// completed points farthest from what was observed and farthest-point
// samples PerInstance queries.
//
// At most Layout.Completion/PerInstance instances are queried, the most
// occluded first. Occlusion of an instance is measured from the recorded
// labels and depth alone (the full silhouette is unknown): the mean over
// views of
//
//   - 1 in a view where it is not visible (fewer than MinPixels pixels), else
//   - the fraction of its boundary pixels whose 4-neighbour belongs to
//     another labelled object (ignored ids such as the robot included) that
//     is nearer to the camera, or lies outside the image (truncation).
//
// Boundary pixels next to background (id 0) are silhouette edges, not
// occlusion. Ties go to fewer visible pixels, then to the lower id.
type CompletionLabeler struct {
	Layout Layout
	// PerInstance is the number of queries per instance (the model's
	// CompletionPerInst, 5 in the paper).
	PerInstance int
	// Ignore lists ids that are not objects; background 0 is always ignored.
	Ignore []uint16
	// MinPixels is the visible-pixel count below which a view does not see
	// the instance.
	MinPixels int
	// Config parameterises perception.CompletionTargets (zero: defaults).
	Config perception.CompletionConfig

	targets *perception.CompletionTargets
	points  []float32
	mask    []uint8
}

// occlusion is one instance's visibility summary.
type occlusion struct {
	id     uint16
	score  float64 // mean over views, in [0, 1]; higher = more occluded
	pixels int     // visible pixels over all views
}

// Label writes the completion coordinates [Completion*3] (base frame,
// metres) and their validity [Completion] from ids [V,H,W], depth [V,H,W]
// (metres, NaN invalid) and the sample's intrinsics [V,4] and CamFromBase
// [V,12]. Slot i*PerInstance+j is query j of the i-th most occluded
// instance; unused slots are zero and invalid. It returns the number of
// instances that got at least one valid query.
func (c *CompletionLabeler) Label(ids []uint16, depth, intrinsics, camFromBase, coords, valid []float32) (int, error) {
	l := c.Layout
	w, h, v := l.ImageW, l.ImageH, l.Cameras
	if c.PerInstance < 1 || l.Completion%c.PerInstance != 0 {
		return 0, fmt.Errorf("completion labels: %d queries do not split into instances of %d", l.Completion, c.PerInstance)
	}
	if len(ids) != v*w*h || len(depth) != v*w*h || len(coords) != 3*l.Completion || len(valid) != l.Completion {
		return 0, fmt.Errorf("completion labels: sizes ids %d depth %d coords %d valid %d for %d views of %dx%d and %d queries",
			len(ids), len(depth), len(coords), len(valid), v, w, h, l.Completion)
	}
	cams, poses, err := viewGeometry(l, intrinsics, camFromBase)
	if err != nil {
		return 0, fmt.Errorf("completion labels: %w", err)
	}
	if c.targets == nil {
		if c.targets, err = perception.NewCompletionTargets(c.Config); err != nil {
			return 0, fmt.Errorf("completion labels: %w", err)
		}
	}
	clear(coords)
	clear(valid)
	ranked := c.rank(ids, depth)
	ranked = ranked[:min(len(ranked), l.Completion/c.PerInstance)]
	if cap(c.mask) < w*h {
		c.mask = make([]uint8, w*h)
	}
	mask := c.mask[:w*h]
	k := c.PerInstance
	queried := 0
	for slot, inst := range ranked {
		c.points = c.points[:0]
		best, bestN := 0, -1
		for view := range v {
			if err := perception.MaskFromLabels(ids[view*w*h:(view+1)*w*h], inst.id, mask); err != nil {
				return 0, fmt.Errorf("completion labels: %w", err)
			}
			before := len(c.points)
			if c.points, err = perception.BackprojectMask(mask, depth[view*w*h:(view+1)*w*h], cams[view], poses[view], 1, c.points); err != nil {
				return 0, fmt.Errorf("completion labels: %w", err)
			}
			if n := (len(c.points) - before) / 3; n > bestN {
				best, bestN = view, n
			}
		}
		// The camera centre in the base frame is baseFromCamera's translation.
		t := poses[best].T
		n, err := c.targets.Generate(c.points, [3]float32{float32(t[0]), float32(t[1]), float32(t[2])}, k, coords[3*slot*k:3*(slot+1)*k])
		if err != nil {
			return 0, fmt.Errorf("completion labels: instance %d: %w", inst.id, err)
		}
		for j := range n {
			valid[slot*k+j] = 1
		}
		if n > 0 {
			queried++
		}
	}
	return queried, nil
}

// rank returns the candidate instances (visible with at least MinPixels in
// some view), most occluded first.
func (c *CompletionLabeler) rank(ids []uint16, depth []float32) []occlusion {
	l := c.Layout
	w, h, v := l.ImageW, l.ImageH, l.Cameras
	type viewStat struct{ pixels, boundary, occluded int }
	stats := map[uint16][]viewStat{}
	ignoredID := func(id uint16) bool { return id == 0 || slices.Contains(c.Ignore, id) }
	for view := range v {
		vid := ids[view*w*h : (view+1)*w*h]
		vd := depth[view*w*h : (view+1)*w*h]
		for r := range h {
			for col := range w {
				i := r*w + col
				id := vid[i]
				if ignoredID(id) {
					continue
				}
				st, ok := stats[id]
				if !ok {
					st = make([]viewStat, v)
					stats[id] = st
				}
				s := &st[view]
				s.pixels++
				boundary, occluded := false, false
				for _, d := range [4][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
					rr, cc := r+d[0], col+d[1]
					if rr < 0 || rr >= h || cc < 0 || cc >= w {
						boundary, occluded = true, true
						continue
					}
					j := rr*w + cc
					if nid := vid[j]; nid != id {
						boundary = true
						// NaN depth compares false: no evidence of occlusion.
						if nid != 0 && vd[j] < vd[i] {
							occluded = true
						}
					}
				}
				if boundary {
					s.boundary++
				}
				if occluded {
					s.occluded++
				}
			}
		}
	}
	out := make([]occlusion, 0, len(stats))
	minPix := max(c.MinPixels, 1)
	for id, st := range stats {
		o := occlusion{id: id}
		seen := false
		for _, s := range st {
			o.pixels += s.pixels
			if s.pixels < minPix {
				o.score++
				continue
			}
			seen = true
			o.score += float64(s.occluded) / float64(max(s.boundary, 1))
		}
		if !seen {
			continue
		}
		o.score /= float64(v)
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b occlusion) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.pixels, b.pixels); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return out
}
