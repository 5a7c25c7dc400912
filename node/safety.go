package node

import (
	"math"
	"time"

	"github.com/vla3d/vla3d/perception"
)

// Limiter clamps commands to the workspace and to the configured speeds
// relative to the previous command.
type Limiter struct {
	cfg  SafetyConfig
	last Target
	have bool
}

// NewLimiter returns a limiter with no previous command.
func NewLimiter(cfg SafetyConfig) *Limiter { return &Limiter{cfg: cfg} }

// Reset makes t the previous command (e.g. the hold pose), so the next
// command ramps from it.
func (l *Limiter) Reset(t *Target) {
	l.last.Pose, l.last.Gripper = t.Pose, t.Gripper
	l.last.Joints = append(l.last.Joints[:0], t.Joints...)
	l.have = true
}

// Clamp limits t in place for a tick of dt and records it as the previous
// command. It reports whether anything was clamped.
func (l *Limiter) Clamp(t *Target, dt time.Duration, joint bool) bool {
	clamped := false
	sec := dt.Seconds()
	if joint {
		maxStep := l.cfg.MaxJointSpeed * sec
		if l.have && len(l.last.Joints) == len(t.Joints) {
			for i, v := range t.Joints {
				if d := v - l.last.Joints[i]; math.Abs(d) > maxStep {
					t.Joints[i] = l.last.Joints[i] + math.Copysign(maxStep, d)
					clamped = true
				}
			}
		}
		l.Reset(t)
		return clamped
	}
	p := &t.Pose.Position
	for a := range 3 {
		if v := math.Max(l.cfg.WorkspaceMin[a], math.Min(l.cfg.WorkspaceMax[a], p[a])); v != p[a] {
			p[a], clamped = v, true
		}
	}
	if g := math.Max(0, math.Min(1, t.Gripper)); g != t.Gripper {
		t.Gripper, clamped = g, true
	}
	q := perception.QuatFromArray(t.Pose.Orientation).Normalize()
	t.Pose.Orientation = q.Array()
	if l.have {
		lp := l.last.Pose.Position
		d := [3]float64{p[0] - lp[0], p[1] - lp[1], p[2] - lp[2]}
		dist := math.Sqrt(d[0]*d[0] + d[1]*d[1] + d[2]*d[2])
		if maxStep := l.cfg.MaxLinearSpeed * sec; dist > maxStep {
			s := maxStep / dist
			for a := range 3 {
				p[a] = lp[a] + d[a]*s
			}
			clamped = true
		}
		lq := perception.QuatFromArray(l.last.Pose.Orientation)
		if ang, maxAng := lq.Angle(q), l.cfg.MaxAngularSpeed*sec; ang > maxAng {
			t.Pose.Orientation = lq.Slerp(q, maxAng/ang).Array()
			clamped = true
		}
	}
	l.Reset(t)
	return clamped
}
