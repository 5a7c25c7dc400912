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
	dist    []float32
	x, y, z []float32 // structure-of-arrays copy: three sequential streams
}

// Sample writes the indices of k points of points [N*3] into dstIdx[:k],
// starting at index start. It needs 1 <= k <= N and finite coordinates.
func (s *FarthestPointSampler) Sample(points []float32, k, start int, dstIdx []int) error {
	n := len(points) / 3
	if len(points) != 3*n || k < 1 || k > n || start < 0 || start >= n || len(dstIdx) < k {
		return fmt.Errorf("%w: FPS of %d from %d points (start %d) into %d indices", ErrBadShape, k, n, start, len(dstIdx))
	}
	if cap(s.dist) < n {
		s.dist = make([]float32, n)
		s.x, s.y, s.z = make([]float32, n), make([]float32, n), make([]float32, n)
	}
	dist, xs, ys, zs := s.dist[:n], s.x[:n], s.y[:n], s.z[:n]
	for i := range n {
		x, y, z := points[3*i], points[3*i+1], points[3*i+2]
		// A NaN would never compare as nearer or farther and derail the order.
		if (x-x)+(y-y)+(z-z) != 0 { // x-x is NaN exactly for ±Inf and NaN
			return fmt.Errorf("%w: FPS point %d (%v, %v, %v) is not finite", ErrBadShape, i, x, y, z)
		}
		dist[i] = math.MaxFloat32
		xs[i], ys[i], zs[i] = x, y, z
	}
	last := start
	for j := range k {
		dstIdx[j] = last
		// Chosen points get distance -1: every later squared distance is
		// >= 0, so the running minimum keeps them at -1 and they never win
		// the arg-max again, without a branch in the loop.
		dist[last] = -1
		lx, ly, lz := xs[last], ys[last], zs[last]
		best, bestD := 0, float32(-1)
		for i := range dist {
			dx, dy, dz := xs[i]-lx, ys[i]-ly, zs[i]-lz
			d := dist[i]
			if nd := dx*dx + dy*dy + dz*dz; nd < d {
				d = nd
			}
			dist[i] = d
			if d > bestD {
				best, bestD = i, d
			}
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
