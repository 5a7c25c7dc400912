package perception

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestHungarianHandComputed(t *testing.T) {
	tests := []struct {
		name       string
		rows, cols int
		cost       []float64
		want       []int
		total      float64
	}{
		{"3x3", 3, 3, []float64{4, 1, 3, 2, 0, 5, 3, 2, 2}, []int{1, 0, 2}, 5},
		{"2x3 wide", 2, 3, []float64{10, 1, 7, 1, 10, 7}, []int{1, 0}, 2},
		{"3x2 tall", 3, 2, []float64{5, 9, 1, 8, 7, 2}, []int{-1, 0, 1}, 3},
		{"negative", 2, 2, []float64{-1, -5, -3, -2}, []int{1, 0}, -8},
		{"empty", 0, 3, []float64{}, []int{}, 0},
	}
	var h Hungarian
	for _, tc := range tests {
		got := make([]int, tc.rows)
		total, err := h.Solve(tc.cost, tc.rows, tc.cols, got)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if total != tc.total {
			t.Errorf("%s: total %v want %v (%v)", tc.name, total, tc.total, got)
		}
		for i := range tc.want {
			if got[i] != tc.want[i] {
				t.Errorf("%s: assignment %v want %v", tc.name, got, tc.want)
				break
			}
		}
	}
	if _, err := h.Solve([]float64{1, math.NaN()}, 1, 2, make([]int, 1)); !errors.Is(err, ErrBadShape) {
		t.Fatalf("NaN err = %v", err)
	}
	if _, err := h.Solve([]float64{1, 2, 3}, 2, 2, make([]int, 2)); !errors.Is(err, ErrBadShape) {
		t.Fatalf("shape err = %v", err)
	}
}

// bruteAssign returns the optimal total by enumerating injective maps from
// the smaller side into the larger.
func bruteAssign(cost []float64, rows, cols int) float64 {
	n, m := rows, cols
	at := func(i, j int) float64 { return cost[i*cols+j] }
	if rows > cols {
		n, m = cols, rows
		at = func(i, j int) float64 { return cost[j*cols+i] }
	}
	used := make([]bool, m)
	best := math.Inf(1)
	var rec func(i int, s float64)
	rec = func(i int, s float64) {
		if i == n {
			best = min(best, s)
			return
		}
		for j := range m {
			if !used[j] {
				used[j] = true
				rec(i+1, s+at(i, j))
				used[j] = false
			}
		}
	}
	rec(0, 0)
	return best
}

// Property: optimal against brute force on random small (square and
// rectangular) matrices, with a valid injective assignment.
func TestHungarianMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	var h Hungarian
	for range 600 {
		rows, cols := 1+rng.IntN(6), 1+rng.IntN(6)
		cost := make([]float64, rows*cols)
		for i := range cost {
			if rng.IntN(3) == 0 {
				cost[i] = float64(rng.IntN(4)) // ties
			} else {
				cost[i] = rng.NormFloat64() * 10
			}
		}
		got := make([]int, rows)
		total, err := h.Solve(cost, rows, cols, got)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		sum, assigned := 0.0, 0
		for i, j := range got {
			if j < 0 {
				continue
			}
			if seen[j] || j >= cols {
				t.Fatalf("invalid assignment %v", got)
			}
			seen[j] = true
			sum += cost[i*cols+j]
			assigned++
		}
		if assigned != min(rows, cols) {
			t.Fatalf("%dx%d: %d assigned", rows, cols, assigned)
		}
		want := bruteAssign(cost, rows, cols)
		if !near(total, want, 1e-9) || !near(sum, total, 1e-9) {
			t.Fatalf("%dx%d: total %v (sum %v) want %v", rows, cols, total, sum, want)
		}
	}
}

func BenchmarkHungarian16x32(b *testing.B) {
	rng := rand.New(rand.NewPCG(31, 32))
	cost := make([]float64, 16*32)
	for i := range cost {
		cost[i] = rng.Float64()
	}
	out := make([]int, 16)
	var h Hungarian
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Solve(cost, 16, 32, out); err != nil {
			b.Fatal(err)
		}
	}
}
