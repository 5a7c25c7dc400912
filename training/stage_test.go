package training

import "testing"

func TestStageTrains(t *testing.T) {
	cases := []struct {
		scope  string
		s1, s2 bool
	}{
		{"/base/patch_embed", true, false},
		{"/model/spatial_fusion/layer_0", true, false},
		{"/instance_module/probes", true, false},
		{"/action_expert/head", true, true},
		{"/predictor/block_1", false, true},
		{"/predictor/teacher/block_1", false, false},
		{"/teacher/spatial_fusion/layer_0", false, false},
		{"/aggregation/gate", false, true},
		{"/optimizer/m/action_expert/head", false, false},
		{"/", false, false},
		{"/something_else", false, false},
	}
	for _, c := range cases {
		if got := Stage1.Trains(c.scope); got != c.s1 {
			t.Errorf("stage 1 trains %q = %v, want %v", c.scope, got, c.s1)
		}
		if got := Stage2.Trains(c.scope); got != c.s2 {
			t.Errorf("stage 2 trains %q = %v, want %v", c.scope, got, c.s2)
		}
	}
	if _, err := ParseStage(3); err == nil {
		t.Error("ParseStage(3) accepted")
	}
}
