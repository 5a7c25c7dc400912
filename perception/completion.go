package perception

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// ShapeCompleter hypothesises the unobserved surface of one object; it is
// the pluggable step of completion-target generation (a learned completion
// network can replace the geometric default).
type ShapeCompleter interface {
	// Complete appends to dst candidate points [M*3] of the object's full
	// surface, given its observed points [N*3] and the viewpoint (camera
	// centre), both in the base frame, and returns the extended slice.
	Complete(observed []float32, viewpoint [3]float32, dst []float32) []float32
}

// AxisReflection is the default geometric completion: tabletop objects
// (cans, cups, boxes, fruit) are roughly symmetric under a half turn about
// their vertical axis, so rotating the visible surface by 180° about that
// axis predicts the hidden back.
//
// The axis is not at the centroid of the observed points: those lie on the
// camera-facing side. It is placed behind that centroid, along the
// horizontal viewing direction, by DepthFactor times the object's observed
// half-width across the view — π/4 by default, the exact offset of the
// visible half of a cylinder's surface (mean of √(R²-x²) over x ∈ [-R, R]).
// When the camera looks straight down there is no horizontal direction and
// the axis passes through the centroid.
type AxisReflection struct {
	// Up is the vertical direction in the base frame (zero = +z, REP 103).
	Up [3]float64
	// DepthFactor scales the axis offset behind the visible centroid
	// (0 = π/4).
	DepthFactor float64
}

// Complete implements ShapeCompleter.
func (a AxisReflection) Complete(observed []float32, viewpoint [3]float32, dst []float32) []float32 {
	n := len(observed) / 3
	c, ok := PointsCentroid(observed)
	if !ok {
		return dst
	}
	up := a.Up
	if up == ([3]float64{}) {
		up = [3]float64{0, 0, 1}
	}
	up = normalize3(up)
	factor := a.DepthFactor
	if factor == 0 {
		factor = math.Pi / 4
	}
	centre := [3]float64{float64(c[0]), float64(c[1]), float64(c[2])}
	view := [3]float64{centre[0] - float64(viewpoint[0]), centre[1] - float64(viewpoint[1]), centre[2] - float64(viewpoint[2])}
	vu := dot3(view, up)
	horiz := [3]float64{view[0] - vu*up[0], view[1] - vu*up[1], view[2] - vu*up[2]}
	axis := centre
	if hn := math.Sqrt(dot3(horiz, horiz)); hn > 1e-9 {
		h := [3]float64{horiz[0] / hn, horiz[1] / hn, horiz[2] / hn}
		lat := cross3(up, h)
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range n {
			q := [3]float64{float64(observed[3*i]) - centre[0], float64(observed[3*i+1]) - centre[1], float64(observed[3*i+2]) - centre[2]}
			s := dot3(q, lat)
			lo, hi = min(lo, s), max(hi, s)
		}
		off := factor * (hi - lo) / 2
		axis = [3]float64{centre[0] + off*h[0], centre[1] + off*h[1], centre[2] + off*h[2]}
	}
	// Half turn about the vertical line through axis: keep the vertical
	// component of p - axis, negate the horizontal one.
	for i := range n {
		q := [3]float64{float64(observed[3*i]) - axis[0], float64(observed[3*i+1]) - axis[1], float64(observed[3*i+2]) - axis[2]}
		qu := dot3(q, up)
		dst = append(dst,
			float32(axis[0]+2*qu*up[0]-q[0]),
			float32(axis[1]+2*qu*up[1]-q[1]),
			float32(axis[2]+2*qu*up[2]-q[2]))
	}
	return dst
}

func dot3(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

func cross3(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func normalize3(a [3]float64) [3]float64 {
	n := math.Sqrt(dot3(a, a))
	return [3]float64{a[0] / n, a[1] / n, a[2] / n}
}

// CompletionConfig parameterises completion-target generation; zero fields
// take the defaults noted.
type CompletionConfig struct {
	// Eps and MinPts configure the DBSCAN denoising (0.02 m, 5 points).
	Eps    float32
	MinPts int
	// MaxPoints caps the observed points used, by deterministic stride
	// subsampling that keeps density proportional (1024).
	MaxPoints int
	// KeepFraction is the fraction of completed points, farthest from any
	// observed point, kept as occluded candidates (0.5).
	KeepFraction float64
	// Completer hypothesises the full shape (AxisReflection{}).
	Completer ShapeCompleter
}

// CompletionTargets generates the predictor's completion query coordinates
// for one object: back-projected mask points (BackprojectMask, possibly from
// several views) are denoised with DBSCAN (largest cluster kept), completed
// by the ShapeCompleter, reduced to the completed points farthest from what
// was observed (the occluded part), then farthest-point-sampled to k
// queries. It keeps its buffers between calls. Not safe for concurrent use.
type CompletionTargets struct {
	cfg    CompletionConfig
	dbscan DBSCAN
	fps    FarthestPointSampler

	sub, obj, comp, kept []float32
	labels, order, idx   []int
	counts               []int
	dist                 []float32
}

// NewCompletionTargets returns a generator with cfg's zero fields defaulted.
func NewCompletionTargets(cfg CompletionConfig) (*CompletionTargets, error) {
	if cfg.Eps == 0 {
		cfg.Eps = 0.02
	}
	if cfg.MinPts == 0 {
		cfg.MinPts = 5
	}
	if cfg.MaxPoints == 0 {
		cfg.MaxPoints = 1024
	}
	if cfg.KeepFraction == 0 {
		cfg.KeepFraction = 0.5
	}
	if cfg.Completer == nil {
		cfg.Completer = AxisReflection{}
	}
	if !(cfg.Eps > 0) || cfg.MinPts < 1 || cfg.MaxPoints < 1 || !(cfg.KeepFraction > 0 && cfg.KeepFraction <= 1) {
		return nil, fmt.Errorf("%w: completion config %+v", ErrBadShape, cfg)
	}
	return &CompletionTargets{cfg: cfg, dbscan: DBSCAN{Eps: cfg.Eps, MinPts: cfg.MinPts}}, nil
}

// Generate writes up to k query coordinates [k*3] (base frame) for the object
// whose observed points [N*3] were seen from viewpoint (the camera centre in
// the base frame, i.e. baseFromCamera.T; with several views, the one that saw
// the most points) into dst, and returns how many it wrote: fewer than k when the object
// has too few points, 0 when nothing survives denoising.
func (g *CompletionTargets) Generate(observed []float32, viewpoint [3]float32, k int, dst []float32) (int, error) {
	n := len(observed) / 3
	if len(observed) != 3*n || k < 1 || len(dst) < 3*k {
		return 0, fmt.Errorf("%w: completion of %d values to %d queries into %d", ErrBadShape, len(observed), k, len(dst))
	}
	if n == 0 {
		return 0, nil
	}
	// Deterministic stride subsampling bounds every O(n²) step below.
	stride := (n + g.cfg.MaxPoints - 1) / g.cfg.MaxPoints
	g.sub = g.sub[:0]
	for i := 0; i < n; i += stride {
		g.sub = append(g.sub, observed[3*i:3*i+3]...)
	}
	m := len(g.sub) / 3
	g.labels = slices.Grow(g.labels[:0], m)[:m]
	clusters, err := g.dbscan.Cluster(g.sub, g.labels)
	if err != nil {
		return 0, fmt.Errorf("completion denoising: %w", err)
	}
	g.counts = slices.Grow(g.counts[:0], clusters)
	best := largestCluster(g.labels, clusters, g.counts)
	if best == Noise {
		return 0, nil
	}
	g.obj = g.obj[:0]
	for i, l := range g.labels {
		if l == best {
			g.obj = append(g.obj, g.sub[3*i:3*i+3]...)
		}
	}
	g.comp = g.cfg.Completer.Complete(g.obj, viewpoint, g.comp[:0])
	mc := len(g.comp) / 3
	if mc == 0 {
		return 0, nil
	}
	// Distance from each completed point to the nearest observed point.
	g.dist = slices.Grow(g.dist[:0], mc)[:mc]
	for i := range mc {
		px, py, pz := g.comp[3*i], g.comp[3*i+1], g.comp[3*i+2]
		d := float32(math.MaxFloat32)
		for j := 0; j < len(g.obj); j += 3 {
			dx, dy, dz := g.obj[j]-px, g.obj[j+1]-py, g.obj[j+2]-pz
			d = min(d, dx*dx+dy*dy+dz*dz)
		}
		g.dist[i] = d
	}
	g.order = slices.Grow(g.order[:0], mc)[:mc]
	for i := range g.order {
		g.order[i] = i
	}
	slices.SortFunc(g.order, func(a, b int) int {
		if c := cmp.Compare(g.dist[b], g.dist[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	keep := max(1, int(math.Ceil(g.cfg.KeepFraction*float64(mc))))
	g.kept = g.kept[:0]
	for _, i := range g.order[:keep] {
		g.kept = append(g.kept, g.comp[3*i:3*i+3]...)
	}
	// FPS from the most occluded point spreads the queries over the hidden part.
	q := min(k, keep)
	g.idx = slices.Grow(g.idx[:0], q)[:q]
	if err := g.fps.Sample(g.kept, q, 0, g.idx); err != nil {
		return 0, fmt.Errorf("completion sampling: %w", err)
	}
	if err := GatherPoints(g.kept, g.idx, dst); err != nil {
		return 0, err
	}
	return q, nil
}
