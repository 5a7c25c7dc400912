package training

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/vla3d/vla3d/perception"
)

// DetectorView is one camera view handed to a Detector, at model image size.
type DetectorView struct {
	// Image is RGB [3,H,W] in [0,1] (one view of policy.Input.Images).
	Image         []float32
	Width, Height int
	// Labels are the recorded instance ids [H*W]; nil when the recording has
	// none.
	Labels []uint16
}

// Detection is one instance found in one view.
type Detection struct {
	Box   [4]float32 // normalized x1, y1, x2, y2
	Score float32
	Mask  []uint8 // [H*W] at the view's (label) scale, 1 inside
	// ID identifies the instance across views when the detector knows it
	// (recorded labels); 0 means unknown, and views are then associated by
	// the detections' 3D centroids (DetectionAssembler).
	ID uint16
}

// Detector produces the pseudo labels' 2D instances (boxes, masks, scores)
// of one view: the frozen detector of the paper's Object-Centric 3D
// Instance Module supervision. Implementations: RecordedLabels (the
// recording's instance-id images, e.g. the simulator's segmentation) and
// ONNXDetector (a model loaded by path through ONNX Runtime).
type Detector interface {
	Detect(ctx context.Context, view DetectorView) ([]Detection, error)
}

// RecordedLabels is the Detector reading the recording's instance-id
// images: one detection per id with at least MinPixels pixels, score 1,
// tight box, exact mask, and the id itself as cross-view identity.
type RecordedLabels struct {
	// Ignore lists ids that are not objects (background 0 is always ignored).
	Ignore    []uint16
	MinPixels int
}

// Detect implements Detector.
func (r RecordedLabels) Detect(ctx context.Context, v DetectorView) ([]Detection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := v.Width * v.Height
	if v.Labels == nil {
		return nil, nil
	}
	if len(v.Labels) != n {
		return nil, fmt.Errorf("recorded labels: %d ids for a %dx%d view", len(v.Labels), v.Width, v.Height)
	}
	counts := map[uint16]int{}
	for _, id := range v.Labels {
		if id != 0 && !slices.Contains(r.Ignore, id) {
			counts[id]++
		}
	}
	ids := make([]uint16, 0, len(counts))
	for id, c := range counts {
		if c >= max(r.MinPixels, 1) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]Detection, 0, len(ids))
	for _, id := range ids {
		d := Detection{Score: 1, ID: id, Mask: make([]uint8, n)}
		if err := perception.MaskFromLabels(v.Labels, id, d.Mask); err != nil {
			return nil, fmt.Errorf("recorded labels: %w", err)
		}
		b, _ := perception.MaskBox(d.Mask, v.Width, v.Height)
		d.Box = [4]float32{b[0] / float32(v.Width), b[1] / float32(v.Height), b[2] / float32(v.Width), b[3] / float32(v.Height)}
		out = append(out, d)
	}
	return out, nil
}

// DetectionAssembler turns per-view detections into the instance-id images
// the PseudoLabeler and CompletionLabeler read. Detections with an ID keep
// it. The others are associated across views in 3D, as the instance
// module's pseudo targets are: each one's centroid is its mask centre
// unprojected with depth (perception.InstanceCentroid, the same as for
// recorded labels); taken by descending score, a detection joins the
// nearest instance within Radius that has no detection in its view yet, or
// starts a new one. Overlapping masks in a view go to the higher score.
type DetectionAssembler struct {
	Layout Layout
	// Radius is the association distance in metres (0 = 0.05, about one
	// tabletop object's radius).
	Radius float64
	// Reserved ids are never given to associated instances (the labelers'
	// ignore list, e.g. the robot's id).
	Reserved []uint16

	scratch []float32
}

type assembled struct {
	id    uint16
	sum   [3]float64
	n     int
	views []bool
}

// IDs writes instance ids [V,H,W] into ids from dets (one slice per view),
// depth [V,H,W] and the sample's intrinsics [V,4] and CamFromBase [V,12].
func (a *DetectionAssembler) IDs(dets [][]Detection, depth, intrinsics, camFromBase []float32, ids []uint16) error {
	l := a.Layout
	w, h, v := l.ImageW, l.ImageH, l.Cameras
	if len(dets) != v || len(depth) != v*w*h || len(ids) != v*w*h {
		return fmt.Errorf("assemble detections: %d views of detections, depth %d, ids %d for %d views of %dx%d", len(dets), len(depth), len(ids), v, w, h)
	}
	cams, poses, err := viewGeometry(l, intrinsics, camFromBase)
	if err != nil {
		return fmt.Errorf("assemble detections: %w", err)
	}
	radius := a.Radius
	if radius == 0 {
		radius = 0.05
	}
	if len(a.scratch) < w*h {
		a.scratch = make([]float32, w*h)
	}
	type ref struct{ view, k int }
	var refs []ref
	next := uint16(1)
	for view, ds := range dets {
		for k, d := range ds {
			if len(d.Mask) != w*h {
				return fmt.Errorf("assemble detections: view %d detection %d has a mask of %d pixels, want %d", view, k, len(d.Mask), w*h)
			}
			next = max(next, d.ID+1)
			refs = append(refs, ref{view, k})
		}
	}
	slices.SortStableFunc(refs, func(x, y ref) int { return cmp.Compare(dets[y.view][y.k].Score, dets[x.view][x.k].Score) })
	assigned := make([][]uint16, v)
	for view, ds := range dets {
		assigned[view] = make([]uint16, len(ds))
	}
	var insts []*assembled
	for _, r := range refs {
		d := dets[r.view][r.k]
		if d.ID != 0 {
			assigned[r.view][r.k] = d.ID
			continue
		}
		c, ok, err := perception.InstanceCentroid(d.Mask, depth[r.view*w*h:(r.view+1)*w*h], cams[r.view], poses[r.view], a.scratch)
		if err != nil {
			return fmt.Errorf("assemble detections: %w", err)
		}
		var best *assembled
		bestD := radius
		if ok {
			for _, in := range insts {
				if in.views[r.view] || in.n == 0 {
					continue
				}
				m := [3]float64{in.sum[0] / float64(in.n), in.sum[1] / float64(in.n), in.sum[2] / float64(in.n)}
				if dd := distF(m, c[:]); dd <= bestD {
					best, bestD = in, dd
				}
			}
		}
		if best == nil {
			for slices.Contains(a.Reserved, next) && next < math.MaxUint16 {
				next++
			}
			if next == math.MaxUint16 {
				return fmt.Errorf("assemble detections: more than %d instances", math.MaxUint16-1)
			}
			best = &assembled{id: next, views: make([]bool, v)}
			next++
			insts = append(insts, best)
		}
		best.views[r.view] = true
		if ok {
			for k := range 3 {
				best.sum[k] += float64(c[k])
			}
			best.n++
		}
		assigned[r.view][r.k] = best.id
	}
	clear(ids)
	for view, ds := range dets {
		// Paint lowest score first so the most confident mask wins overlaps.
		order := make([]int, len(ds))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(ds[x].Score, ds[y].Score) })
		dst := ids[view*w*h : (view+1)*w*h]
		for _, k := range order {
			for i, m := range ds[k].Mask {
				if m != 0 {
					dst[i] = assigned[view][k]
				}
			}
		}
	}
	return nil
}

func distF(a [3]float64, b []float32) float64 {
	return math.Sqrt(sq(a[0]-float64(b[0])) + sq(a[1]-float64(b[1])) + sq(a[2]-float64(b[2])))
}

func sq(x float64) float64 { return x * x }
