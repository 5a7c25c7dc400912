package training

import (
	"math"
	"slices"
	"testing"
)

func TestAnchorTargets(t *testing.T) {
	at := func(x float32, grip float32) EpisodeStep { return EpisodeStep{EE: [3]float32{x, 0, 0}, Gripper: grip} }
	up := func(x float32, grip float32) EpisodeStep {
		return EpisodeStep{EE: [3]float32{x, 0, 0.1}, Gripper: grip}
	}
	cases := []struct {
		name      string
		steps     []EpisodeStep
		k         int
		wantX     []float32 // targets' x, [steps, k]
		wantValid []float32
	}{
		{"grasp, carry, release", []EpisodeStep{at(0, 0), at(1, 0), at(2, 1), up(3, 1), up(4, 0), at(5, 0)}, 2,
			[]float32{2, 4, 2, 4, 2, 4, 0, 4, 0, 4, 0, 0}, []float32{1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0}},
		{"opened without a lift: no release", []EpisodeStep{at(0, 0), at(1, 1), at(2, 1), at(3, 0)}, 2,
			[]float32{1, 0, 1, 0, 0, 0, 0, 0}, []float32{1, 0, 1, 0, 0, 0, 0, 0}},
		{"a missed grasp, then a carry", []EpisodeStep{at(0, 0), at(1, 1), at(2, 0), at(3, 1), up(4, 1), up(5, 0)}, 2,
			[]float32{3, 5, 3, 5, 3, 5, 3, 5, 0, 5, 0, 5}, []float32{1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1}},
		{"never releases", []EpisodeStep{at(0, 0), at(1, 0.7), at(2, 1)}, 2,
			[]float32{1, 0, 1, 0, 0, 0}, []float32{1, 0, 1, 0, 0, 0}},
		{"never grasps", []EpisodeStep{at(0, 0), at(1, 0.2)}, 2,
			[]float32{0, 0, 0, 0}, []float32{0, 0, 0, 0}},
		{"closed from the start", []EpisodeStep{at(0, 1), up(1, 1), at(2, 0)}, 2,
			[]float32{0, 2, 0, 2, 0, 2}, []float32{1, 1, 0, 1, 0, 1}},
		{"threshold is the contract's (0.5 closes)", []EpisodeStep{at(0, 0.49), at(1, 0.5), at(2, 0.49)}, 1,
			[]float32{1, 1, 0}, []float32{1, 1, 0}},
		{"third anchor never supervised", []EpisodeStep{at(0, 1), up(1, 0)}, 3,
			[]float32{0, 0, 0, 0, 0, 0}, []float32{1, 0, 0, 0, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			targets, valid, turns := AnchorTargets(c.steps, c.k)
			if len(turns) != 2*len(valid) {
				t.Fatalf("%d turns for %d anchors", len(turns), len(valid))
			}
			x := make([]float32, len(valid))
			for i := range x {
				x[i] = targets[3*i]
			}
			if !slices.Equal(x, c.wantX) || !slices.Equal(valid, c.wantValid) {
				t.Errorf("targets x %v valid %v, want %v %v", x, valid, c.wantX, c.wantValid)
			}
		})
	}
}

// TestAnchorTurns: the turn target is (cos 4d, sin 4d) of the yaw from the
// step to its keyframe, so turns that differ by 90 degrees (a box's
// symmetry) are the same target.
func TestAnchorTurns(t *testing.T) {
	steps := []EpisodeStep{{Yaw: 0.3}, {Yaw: 0.3 - math.Pi/2}, {Yaw: 0.1, Gripper: 1}, {Yaw: 0.1}}
	_, valid, turns := AnchorTargets(steps, 2)
	for i, want := range []float64{-0.2, -0.2 + math.Pi/2, 0} {
		c, s := turns[i*4], turns[i*4+1]
		if math.Abs(float64(c)-math.Cos(4*want)) > 1e-6 || math.Abs(float64(s)-math.Sin(4*want)) > 1e-6 || valid[i*2] != 1 {
			t.Errorf("step %d: turn (%v, %v), want angle %v", i, c, s, want)
		}
	}
	if math.Abs(float64(turns[0]-turns[4])) > 1e-6 || math.Abs(float64(turns[1]-turns[5])) > 1e-6 {
		t.Errorf("a 90-degree apart start gives another turn target: %v vs %v", turns[0:2], turns[4:6])
	}
	if valid[3*2] != 0 {
		t.Error("grasp anchor supervised after the grasp")
	}
}

func TestSetAnchorTargetsPerEpisode(t *testing.T) {
	steps := []EpisodeStep{{EE: [3]float32{1, 2, 3}, Gripper: 1}, {EE: [3]float32{1, 2, 4}, Gripper: 0}, {EE: [3]float32{7, 8, 9}, Gripper: 1}}
	samples := []*Sample{{}, {}, {}}
	if err := setAnchorTargets(samples, steps, []int{0, 0, 5}, 2); err != nil {
		t.Fatal(err)
	}
	// Episode 5 starts closed at its own step 0: its grasp is its own, not episode 0's.
	if got := samples[2].AnchorTargets; !slices.Equal(got, []float32{7, 8, 9, 0, 0, 0}) || !slices.Equal(samples[2].AnchorValid, []float32{1, 0}) {
		t.Errorf("episode 5: targets %v valid %v", got, samples[2].AnchorValid)
	}
	if got := samples[0].AnchorTargets; !slices.Equal(got, []float32{1, 2, 3, 0, 0, 0}) || !slices.Equal(samples[0].AnchorValid, []float32{1, 0}) {
		t.Errorf("episode 0 step 0: targets %v valid %v", got, samples[0].AnchorValid)
	}
	if err := setAnchorTargets(samples, steps[:2], []int{0, 0, 5}, 2); err == nil {
		t.Error("mismatched lengths accepted")
	}
}
