package node

import (
	"fmt"
	"math"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/visualization_msgs"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
)

// MarkersConfig turns on the live visualization of what the policy sees
// (visualization_msgs/MarkerArray, shown by RViz, RViz2 and Foxglove with
// no plugin): the confident instance probes' 3D reference points, the
// completion points of occluded geometry, the planned action chunk as a
// line strip of end-effector targets, and the current command. Off, it
// costs nothing.
type MarkersConfig struct {
	// Enabled publishes the markers. It defaults to false.
	Enabled bool `yaml:"enabled"`
	// Topic is the MarkerArray topic. It defaults to /vla3d/markers.
	Topic string `yaml:"topic"`
	// MinConfidence is the instance score from which a probe is drawn. It
	// defaults to 0.5.
	MinConfidence float64 `yaml:"min_confidence"`
	// Lifetime is how long RViz keeps a marker not refreshed. It defaults
	// to 1 s.
	Lifetime Duration `yaml:"lifetime"`
}

// DefaultMarkersConfig is MarkersConfig's defaults (disabled).
func DefaultMarkersConfig() MarkersConfig {
	return MarkersConfig{Topic: "/vla3d/markers", MinConfidence: 0.5, Lifetime: Duration{Duration: time.Second}}
}

// Marker namespaces.
const (
	MarkerNSInstances  = "vla3d/instances"
	MarkerNSLabels     = "vla3d/instance_labels"
	MarkerNSCompletion = "vla3d/completion"
	MarkerNSAnchors    = "vla3d/anchors"
	MarkerNSPlan       = "vla3d/plan"
	MarkerNSCommand    = "vla3d/command"
)

// PlanTargets is the chunk's absolute end-effector targets from pose
// (perception.ChunkTargets, the executor's action convention).
func PlanTargets(dst []msgs.Pose, pose msgs.Pose, c *msgs.ActionChunk) []msgs.Pose {
	return perception.ChunkTargets(dst, pose, c)
}

// finite32 reports whether every value is finite.
func finite32(v ...float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

func point(x, y, z float64) geometry_msgs.Point { return geometry_msgs.Point{X: x, Y: y, Z: z} }

// confidenceColor is policy.ConfidenceColor as a marker colour.
func confidenceColor(s float64) std_msgs.ColorRGBA {
	r, g, b := policy.ConfidenceColor(s)
	return std_msgs.ColorRGBA{R: float32(r), G: float32(g), B: float32(b), A: 0.9}
}

// BuildMarkers fills dst with the markers of one inference: per instance
// probe a sphere (size and colour by confidence) and a text label when
// confident, a DELETE of its id otherwise (ids are the probe indices, so a
// probe that loses confidence disappears at once); per instance anchor a
// yellow cube (id 0 where the policy will grasp, 1 where it will place); the completion points as
// one POINTS marker; the planned end-effector targets as a LINE_STRIP. Every
// marker is in frame, stamped stamp, with the configured lifetime; nothing
// non-finite is emitted (a non-finite point is left out).
func BuildMarkers(dst *visualization_msgs.MarkerArray, p *policy.Perception, plan []msgs.Pose, frame string, stamp time.Time, cfg MarkersConfig) {
	dst.Markers = dst.Markers[:0]
	h := rosconv.Header(stamp, frame)
	base := func(ns string, id int, typ uint8) visualization_msgs.Marker {
		return visualization_msgs.Marker{Header: h, Ns: ns, Id: int32(id), Type: int32(typ), Action: int32(visualization_msgs.Marker_ADD),
			Pose: geometry_msgs.Pose{Orientation: geometry_msgs.Quaternion{W: 1}}, Lifetime: cfg.Lifetime.Duration}
	}
	if p != nil {
		for i := range p.Instances() {
			pt, s := p.Point(i), p.Scores[i]
			if float64(s) < cfg.MinConfidence || !finite32(pt[0], pt[1], pt[2], s) {
				for _, ns := range []string{MarkerNSInstances, MarkerNSLabels} {
					m := base(ns, i, visualization_msgs.Marker_SPHERE)
					m.Action = int32(visualization_msgs.Marker_DELETE)
					dst.Markers = append(dst.Markers, m)
				}
				continue
			}
			m := base(MarkerNSInstances, i, visualization_msgs.Marker_SPHERE)
			m.Pose.Position = point(float64(pt[0]), float64(pt[1]), float64(pt[2]))
			d := 0.02 + 0.03*float64(s)
			m.Scale = geometry_msgs.Vector3{X: d, Y: d, Z: d}
			m.Color = confidenceColor(float64(s))
			dst.Markers = append(dst.Markers, m)
			l := base(MarkerNSLabels, i, visualization_msgs.Marker_TEXT_VIEW_FACING)
			l.Pose.Position = point(float64(pt[0]), float64(pt[1]), float64(pt[2])+d)
			l.Scale.Z = 0.025
			l.Color = std_msgs.ColorRGBA{R: 1, G: 1, B: 1, A: 1}
			l.Text = fmt.Sprintf("#%d %.2f", i, s)
			dst.Markers = append(dst.Markers, l)
		}
		for k := range p.AnchorPoints() {
			a := p.Anchor(k)
			if !finite32(a[0], a[1], a[2]) {
				continue
			}
			m := base(MarkerNSAnchors, k, visualization_msgs.Marker_CUBE)
			m.Pose.Position = point(float64(a[0]), float64(a[1]), float64(a[2]))
			m.Scale = geometry_msgs.Vector3{X: 0.03, Y: 0.03, Z: 0.03}
			m.Color = std_msgs.ColorRGBA{R: 1, G: 1, B: 0, A: 0.6}
			dst.Markers = append(dst.Markers, m)
		}
		if n := p.CompletionPoints(); n > 0 {
			m := base(MarkerNSCompletion, 0, visualization_msgs.Marker_POINTS)
			m.Scale = geometry_msgs.Vector3{X: 0.008, Y: 0.008}
			m.Color = std_msgs.ColorRGBA{R: 0.3, G: 0.6, B: 1, A: 0.9}
			for j := range n {
				c := p.CompletionPoint(j)
				if finite32(c[0], c[1], c[2]) {
					m.Points = append(m.Points, point(float64(c[0]), float64(c[1]), float64(c[2])))
				}
			}
			dst.Markers = append(dst.Markers, m)
		}
	}
	if len(plan) > 0 {
		m := base(MarkerNSPlan, 0, visualization_msgs.Marker_LINE_STRIP)
		m.Scale.X = 0.004
		m.Color = std_msgs.ColorRGBA{R: 1, G: 0.2, B: 0.8, A: 1}
		for _, q := range plan {
			x := q.Position
			if finite32(float32(x[0]), float32(x[1]), float32(x[2])) {
				m.Points = append(m.Points, point(x[0], x[1], x[2]))
			}
		}
		dst.Markers = append(dst.Markers, m)
	}
}

// CommandMarker is an arrow along the commanded end-effector x axis at the
// command's position (false when the command is not finite).
func CommandMarker(t *Target, frame string, stamp time.Time, cfg MarkersConfig) (visualization_msgs.Marker, bool) {
	ps := rosconv.PoseStampedToROS(t.Pose, stamp, frame)
	o, q := ps.Pose.Position, ps.Pose.Orientation
	if !finite32(float32(o.X), float32(o.Y), float32(o.Z), float32(q.X), float32(q.Y), float32(q.Z), float32(q.W)) {
		return visualization_msgs.Marker{}, false
	}
	return visualization_msgs.Marker{Header: ps.Header, Ns: MarkerNSCommand, Type: int32(visualization_msgs.Marker_ARROW),
		Action: int32(visualization_msgs.Marker_ADD), Pose: ps.Pose, Scale: geometry_msgs.Vector3{X: 0.06, Y: 0.008, Z: 0.008},
		Color: std_msgs.ColorRGBA{R: 0.2, G: 0.9, B: 0.9, A: 1}, Lifetime: cfg.Lifetime.Duration}, true
}
