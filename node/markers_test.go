package node

import (
	"math"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/visualization_msgs"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
)

func TestBuildMarkers(t *testing.T) {
	nan := float32(math.NaN())
	p := &policy.Perception{
		Points:     []float32{0.5, 0, 0.02, 0.4, 0.1, 0.03, nan, 0, 0},
		Scores:     []float32{0.9, 0.2, 0.95},
		Completion: []float32{0.5, 0.01, 0.02, nan, 1, 1, 0.51, 0, 0.03},
		Anchors:    []float32{0.45, 0.1, 0.02, nan, 0, 0},
	}
	plan := []msgs.Pose{{Position: [3]float64{0.3, 0, 0.3}}, {Position: [3]float64{0.31, 0, 0.29}}}
	cfg := DefaultMarkersConfig()
	stamp := time.Unix(7, 0)
	var a visualization_msgs.MarkerArray
	BuildMarkers(&a, p, plan, "base_link", stamp, cfg)
	byKey := map[string]visualization_msgs.Marker{}
	for _, m := range a.Markers {
		if m.Header.FrameId != "base_link" || !m.Header.Stamp.Equal(stamp) || m.Lifetime != time.Second {
			t.Fatalf("marker %s/%d header %+v lifetime %v", m.Ns, m.Id, m.Header, m.Lifetime)
		}
		byKey[m.Ns+"/"+string(rune('0'+m.Id))] = m
	}
	for _, tc := range []struct {
		key    string
		action uint8
	}{
		{MarkerNSInstances + "/0", visualization_msgs.Marker_ADD},    // confident
		{MarkerNSInstances + "/1", visualization_msgs.Marker_DELETE}, // below min_confidence
		{MarkerNSInstances + "/2", visualization_msgs.Marker_DELETE}, // non-finite point
		{MarkerNSLabels + "/0", visualization_msgs.Marker_ADD},
		{MarkerNSLabels + "/1", visualization_msgs.Marker_DELETE},
		{MarkerNSAnchors + "/0", visualization_msgs.Marker_ADD}, // the non-finite anchor 1 is left out
	} {
		m, ok := byKey[tc.key]
		if !ok || m.Action != int32(tc.action) {
			t.Errorf("%s: present %v action %d, want %d", tc.key, ok, m.Action, tc.action)
		}
	}
	if s := byKey[MarkerNSInstances+"/0"]; s.Pose.Position.X != 0.5 || s.Pose.Position.Z != float64(float32(0.02)) || s.Type != int32(visualization_msgs.Marker_SPHERE) {
		t.Errorf("sphere %+v", s.Pose.Position)
	}
	if l := byKey[MarkerNSLabels+"/0"]; l.Text != "#0 0.90" {
		t.Errorf("label %q", l.Text)
	}
	if c := byKey[MarkerNSCompletion+"/0"]; len(c.Points) != 2 {
		t.Errorf("completion marker has %d points, want 2 (the non-finite one left out)", len(c.Points))
	}
	if pl := byKey[MarkerNSPlan+"/0"]; len(pl.Points) != 2 || pl.Points[1].X != 0.31 || pl.Type != int32(visualization_msgs.Marker_LINE_STRIP) {
		t.Errorf("plan %+v", pl.Points)
	}
	if an := byKey[MarkerNSAnchors+"/0"]; an.Type != int32(visualization_msgs.Marker_CUBE) || an.Pose.Position.X != float64(float32(0.45)) {
		t.Errorf("anchor %+v", an)
	}
	if _, ok := byKey[MarkerNSAnchors+"/1"]; ok {
		t.Error("non-finite anchor published")
	}
	// No perception (a Baseline): only the plan.
	BuildMarkers(&a, nil, plan, "base_link", stamp, cfg)
	if len(a.Markers) != 1 || a.Markers[0].Ns != MarkerNSPlan {
		t.Errorf("baseline markers %+v", a.Markers)
	}
}

// PlanTargets integrates the chunk with the action convention the executor
// uses (its targets are the commands the executor would send).
func TestPlanTargetsMatchExecutor(t *testing.T) {
	c := msgs.ActionChunk{Horizon: 3, Dim: msgs.EEActionDim, Period: 100 * time.Millisecond,
		Values: []float32{0.01, 0, 0, 0, 0, 0.1, 1, 0.01, 0.02, 0, 0, 0, 0.1, 1, 0, 0, -0.01, 0, 0, 0, 1}}
	start := msgs.Pose{Position: [3]float64{0.3, 0, 0.3}, Orientation: [4]float64{0, 0, 0, 1}}
	plan := PlanTargets(nil, start, &c)
	cfg := DefaultConfig().Execution
	cfg.Mode = "replan"
	e := NewExecutor(&cfg, c.Horizon, c.Period)
	t0 := time.Unix(100, 0)
	if err := e.Add(&c, start, t0); err != nil {
		t.Fatal(err)
	}
	for k, want := range plan {
		var out Target
		if !e.Command(t0.Add(time.Duration(k)*c.Period), &out) {
			t.Fatalf("no command at step %d", k)
		}
		for a := range 3 {
			if math.Abs(out.Pose.Position[a]-want.Position[a]) > 1e-12 {
				t.Fatalf("step %d: executor %v, plan %v", k, out.Pose.Position, want.Position)
			}
		}
	}
}

func TestCommandMarkerRefusesNonFinite(t *testing.T) {
	var tg Target
	tg.Pose.Orientation = [4]float64{0, 0, 0, 1}
	if _, ok := CommandMarker(&tg, "base_link", time.Unix(1, 0), DefaultMarkersConfig()); !ok {
		t.Fatal("finite command refused")
	}
	tg.Pose.Position[1] = math.Inf(1)
	if _, ok := CommandMarker(&tg, "base_link", time.Unix(1, 0), DefaultMarkersConfig()); ok {
		t.Fatal("non-finite command drawn")
	}
}

// FuzzBuildMarkers: whatever the model outputs, no marker carries a
// non-finite value.
func FuzzBuildMarkers(f *testing.F) {
	f.Add(float32(0.5), float32(0.1), float32(0.2), float32(0.9), float32(0.3))
	f.Add(float32(math.NaN()), float32(math.Inf(1)), float32(0), float32(2), float32(-1))
	f.Fuzz(func(t *testing.T, x, y, z, s, c float32) {
		p := &policy.Perception{Points: []float32{x, y, z}, Scores: []float32{s}, Completion: []float32{c, x, y}}
		plan := []msgs.Pose{{Position: [3]float64{float64(x), float64(y), float64(z)}}}
		var a visualization_msgs.MarkerArray
		cfg := DefaultMarkersConfig()
		cfg.MinConfidence = 0
		BuildMarkers(&a, p, plan, "base_link", time.Unix(1, 0), cfg)
		for _, m := range a.Markers {
			if v, bad := nonFinite(&m); bad {
				t.Fatalf("marker %s/%d carries %v", m.Ns, m.Id, v)
			}
		}
	})
}

// nonFinite returns a non-finite value a marker carries, if any.
func nonFinite(m *visualization_msgs.Marker) (float64, bool) {
	vals := []float64{m.Pose.Position.X, m.Pose.Position.Y, m.Pose.Position.Z, m.Scale.X, m.Scale.Y, m.Scale.Z}
	for _, q := range m.Points {
		vals = append(vals, q.X, q.Y, q.Z)
	}
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return v, true
		}
	}
	return 0, false
}
