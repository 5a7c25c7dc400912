package node

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
)

// ErrNonFiniteAction is returned when a chunk holds NaN or Inf.
var ErrNonFiniteAction = errors.New("node: non-finite action")

// Target is one command: an end-effector pose target and gripper closure
// (ee output), or joint targets (joint output).
type Target struct {
	Pose    msgs.Pose
	Gripper float64
	Joints  []float64
}

// eeWidth is the stored width of one end-effector step: position (3),
// quaternion (4), gripper (1).
const eeWidth = 8

type storedChunk struct {
	start   time.Time
	period  time.Duration
	horizon int
	vals    []float64
}

// Executor turns action chunks into one command per control tick.
//
// End-effector chunks hold deltas (msgs.ActionDX..ActionGripper). They are
// integrated into absolute targets anchored at the end-effector pose of the
// observation they were predicted from with perception.ApplyDelta, the way
// the simulator applies them (position += d; orientation = R(droll, dpitch,
// dyaw) * orientation; gripper absolute), so that overlapping chunks predict
// comparable quantities.
// Joint chunks are absolute joint targets.
//
// Step k of a chunk is due at start + k*period, start being the local time
// its observation was synchronized, so a slow model skips the steps that are
// already in the past instead of replaying them late.
//
// Ensemble mode averages every stored chunk's step due now with ACT's
// weights w_i = exp(-m*i), i = 0 for the oldest chunk; replan mode follows
// the newest chunk only.
type Executor struct {
	mu       sync.Mutex
	joint    bool
	ensemble bool
	decay    float64
	period   time.Duration
	ring     []storedChunk // oldest at head
	head, n  int
	weights  []float64
	targets  []msgs.Pose // scratch of Add (mu held)
}

// NewExecutor sizes the executor for chunks of horizon steps; period is used
// when a chunk carries none.
func NewExecutor(cfg *ExecutionConfig, horizon int, period time.Duration) *Executor {
	capacity := horizon + 2 // a chunk per tick overlaps at most horizon others
	e := &Executor{joint: cfg.Output == "joint", ensemble: cfg.Mode != "replan", decay: cfg.EnsembleDecay,
		period: period, ring: make([]storedChunk, capacity), weights: make([]float64, capacity)}
	for i := range e.weights {
		e.weights[i] = math.Exp(-cfg.EnsembleDecay * float64(i))
	}
	return e
}

// Clear drops every stored chunk (after a fault: old plans are void).
func (e *Executor) Clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.head, e.n = 0, 0
}

// Len is the number of stored chunks.
func (e *Executor) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// Add stores chunk c predicted from an observation synchronized at start
// with end-effector pose anchor. It refuses non-finite actions.
func (e *Executor) Add(c *msgs.ActionChunk, anchor msgs.Pose, start time.Time) error {
	if c.Horizon < 1 || c.Dim < 1 || len(c.Values) < c.Horizon*c.Dim {
		return fmt.Errorf("node: chunk %dx%d with %d values", c.Horizon, c.Dim, len(c.Values))
	}
	if !e.joint && c.Dim < msgs.EEActionDim {
		return fmt.Errorf("node: end-effector chunk has dim %d, want %d", c.Dim, msgs.EEActionDim)
	}
	for i, v := range c.Values[:c.Horizon*c.Dim] {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: value %d of the chunk is %v", ErrNonFiniteAction, i, v)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == len(e.ring) {
		e.head, e.n = (e.head+1)%len(e.ring), e.n-1
	}
	s := &e.ring[(e.head+e.n)%len(e.ring)]
	e.n++
	s.start, s.horizon, s.period = start, c.Horizon, c.Period
	if s.period <= 0 {
		s.period = e.period
	}
	if e.joint {
		s.vals = grow(s.vals, c.Horizon*c.Dim)
		for i, v := range c.Values[:c.Horizon*c.Dim] {
			s.vals[i] = float64(v)
		}
		return nil
	}
	s.vals = grow(s.vals, c.Horizon*eeWidth)
	e.targets = perception.ChunkTargets(e.targets[:0], anchor, c)
	for k, p := range e.targets {
		o := s.vals[k*eeWidth : (k+1)*eeWidth]
		copy(o[0:3], p.Position[:])
		copy(o[3:7], p.Orientation[:])
		o[7] = float64(c.Step(k)[msgs.ActionGripper])
	}
	return nil
}

func grow(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}

// Command writes the command due at now into out; ok is false when no
// stored chunk covers now. Expired chunks are dropped.
func (e *Executor) Command(now time.Time, out *Target) (ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropExpired(now)
	var acc eeAverage
	used := 0
	first := 0
	if !e.ensemble {
		first = e.n - 1 // newest only
	}
	for j := max(first, 0); j < e.n; j++ {
		s := &e.ring[(e.head+j)%len(e.ring)]
		d := now.Sub(s.start)
		if d < 0 {
			continue
		}
		k := int(d / s.period)
		if k >= s.horizon {
			continue
		}
		w := e.weights[used]
		used++
		if e.joint {
			addJoints(out, s, k, w, &acc.wsum)
			continue
		}
		acc.add(s.vals[k*eeWidth:(k+1)*eeWidth], w)
	}
	if acc.wsum == 0 {
		return false
	}
	if e.joint {
		for i := range out.Joints {
			out.Joints[i] /= acc.wsum
		}
		return true
	}
	acc.result(out)
	return true
}

// dropExpired drops the chunks whose last step is past.
func (e *Executor) dropExpired(now time.Time) {
	for e.n > 0 {
		s := &e.ring[e.head]
		if int(now.Sub(s.start)/s.period) < s.horizon {
			break
		}
		e.head, e.n = (e.head+1)%len(e.ring), e.n-1
	}
}

// addJoints adds weight w of chunk s's step k to out.Joints (a chunk of
// another width than the first is ignored rather than mixed).
func addJoints(out *Target, s *storedChunk, k int, w float64, wsum *float64) {
	width := len(s.vals) / s.horizon
	if *wsum == 0 {
		out.Joints = grow(out.Joints, width)
		clear(out.Joints)
	}
	if len(out.Joints) != width {
		return
	}
	for i, v := range s.vals[k*width : (k+1)*width] {
		out.Joints[i] += w * v
	}
	*wsum += w
}

// eeAverage is the weighted mean of end-effector targets: position and
// gripper linearly, orientation as a normalised sum on one hemisphere (q
// and -q are one rotation).
type eeAverage struct {
	wsum, grip float64
	pos        [3]float64
	q, q0      perception.Quat
	n          int
}

func (a *eeAverage) add(o []float64, w float64) {
	qi := perception.Quat{X: o[3], Y: o[4], Z: o[5], W: o[6]}
	if a.n == 0 {
		a.q0 = qi
	} else if qi.Dot(a.q0) < 0 {
		qi = qi.Neg()
	}
	a.n++
	for k := range 3 {
		a.pos[k] += w * o[k]
	}
	a.q.X, a.q.Y, a.q.Z, a.q.W = a.q.X+w*qi.X, a.q.Y+w*qi.Y, a.q.Z+w*qi.Z, a.q.W+w*qi.W
	a.grip += w * o[7]
	a.wsum += w
}

func (a *eeAverage) result(out *Target) {
	for k := range 3 {
		out.Pose.Position[k] = a.pos[k] / a.wsum
	}
	out.Pose.Orientation = a.q.Normalize().Array()
	out.Gripper = a.grip / a.wsum
}
