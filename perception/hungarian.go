package perception

import (
	"fmt"
	"math"
)

// Hungarian solves the rectangular linear assignment problem: given a
// rows x cols cost matrix (row-major), it pairs every row with a distinct
// column (or, when rows > cols, every column with a distinct row) so that the
// summed cost is minimal. It is the shortest-augmenting-path form with
// potentials, O(r²c) for r = min(rows, cols). Buffers are kept between calls.
// Not safe for concurrent use.
type Hungarian struct {
	u, v, minv []float64
	p, way     []int
	used       []bool
}

// Solve writes the assigned column of each row into rowToCol[:rows] (-1 for
// rows left unassigned when rows > cols) and returns the total cost. NaN or
// infinite costs are refused: they have no meaningful optimum.
func (h *Hungarian) Solve(cost []float64, rows, cols int, rowToCol []int) (float64, error) {
	if rows < 0 || cols < 0 || len(cost) != rows*cols || len(rowToCol) < rows {
		return 0, fmt.Errorf("%w: %dx%d assignment with %d costs and %d outputs", ErrBadShape, rows, cols, len(cost), len(rowToCol))
	}
	for i, c := range cost {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return 0, fmt.Errorf("%w: cost[%d][%d] = %v is not finite", ErrBadShape, i/cols, i%cols, c)
		}
	}
	for i := range rows {
		rowToCol[i] = -1
	}
	if rows == 0 || cols == 0 {
		return 0, nil
	}
	// The algorithm needs n <= m; solve the transpose when rows > cols.
	transposed := rows > cols
	n, m := rows, cols
	at := func(i, j int) float64 { return cost[i*cols+j] }
	if transposed {
		n, m = cols, rows
		at = func(i, j int) float64 { return cost[j*cols+i] }
	}
	h.grow(n, m)
	u, v, p, way, minv, used := h.u[:n+1], h.v[:m+1], h.p[:m+1], h.way[:m+1], h.minv[:m+1], h.used[:m+1]
	clear(u)
	clear(v)
	clear(p)
	// 1-based: p[j] is the row matched to column j, column 0 is a virtual start.
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], math.Inf(1), 0
			for j := 1; j <= m; j++ {
				if used[j] {
					continue
				}
				if cur := at(i0-1, j-1) - u[i0] - v[j]; cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= m; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	total := 0.0
	for j := 1; j <= m; j++ {
		if p[j] == 0 {
			continue
		}
		r, c := p[j]-1, j-1
		if transposed {
			r, c = c, r
		}
		rowToCol[r] = c
		total += cost[r*cols+c]
	}
	return total, nil
}

func (h *Hungarian) grow(n, m int) {
	if len(h.u) < n+1 {
		h.u = make([]float64, n+1)
	}
	if len(h.v) < m+1 {
		h.v = make([]float64, m+1)
		h.minv = make([]float64, m+1)
		h.p = make([]int, m+1)
		h.way = make([]int, m+1)
		h.used = make([]bool, m+1)
	}
}
