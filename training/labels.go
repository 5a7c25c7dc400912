package training

import (
	"fmt"
	"sort"

	"github.com/vla3d/vla3d/perception"
)

// PseudoLabeler turns per-camera instance-id images (the simulator's
// segmentation, or a detector's masks rendered to ids) and depth, both at
// model image size, into InstanceLabels: per-view normalized boxes and
// visibility, 1/4-scale masks, and a 3D centroid per instance (each view's
// mask centre unprojected at its median depth, averaged over views weighted
// by visible pixels). The largest MaxInstances instances are kept, largest
// first.
type PseudoLabeler struct {
	Layout Layout
	// Ignore lists ids that are not instances (background 0 is always
	// ignored), e.g. the robot's own links.
	Ignore []uint16
	// MinPixels is the visible-pixel count below which a view does not
	// count as seeing the instance (tiny slivers give meaningless boxes).
	MinPixels int

	mask    []uint8
	scratch []float32
}

type instStat struct {
	id     uint16
	pixels int
}

// Label fills dst (allocated with NewInstanceLabels) from ids [V,H,W],
// depth [V,H,W] (metres, NaN invalid) and the sample's intrinsics [V,4] and
// CamFromBase [V,12].
func (p *PseudoLabeler) Label(ids []uint16, depth, intrinsics, camFromBase []float32, dst *InstanceLabels) error {
	l := p.Layout
	w, h, v := l.ImageW, l.ImageH, l.Cameras
	if len(ids) != v*w*h || len(depth) != v*w*h || len(intrinsics) != v*4 || len(camFromBase) != v*12 {
		return fmt.Errorf("pseudo labels: sizes ids %d depth %d intrinsics %d extrinsics %d for %d views of %dx%d",
			len(ids), len(depth), len(intrinsics), len(camFromBase), v, w, h)
	}
	ignored := func(id uint16) bool {
		if id == 0 {
			return true
		}
		for _, x := range p.Ignore {
			if x == id {
				return true
			}
		}
		return false
	}
	counts := map[uint16]int{}
	for _, id := range ids {
		if !ignored(id) {
			counts[id]++
		}
	}
	stats := make([]instStat, 0, len(counts))
	for id, n := range counts {
		stats = append(stats, instStat{id, n})
	}
	sort.Slice(stats, func(i, j int) bool {
		if stats[i].pixels != stats[j].pixels {
			return stats[i].pixels > stats[j].pixels
		}
		return stats[i].id < stats[j].id
	})
	if len(stats) > l.MaxInstances {
		stats = stats[:l.MaxInstances]
	}

	clear(dst.Boxes)
	clear(dst.BoxValid)
	clear(dst.Masks)
	clear(dst.Centroids)
	dst.Count = 0
	if cap(p.mask) < w*h {
		p.mask = make([]uint8, w*h)
		p.scratch = make([]float32, w*h)
	}
	mask := p.mask[:w*h]
	cams, poses, err := viewGeometry(l, intrinsics, camFromBase)
	if err != nil {
		return fmt.Errorf("pseudo labels: %w", err)
	}
	mh, mw := l.MaskH, l.MaskW
	for _, st := range stats {
		g := dst.Count
		var cent [3]float64
		var weight float64
		for c := range v {
			if err := perception.MaskFromLabels(ids[c*w*h:(c+1)*w*h], st.id, mask); err != nil {
				return fmt.Errorf("pseudo labels: %w", err)
			}
			n := 0
			for _, m := range mask {
				n += int(m)
			}
			if n < max(p.MinPixels, 1) {
				continue
			}
			box, ok := perception.MaskBox(mask, w, h)
			if !ok {
				continue
			}
			b := perception.XYXYToCXCYWH([4]float32{box[0] / float32(w), box[1] / float32(h), box[2] / float32(w), box[3] / float32(h)})
			copy(dst.Boxes[(g*v+c)*4:], b[:])
			dst.BoxValid[g*v+c] = 1
			downsampleMask(mask, w, h, dst.Masks[(g*v+c)*mh*mw:(g*v+c+1)*mh*mw], mw, mh)
			ce, ok, err := perception.InstanceCentroid(mask, depth[c*w*h:(c+1)*w*h], cams[c], poses[c], p.scratch)
			if err != nil {
				return fmt.Errorf("pseudo labels: %w", err)
			}
			if ok {
				for k := range 3 {
					cent[k] += float64(n) * float64(ce[k])
				}
				weight += float64(n)
			}
		}
		if weight == 0 {
			// Seen nowhere with valid depth: no 3D target, drop the instance.
			clear(dst.Boxes[g*v*4 : (g+1)*v*4])
			clear(dst.BoxValid[g*v : (g+1)*v])
			clear(dst.Masks[g*v*mh*mw : (g+1)*v*mh*mw])
			continue
		}
		for k := range 3 {
			dst.Centroids[3*g+k] = float32(cent[k] / weight)
		}
		dst.Count++
	}
	return nil
}

// downsampleMask sets a cell of the (mw x mh) mask when at least half of the
// source pixels it covers are set (area rule: boundary cells follow the
// majority, so the mask's area is preserved on average).
func downsampleMask(src []uint8, w, h int, dst []float32, mw, mh int) {
	for y := range mh {
		y0, y1 := y*h/mh, (y+1)*h/mh
		for x := range mw {
			x0, x1 := x*w/mw, (x+1)*w/mw
			on, total := 0, 0
			for r := y0; r < y1; r++ {
				for c := x0; c < x1; c++ {
					on += int(src[r*w+c])
					total++
				}
			}
			dst[y*mw+x] = boolf(total > 0 && 2*on >= total)
		}
	}
}

// viewGeometry builds each view's pinhole camera at the layout's image size
// and its base-from-camera pose from a sample's intrinsics [V,4] and
// CamFromBase [V,12].
func viewGeometry(l Layout, intrinsics, camFromBase []float32) ([]perception.Pinhole, []perception.Rigid, error) {
	v, w, h := l.Cameras, l.ImageW, l.ImageH
	if len(intrinsics) != v*4 || len(camFromBase) != v*12 {
		return nil, nil, fmt.Errorf("view geometry: %d intrinsics and %d extrinsics values for %d views", len(intrinsics), len(camFromBase), v)
	}
	cams := make([]perception.Pinhole, v)
	poses := make([]perception.Rigid, v)
	for c := range v {
		in := intrinsics[4*c:]
		cams[c] = perception.Pinhole{Fx: float64(in[0]), Fy: float64(in[1]), Cx: float64(in[2]), Cy: float64(in[3]), Width: w, Height: h}
		var m [12]float64
		for k := range m {
			m[k] = float64(camFromBase[12*c+k])
		}
		cfb, err := perception.RigidFromMatrix3x4(m)
		if err != nil {
			return nil, nil, fmt.Errorf("camera %d extrinsics: %w", c, err)
		}
		poses[c] = cfb.Inverse()
	}
	return cams, poses, nil
}
