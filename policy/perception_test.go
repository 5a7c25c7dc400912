package policy

import "testing"

func TestConfidenceColor(t *testing.T) {
	for _, tc := range []struct {
		score   float64
		r, g, b float64
	}{
		{-1, 1, 0.4, 0.1}, // clamped
		{0, 1, 0.4, 0.1},
		{0.5, 0.5, 0.7, 0.1},
		{1, 0, 1, 0.1},
		{2, 0, 1, 0.1}, // clamped
	} {
		r, g, b := ConfidenceColor(tc.score)
		if d := max(abs(r-tc.r), abs(g-tc.g), abs(b-tc.b)); d > 1e-12 {
			t.Errorf("ConfidenceColor(%v) = %v %v %v, want %v %v %v", tc.score, r, g, b, tc.r, tc.g, tc.b)
		}
	}
}

func abs(x float64) float64 { return max(x, -x) }
