package sim

import (
	"context"
	"math"
	"testing"

	"github.com/vla3d/vla3d/msgs"
)

func TestCorrAndRatio(t *testing.T) {
	for _, tc := range []struct {
		a, b        []float64
		corr, ratio float64
	}{
		{[]float64{1, 2, 3}, []float64{1, 2, 3}, 1, 1},
		{[]float64{2, 4, 6}, []float64{1, 2, 3}, 1, 2},
		{[]float64{3, 2, 1}, []float64{1, 2, 3}, -1, 1},
		{[]float64{5, 5, 5}, []float64{1, 2, 3}, 0, 0},
	} {
		c, r := corrAndRatio(tc.a, tc.b)
		if math.Abs(c-tc.corr) > 1e-12 || math.Abs(r-tc.ratio) > 1e-12 {
			t.Errorf("corrAndRatio(%v, %v) = %v, %v; want %v, %v", tc.a, tc.b, c, r, tc.corr, tc.ratio)
		}
	}
}

// blind commands the same motion whatever it sees.
type blind struct{}

func (blind) Act(context.Context, *msgs.Observation) (msgs.ActionChunk, error) {
	v := make([]float32, 4*msgs.EEActionDim)
	for k := range 4 {
		v[k*msgs.EEActionDim] = 0.01
	}
	return msgs.ActionChunk{Horizon: 4, Dim: msgs.EEActionDim, Values: v}, nil
}

// The sweep tells a policy that looks (the expert itself: correlation 1,
// ratio 1) from one that does not (spread ratio 0).
func TestLayoutSweep(t *testing.T) {
	env, err := New(Config{Width: 16, Height: 16, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	spec := EpisodeSpec{Task: TaskPickPlace, Split: SplitNone}
	seeds := []uint64{100, 101, 102, 103, 104, 105}
	res, err := LayoutSweep(ctx, env, spec, seeds, ExpertFactory)
	if err != nil {
		t.Fatal(err)
	}
	for ax := range 2 {
		if math.Abs(res.Corr[ax]-1) > 1e-9 || math.Abs(res.SpreadRatio[ax]-1) > 1e-9 {
			t.Fatalf("expert vs itself: corr %v ratio %v", res.Corr, res.SpreadRatio)
		}
	}
	res, err = LayoutSweep(ctx, env, spec, seeds, func(*Env) (Controller, error) { return blind{}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.SpreadRatio != [2]float64{0, 0} || res.Horizon != 4 {
		t.Fatalf("a blind policy: ratio %v horizon %d", res.SpreadRatio, res.Horizon)
	}
}
