package sim

import (
	"strings"
	"testing"
)

func TestMJCFStaticPart(t *testing.T) {
	s, err := BuildScene(EpisodeSpec{Task: TaskPickPlace, Split: SplitNone}, 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	x := MJCF(s)
	for _, want := range []string{
		`<geom name="table" type="box" size="0.45 0.6 0.02" pos="0.5 0 -0.02" rgba="0.55 0.42 0.3 1" contype="0" conaffinity="0"/>`,
		`<geom name="table_top" type="plane" size="0.45 0.6 0.1" pos="0.5 0 0" group="3"/>`,
		`<geom name="wall_back" type="box" size="0.02 3 1.5" pos="-0.7 0 0.5" rgba="0.82 0.82 0.85 1"/>`,
		`<global offwidth="32" offheight="32"/>`,
		`autolimits="true"`,
	} {
		if !strings.Contains(x, want) {
			t.Errorf("MJCF lacks %s", want)
		}
	}
	if strings.Contains(x, "%!") {
		t.Errorf("MJCF has formatting errors:\n%s", x)
	}
}
