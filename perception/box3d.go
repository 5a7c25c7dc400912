package perception

import "math"

// AABB is an axis-aligned 3D box (metres, in one frame).
type AABB struct {
	Min, Max [3]float32
}

// AABBFromPoints returns the bounding box of points [N*3]; ok is false when
// there are no points.
func AABBFromPoints(points []float32) (box AABB, ok bool) {
	n := len(points) / 3
	if n == 0 {
		return AABB{}, false
	}
	box.Min = [3]float32{points[0], points[1], points[2]}
	box.Max = box.Min
	for i := 1; i < n; i++ {
		for a := range 3 {
			v := points[3*i+a]
			box.Min[a] = min(box.Min[a], v)
			box.Max[a] = max(box.Max[a], v)
		}
	}
	return box, true
}

// Volume is the box volume (0 when inverted along any axis).
func (b AABB) Volume() float64 {
	v := 1.0
	for a := range 3 {
		v *= float64(max(0, b.Max[a]-b.Min[a]))
	}
	return v
}

// Centroid is the box centre.
func (b AABB) Centroid() [3]float32 {
	return [3]float32{(b.Min[0] + b.Max[0]) / 2, (b.Min[1] + b.Max[1]) / 2, (b.Min[2] + b.Max[2]) / 2}
}

// IoU is the intersection over union of two boxes; 0 when the union is empty.
func (b AABB) IoU(o AABB) float64 {
	inter := 1.0
	for a := range 3 {
		inter *= float64(max(0, min(b.Max[a], o.Max[a])-max(b.Min[a], o.Min[a])))
	}
	union := b.Volume() + o.Volume() - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// PointsCentroid returns the mean of points [N*3] (accumulated in float64);
// ok is false when there are none.
func PointsCentroid(points []float32) (c [3]float32, ok bool) {
	n := len(points) / 3
	if n == 0 {
		return c, false
	}
	var s [3]float64
	for i := range n {
		for a := range 3 {
			s[a] += float64(points[3*i+a])
		}
	}
	for a := range 3 {
		c[a] = float32(s[a] / float64(n))
	}
	return c, true
}

// Distance3 is the Euclidean distance between two points.
func Distance3(a, b [3]float32) float64 {
	dx, dy, dz := float64(a[0]-b[0]), float64(a[1]-b[1]), float64(a[2]-b[2])
	return math.Sqrt(dx*dx + dy*dy + dz*dz)
}
