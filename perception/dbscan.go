package perception

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Noise is the DBSCAN label of points that belong to no cluster.
const Noise = -1

// DBSCAN is density-based clustering (Ester et al., 1996) used to denoise
// back-projected object points. A point is a core point when at least MinPts
// points (itself included) lie within Eps of it; clusters are the connected
// core points plus the border points they reach; the rest is Noise.
// Neighbour queries use a uniform grid of Eps-sized cells: points are sorted
// by cell, and each occupied cell's 26 neighbours are looked up once, so
// clustering is near-linear for the dense surfaces depth cameras produce.
// Buffers are kept between calls.
// Not safe for concurrent use.
type DBSCAN struct {
	Eps    float32
	MinPts int

	keys      []uint64 // cell key per sorted position
	order     []int32  // point index per sorted position
	cells     [][3]int32
	cellOf    []int32 // occupied-cell id of each point
	cellStart []int32 // sorted positions of occupied cell c: [cellStart[c], cellStart[c+1])
	cellNbr   []int32 // 27 occupied-cell ids (or -1) around each occupied cell
	queue     []int32
	nbr       []int32
}

const (
	cellBits = 21
	cellMax  = 1<<cellBits - 3 // leaves room for the ±1 neighbour offsets
)

// Cluster labels points [N*3] into labels[:N] (cluster ids 0..k-1 in order
// of discovery, or Noise) and returns k.
func (d *DBSCAN) Cluster(points []float32, labels []int) (int, error) {
	n := len(points) / 3
	if len(points) != 3*n || len(labels) < n {
		return 0, fmt.Errorf("%w: DBSCAN of %d values with %d labels", ErrBadShape, len(points), len(labels))
	}
	if !(d.Eps > 0) || math.IsInf(float64(d.Eps), 0) || d.MinPts < 1 {
		return 0, fmt.Errorf("%w: DBSCAN eps %v must be positive and minPts %d >= 1", ErrBadShape, d.Eps, d.MinPts)
	}
	if n == 0 {
		return 0, nil
	}
	if err := d.index(points, n); err != nil {
		return 0, err
	}
	const unvisited = -2
	labels = labels[:n]
	for i := range labels {
		labels[i] = unvisited
	}
	k := 0
	for i := range n {
		if labels[i] != unvisited {
			continue
		}
		nb := d.neighbours(points, int32(i))
		if len(nb) < d.MinPts {
			labels[i] = Noise // may still become a border point of a later cluster
			continue
		}
		labels[i] = k
		d.queue = append(d.queue[:0], nb...)
		for len(d.queue) > 0 {
			j := d.queue[len(d.queue)-1]
			d.queue = d.queue[:len(d.queue)-1]
			switch labels[j] {
			case Noise:
				labels[j] = k // border point: reached, but does not expand
				continue
			case unvisited:
			default:
				continue
			}
			labels[j] = k
			if nj := d.neighbours(points, j); len(nj) >= d.MinPts {
				d.queue = append(d.queue, nj...)
			}
		}
		k++
	}
	return k, nil
}

// index computes every point's grid cell and sorts points by cell key.
func (d *DBSCAN) index(points []float32, n int) error {
	lo := [3]float32{math.MaxFloat32, math.MaxFloat32, math.MaxFloat32}
	for i := range n {
		for a := range 3 {
			v := points[3*i+a]
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: DBSCAN point %d is not finite", ErrBadShape, i)
			}
			lo[a] = min(lo[a], v)
		}
	}
	d.cells = slices.Grow(d.cells[:0], n)[:n]
	d.order = slices.Grow(d.order[:0], n)[:n]
	d.keys = slices.Grow(d.keys[:0], n)[:n]
	inv := 1 / float64(d.Eps)
	for i := range n {
		var c [3]int32
		for a := range 3 {
			f := math.Floor(float64(points[3*i+a]-lo[a])*inv) + 1
			if f > cellMax {
				return fmt.Errorf("%w: DBSCAN extent over %d cells of eps %v", ErrBadShape, cellMax, d.Eps)
			}
			c[a] = int32(f)
		}
		d.cells[i] = c
		d.order[i] = int32(i)
	}
	slices.SortFunc(d.order, func(a, b int32) int { return cmp.Compare(cellKey(d.cells[a]), cellKey(d.cells[b])) })
	d.cellOf = slices.Grow(d.cellOf[:0], n)[:n]
	d.cellStart = d.cellStart[:0]
	for s, i := range d.order {
		d.keys[s] = cellKey(d.cells[i])
		if s == 0 || d.keys[s] != d.keys[s-1] {
			d.cellStart = append(d.cellStart, int32(s))
		}
		d.cellOf[i] = int32(len(d.cellStart) - 1)
	}
	occupied := len(d.cellStart)
	d.cellStart = append(d.cellStart, int32(n))
	d.cellNbr = slices.Grow(d.cellNbr[:0], 27*occupied)[:27*occupied]
	for c := range occupied {
		cc := d.cells[d.order[d.cellStart[c]]]
		t := 0
		for dx := int32(-1); dx <= 1; dx++ {
			for dy := int32(-1); dy <= 1; dy++ {
				for dz := int32(-1); dz <= 1; dz++ {
					key := cellKey([3]int32{cc[0] + dx, cc[1] + dy, cc[2] + dz})
					d.cellNbr[27*c+t] = -1
					if s, found := slices.BinarySearch(d.keys, key); found {
						d.cellNbr[27*c+t] = d.cellOf[d.order[s]]
					}
					t++
				}
			}
		}
	}
	return nil
}

func cellKey(c [3]int32) uint64 {
	return uint64(c[0])<<(2*cellBits) | uint64(c[1])<<cellBits | uint64(c[2])
}

// neighbours returns the points within Eps of point i (itself included), in a
// buffer reused by the next call.
func (d *DBSCAN) neighbours(points []float32, i int32) []int32 {
	eps2 := d.Eps * d.Eps
	px, py, pz := points[3*i], points[3*i+1], points[3*i+2]
	c := d.cellOf[i]
	d.nbr = d.nbr[:0]
	for _, nc := range d.cellNbr[27*c : 27*c+27] {
		if nc < 0 {
			continue
		}
		for _, j := range d.order[d.cellStart[nc]:d.cellStart[nc+1]] {
			ex, ey, ez := points[3*j]-px, points[3*j+1]-py, points[3*j+2]-pz
			if ex*ex+ey*ey+ez*ez <= eps2 {
				d.nbr = append(d.nbr, j)
			}
		}
	}
	return d.nbr
}

// LargestCluster returns the id of the cluster with the most points (the
// lowest id on ties), or Noise when there is none.
func LargestCluster(labels []int, k int) int {
	return largestCluster(labels, k, nil)
}

// largestCluster is LargestCluster counting in counts when it has room.
func largestCluster(labels []int, k int, counts []int) int {
	if k <= 0 {
		return Noise
	}
	counts = slices.Grow(counts[:0], k)[:k]
	clear(counts)
	for _, l := range labels {
		if l >= 0 && l < k {
			counts[l]++
		}
	}
	best := 0
	for c, m := range counts {
		if m > counts[best] {
			best = c
		}
	}
	if counts[best] == 0 {
		return Noise
	}
	return best
}
