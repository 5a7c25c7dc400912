package perception

import (
	"fmt"
	"math"
)

// FarthestPointSampler selects k well-spread points: starting from a given
// index, it repeatedly takes the point farthest from those already chosen
// (ties go to the lowest index, so results are deterministic). The chosen set
// is a 2-approximation of the optimal k-centre covering. It keeps its distance
// buffer between calls, so steady-state sampling allocates nothing. Not safe
// for concurrent use.
type FarthestPointSampler struct {
	dist []float32
}

// Sample writes the indices of k points of points [N*3] into dstIdx[:k],
// starting at index start. It needs 1 <= k <= N.
func (s *FarthestPointSampler) Sample(points []float32, k, start int, dstIdx []int) error {
	n := len(points) / 3
	if len(points) != 3*n || k < 1 || k > n || start < 0 || start >= n || len(dstIdx) < k {
		return fmt.Errorf("%w: FPS of %d from %d points (start %d) into %d indices", ErrBadShape, k, n, start, len(dstIdx))
	}
	if cap(s.dist) < n {
		s.dist = make([]float32, n)
	}
	dist := s.dist[:n]
	for i := range dist {
		dist[i] = math.MaxFloat32
	}
	last := start
	for j := range k {
		dstIdx[j] = last
		dist[last] = -1 // chosen: never the farthest again
		lx, ly, lz := points[3*last], points[3*last+1], points[3*last+2]
		best, bestD := -1, float32(-1)
		for i, d := range dist {
			if d < 0 {
				continue
			}
			dx, dy, dz := points[3*i]-lx, points[3*i+1]-ly, points[3*i+2]-lz
			if nd := dx*dx + dy*dy + dz*dz; nd < d {
				d = nd
				dist[i] = d
			}
			if d > bestD {
				best, bestD = i, d
			}
		}
		if best < 0 {
			break // only reachable when k == n and every point is chosen
		}
		last = best
	}
	return nil
}

// GatherPoints copies points[idx[j]] (3 values each) into dst[3j:3j+3].
func GatherPoints(points []float32, idx []int, dst []float32) error {
	if len(dst) < 3*len(idx) {
		return fmt.Errorf("%w: gather %d points into %d values", ErrBadShape, len(idx), len(dst))
	}
	n := len(points) / 3
	for j, i := range idx {
		if i < 0 || i >= n {
			return fmt.Errorf("%w: index %d outside %d points", ErrBadShape, i, n)
		}
		copy(dst[3*j:3*j+3], points[3*i:3*i+3])
	}
	return nil
}
