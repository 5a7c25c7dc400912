package training

import (
	"slices"
	"testing"
)

func TestAnchorTargets(t *testing.T) {
	at := func(x float32, grip float32) EpisodeStep { return EpisodeStep{EE: [3]float32{x, 0, 0}, Gripper: grip} }
	cases := []struct {
		name      string
		steps     []EpisodeStep
		k         int
		wantX     []float32 // targets' x, [steps, k]
		wantValid []float32
	}{
		{"grasp then release", []EpisodeStep{at(0, 0), at(1, 0), at(2, 1), at(3, 1), at(4, 0), at(5, 0)}, 2,
			[]float32{2, 4, 2, 4, 2, 4, 0, 4, 0, 4, 0, 0}, []float32{1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0}},
		{"never releases", []EpisodeStep{at(0, 0), at(1, 0.7), at(2, 1)}, 2,
			[]float32{1, 0, 1, 0, 0, 0}, []float32{1, 0, 1, 0, 0, 0}},
		{"never grasps", []EpisodeStep{at(0, 0), at(1, 0.2)}, 2,
			[]float32{0, 0, 0, 0}, []float32{0, 0, 0, 0}},
		{"closed from the start", []EpisodeStep{at(0, 1), at(1, 0)}, 2,
			[]float32{0, 1, 0, 1}, []float32{1, 1, 0, 1}},
		{"threshold is the contract's (0.5 closes)", []EpisodeStep{at(0, 0.49), at(1, 0.5), at(2, 0.49)}, 1,
			[]float32{1, 1, 0}, []float32{1, 1, 0}},
		{"third anchor never supervised", []EpisodeStep{at(0, 1), at(1, 0)}, 3,
			[]float32{0, 1, 0, 0, 1, 0}, []float32{1, 1, 0, 0, 1, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			targets, valid := AnchorTargets(c.steps, c.k)
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

func TestSetAnchorTargetsPerEpisode(t *testing.T) {
	steps := []EpisodeStep{{EE: [3]float32{1, 2, 3}, Gripper: 1}, {Gripper: 0}, {EE: [3]float32{7, 8, 9}, Gripper: 1}}
	samples := []*Sample{{}, {}, {}}
	if err := setAnchorTargets(samples, steps, []int{0, 0, 5}, 2); err != nil {
		t.Fatal(err)
	}
	// Episode 5 starts closed at its own step 0: its grasp is its own, not episode 0's.
	if got := samples[2].AnchorTargets; !slices.Equal(got, []float32{7, 8, 9, 0, 0, 0}) || !slices.Equal(samples[2].AnchorValid, []float32{1, 0}) {
		t.Errorf("episode 5: targets %v valid %v", got, samples[2].AnchorValid)
	}
	if got := samples[0].AnchorTargets; !slices.Equal(got, []float32{1, 2, 3, 0, 0, 0}) || !slices.Equal(samples[0].AnchorValid, []float32{1, 1}) {
		t.Errorf("episode 0 step 0: targets %v valid %v", got, samples[0].AnchorValid)
	}
	if err := setAnchorTargets(samples, steps[:2], []int{0, 0, 5}, 2); err == nil {
		t.Error("mismatched lengths accepted")
	}
}
