package dataset

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/observe"
	"github.com/vla3d/vla3d/timesync"
)

// Step is one control step of an episode.
type Step struct {
	Episode int // Span.Index
	Index   int // step number within the episode, from 0
	Obs     msgs.Observation
	// Set describes the synchronized set the observation was made from.
	Set    observe.SetInfo
	Action [msgs.EEActionDim]float32
	// Derived is true when Action came from the next end-effector pose
	// because the recording has no action topic.
	Derived bool
}

// Drop reasons counted in EpisodeStats.Dropped.
const (
	DropNoCameraInfo = "no camera_info"
	DropNoTF         = "no tf to camera"
	DropNoPose       = "no ee pose near the stamp"
	DropNoAction     = "no recorded action"
	DropNonFinite    = "non-finite input"
	DropLastDerived  = "last step (no next pose to derive the action)"
	DropLastNoAction = "last observation (recorded after the last action)"
)

// EpisodeStats reports what happened while assembling one episode.
type EpisodeStats struct {
	Sets       int            // synchronized camera sets
	Steps      int            // steps handed to the callback
	Dropped    map[string]int // sets not turned into steps, by reason
	OutOfOrder int            // image stamps older than their predecessor
	BadMsgs    int            // messages that failed to decode (skipped)
	Sync       timesync.Stats
}

type stampedAction struct {
	t time.Time
	a [msgs.EEActionDim]float32
}

// pendingSet is a snapshot waiting for the next set, which bounds its
// recorded action and (derived actions) gives the next pose.
type pendingSet struct {
	info  observe.SetInfo
	fault observe.Fault
	err   error
}

// episodeReader assembles one episode; see ReadEpisode.
type episodeReader struct {
	cfg      *Config
	recorded bool // the recording has an action topic
	player   *observe.Player
	asm      *observe.Assembler
	stats    EpisodeStats
	warned   map[string]bool
	types    bag.TypeCache
	actions  []stampedAction

	obs      [2]msgs.Observation // obs[cur^1] is the pending set's, obs[cur] the next snapshot's
	cur      int
	pending  pendingSet
	havePend bool
	step     Step
	prevCmd  float32
	index    int
	fn       func(*Step) error
}

// ReadEpisode streams the steps of one episode of src to fn, in order. The
// observations are made by the node's own assembler (observe.Player replays
// the recording into it as the node would receive it), so training sees
// exactly what the robot sees. The Step (and its image buffers) is reused:
// fn must copy what it keeps. Sets that cannot become a step (missing
// calibration, tf, pose or action) are counted in the returned stats and
// logged once per reason.
func ReadEpisode(ctx context.Context, src bag.Source, span Span, cfg Config, fn func(*Step) error) (EpisodeStats, error) {
	if err := cfg.check(); err != nil {
		return EpisodeStats{}, err
	}
	info := src.Info()
	cams, err := cfg.cameras(info)
	if err != nil {
		return EpisodeStats{}, err
	}
	r := &episodeReader{
		cfg: &cfg, fn: fn, warned: map[string]bool{}, cur: 0,
		recorded: cfg.Topics.ExpertAction != "" && info.Topics[cfg.Topics.ExpertAction].Messages > 0,
	}
	r.stats.Dropped = map[string]int{}
	r.step.Episode = span.Index
	labels := cfg.Labels
	if labels {
		for _, c := range cams {
			if info.Topics[c.LabelsTopic].Messages == 0 {
				labels = false
				r.warn("labels requested but missing", zap.String("topic", c.LabelsTopic))
			}
		}
	}
	if r.player, err = observe.NewPlayer(cfg.observe(cams, labels)); err != nil {
		return r.stats, fmt.Errorf("dataset: %w", err)
	}
	r.asm = r.player.Assembler()
	r.player.OnReady = r.onReady
	r.player.OnBad = func(topic string, err error) {
		r.stats.BadMsgs++
		r.warn("skipping undecodable message", zap.String("topic", topic), zap.Error(err))
	}
	if r.recorded {
		r.player.Extra = map[string]func(bag.Message) error{cfg.Topics.ExpertAction: r.onAction}
	}

	// Latched and slowly changing state recorded before the episode.
	if span.Start.After(info.Start) {
		var pre []string
		t := cfg.Topics
		for _, topic := range []string{t.TFStatic, t.Instruction, t.TF, t.JointStates} {
			if topic != "" {
				pre = append(pre, topic)
			}
		}
		for _, c := range cams {
			pre = append(pre, c.InfoTopic)
		}
		if err := r.player.Play(ctx, src, bag.Query{Topics: pre, End: span.Start.Add(-time.Nanosecond)}); err != nil {
			return r.stats, err
		}
	}
	if err := r.player.Play(ctx, src, bag.Query{Start: span.Start, End: span.End}); err != nil {
		return r.stats, err
	}
	// End of episode: everything is read, so every pending set can finish.
	if err := r.player.Finish(); err != nil {
		return r.stats, err
	}
	if r.havePend {
		if err := r.finalize(nil, nil, 0); err != nil {
			return r.stats, err
		}
	}
	var as observe.Stats
	r.asm.Stats(&as)
	r.stats.Sets = int(as.Sets)
	r.stats.Sync = as.Sync
	for _, n := range as.Sync.OutOfOrder {
		r.stats.OutOfOrder += int(n)
	}
	if r.stats.OutOfOrder > 0 {
		r.warn("image stamps go backwards; the synchronizer still uses them", zap.Int("count", r.stats.OutOfOrder))
	}
	return r.stats, nil
}

func (r *episodeReader) warn(msg string, fields ...zap.Field) {
	if r.warned[msg] {
		return
	}
	r.warned[msg] = true
	r.cfg.Logger.Warn(msg, fields...)
}

func (r *episodeReader) onAction(m bag.Message) error {
	var a std_msgs.Float32MultiArray
	if err := m.Decode(&r.types, &a); err != nil {
		return err
	}
	if len(a.Data) != msgs.EEActionDim {
		return fmt.Errorf("action has %d values, want %d", len(a.Data), msgs.EEActionDim)
	}
	var sa stampedAction
	sa.t = m.Time
	for i, v := range a.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("action value %d is %v", i, v)
		}
		sa.a[i] = v
	}
	r.actions = append(r.actions, sa)
	return nil
}

// onReady snapshots the newest set. With recorded actions the pending set
// is finalized first: its action window ends where this set starts, and its
// gripper command is the previous command this observation's gripper rule
// takes. Derived actions need this set's pose, so they finalize after.
func (r *episodeReader) onReady() error {
	next, ok := r.asm.Pending()
	if !ok {
		return nil
	}
	if r.recorded && r.havePend {
		if err := r.finalize(&next, nil, 0); err != nil {
			return err
		}
	}
	obs := &r.obs[r.cur]
	info, ok, fault, err := r.asm.Snapshot(obs, float64(r.prevCmd))
	if !ok {
		return nil // held back for tf or state: offered again
	}
	if !r.recorded && r.havePend {
		if err := r.finalize(&info, obs, fault); err != nil {
			return err
		}
	}
	r.pending, r.havePend = pendingSet{info: info, fault: fault, err: err}, true
	r.cur ^= 1
	return nil
}

// dropReason names the first fault that makes a set unusable for training.
func dropReason(f observe.Fault) string {
	switch {
	case f&observe.FaultStalePose != 0:
		return DropNoPose
	case f&observe.FaultNoCameraInfo != 0:
		return DropNoCameraInfo
	case f&observe.FaultNoTF != 0:
		return DropNoTF
	default:
		return DropNonFinite
	}
}

// finalize turns the pending set into a step (or a counted drop). next
// describes the following set (nil at the end of the episode); nextObs and
// nextFault are its observation and faults, needed for derived actions.
func (r *episodeReader) finalize(next *observe.SetInfo, nextObs *msgs.Observation, nextFault observe.Fault) error {
	p := r.pending
	r.havePend = false
	obs := &r.obs[r.cur^1] // the pending set's (a next snapshot is in r.obs[r.cur])
	drop := func(reason string, fields ...zap.Field) error {
		r.stats.Dropped[reason]++
		r.warn("dropping step: "+reason, fields...)
		return nil
	}
	s := &r.step
	// Action first: it decides whether the step exists at all.
	if r.recorded {
		found := false
		tol := r.cfg.ActionTolerance
		for len(r.actions) > 0 {
			a := r.actions[0]
			if a.t.Before(p.info.Start.Add(-tol)) {
				r.actions = r.actions[1:] // answers an earlier, dropped set
				continue
			}
			if next != nil && !a.t.Before(next.Start.Add(-tol)) {
				break // belongs to the next step
			}
			s.Action, s.Derived, found = a.a, false, true
			r.actions = r.actions[1:]
			break
		}
		if !found {
			if next == nil {
				// Recordings end with the observation that follows the
				// final action: expected, so counted but not warned about.
				r.stats.Dropped[DropLastNoAction]++
				return nil
			}
			return drop(DropNoAction, zap.Time("stamp", p.info.Stamp))
		}
	}
	if p.fault != 0 {
		return drop(dropReason(p.fault), zap.Time("stamp", p.info.Stamp), zap.Error(p.err))
	}
	if !r.recorded {
		if nextObs == nil {
			return drop(DropLastDerived)
		}
		if nextFault&observe.FaultStalePose != 0 {
			return drop(DropNoPose, zap.Time("stamp", next.Stamp))
		}
		a := DeriveAction(obs.EEPose, nextObs.EEPose, nextObs.Gripper)
		s.Action, s.Derived = a, true
	}
	s.Obs, s.Set = *obs, p.info
	s.Index = r.index
	r.prevCmd = s.Action[msgs.ActionGripper]
	if err := r.fn(s); err != nil {
		return fmt.Errorf("dataset: step callback: %w", err)
	}
	r.index++
	r.stats.Steps++
	return nil
}
