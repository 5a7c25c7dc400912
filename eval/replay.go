// Package eval scores a policy offline by replaying recordings through the
// node's own pipeline: every message goes to node.Inputs (image decoding,
// approximate-time sync, tf, robot state) exactly as the live subscribers
// deliver them, and each synchronized set runs node.Controller.InferOnce
// (snapshot, policy/preprocess, policy.Predict). The first action of every
// predicted chunk is compared with the action recorded for that observation
// (or, without an action topic, the one derived from the next end-effector
// pose), per episode and overall, and every stage is timed. The node's clock
// is the recording's receive time, so its freshness checks judge the
// recorded timing, not how fast the replay runs.
package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/policy"
)

// Options configures a replay.
type Options struct {
	// Node is the node configuration (cameras, topics, sync, resize): the
	// same file the live node runs with.
	Node node.Config
	// Episodes splits recordings (Split, Episode, Gap) and names the
	// recorded action topic (Action); its camera list is taken from Node.
	Episodes dataset.Config
	// MatchTolerance is how far a recorded action's time may be from the
	// observation stamp it is scored against (default half a control period).
	MatchTolerance time.Duration
	// KeepSeries keeps per-step predicted and recorded actions in the
	// episode reports (needed for plots).
	KeepSeries bool
	Logger     *zap.Logger
}

// Step is one scored step.
type Step struct {
	Stamp     time.Time     `json:"stamp"`
	Predicted [Dims]float32 `json:"predicted"`
	Recorded  [Dims]float32 `json:"recorded"`
}

// EpisodeReport is the score of one episode.
type EpisodeReport struct {
	Path        string  `json:"path"`
	Episode     int     `json:"episode"`
	Sets        int     `json:"sets"`        // synchronized sets the node produced
	Predictions int     `json:"predictions"` // chunks the controller accepted
	Failures    int     `json:"failures"`    // sets the controller refused (faults)
	Unmatched   int     `json:"unmatched"`   // predictions with no recorded action near their stamp
	Derived     bool    `json:"derived"`     // actions derived from ee poses
	Metrics     Metrics `json:"metrics"`
	// HorizonL1[h] is the mean absolute error of the chunk's action h
	// against the h-th recorded action after the observation, over the six
	// motion dimensions (recorded actions only; ends of episodes count less).
	HorizonL1 []float64 `json:"horizon_l1,omitempty"`
	horizonN  []int
	Steps     []Step `json:"steps,omitempty"`
}

// Report is the result of a replay.
type Report struct {
	Episodes []EpisodeReport `json:"episodes"`
	Overall  Metrics         `json:"overall"`
	// HorizonL1 is EpisodeReport.HorizonL1 over every episode.
	HorizonL1 []float64          `json:"horizon_l1,omitempty"`
	Latency   map[string]Latency `json:"latency"`
	// RecordedSeconds is the recorded time replayed; WallSeconds how long the
	// replay took; Speedup their ratio.
	RecordedSeconds float64  `json:"recorded_seconds"`
	WallSeconds     float64  `json:"wall_seconds"`
	Speedup         float64  `json:"speedup"`
	Warnings        []string `json:"warnings,omitempty"`
}

// timedPolicy wraps the policy to time Predict on its own.
type timedPolicy struct {
	policy.Policy
	lat *latencies
}

func (p timedPolicy) Predict(ctx context.Context, in *policy.Input, out *msgs.ActionChunk) error {
	t := time.Now()
	err := p.Policy.Predict(ctx, in, out)
	p.lat.add(StagePredict, time.Since(t))
	return err
}

// Run replays every episode of the recordings at paths through pol.
func Run(ctx context.Context, paths []string, pol policy.Policy, opts Options) (*Report, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if err := opts.Node.Validate(); err != nil {
		return nil, fmt.Errorf("eval: node config: %w", err)
	}
	ec := opts.Episodes
	ec.Logger = opts.Logger
	ec.Cameras = nil
	for _, c := range opts.Node.Cameras {
		ec.Cameras = append(ec.Cameras, c.Name)
	}
	if opts.MatchTolerance <= 0 {
		opts.MatchTolerance = opts.Node.ControlPeriod() / 2
	}
	files, err := dataset.ExpandPaths(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("eval: no recordings given")
	}
	rep := &Report{}
	lat := &latencies{}
	var hn []int // steps behind each rep.HorizonL1 entry
	start := time.Now()
	for _, path := range files {
		src, err := dataset.OpenSource(path, opts.Logger)
		if err != nil {
			return nil, err
		}
		rep.Warnings = append(rep.Warnings, src.Info().Warnings...)
		eps, err := replayFile(ctx, src, path, pol, ec, opts, lat)
		cerr := src.Close()
		if err != nil {
			return nil, errors.Join(err, cerr)
		}
		for i := range eps {
			rep.Overall.Merge(&eps[i].Metrics)
			hn = mergeHorizon(&rep.HorizonL1, hn, eps[i].HorizonL1, eps[i].horizonN)
		}
		rep.Episodes = append(rep.Episodes, eps...)
		info := src.Info()
		rep.RecordedSeconds += info.End.Sub(info.Start).Seconds()
	}
	rep.WallSeconds = time.Since(start).Seconds()
	if rep.WallSeconds > 0 {
		rep.Speedup = rep.RecordedSeconds / rep.WallSeconds
	}
	rep.Latency = lat.summary()
	return rep, nil
}

// mergeHorizon folds an episode's per-horizon means (with counts n) into
// the running means dst (with counts dn), returning the new counts.
func mergeHorizon(dst *[]float64, dn []int, src []float64, n []int) []int {
	for len(*dst) < len(src) {
		*dst = append(*dst, 0)
		dn = append(dn, 0)
	}
	for k := range src {
		tot := dn[k] + n[k]
		if tot > 0 {
			(*dst)[k] = ((*dst)[k]*float64(dn[k]) + src[k]*float64(n[k])) / float64(tot)
		}
		dn[k] = tot
	}
	return dn
}

func replayFile(ctx context.Context, src bag.Source, path string, pol policy.Policy, ec dataset.Config, opts Options, lat *latencies) ([]EpisodeReport, error) {
	spans, err := dataset.Spans(ctx, src, ec)
	if err != nil {
		return nil, err
	}
	var out []EpisodeReport
	for _, sp := range spans {
		er, err := replayEpisode(ctx, src, sp, pol, ec, opts, lat)
		if err != nil {
			return nil, fmt.Errorf("eval: %s episode %d: %w", path, sp.Index, err)
		}
		er.Path = path
		out = append(out, er)
	}
	return out, nil
}

type stamped struct {
	t time.Time
	a [Dims]float32
}

// episodeReplay feeds one episode into a fresh node intake and controller.
type episodeReplay struct {
	cfg    *node.Config
	inputs *node.Inputs
	ctrl   *node.Controller
	lat    *latencies
	types  bag.TypeCache
	log    *zap.Logger
	routes map[string]func(bag.Message) error

	preds   []stamped
	chunks  [][]float32 // full predicted chunk per prediction, [H*Dim]
	dim     int
	actions []stamped
	poses   []stamped // position + rpy-less pose kept as [x y z qx qy qz qw]
	sets    int
	fails   int
	ready   bool // a set is waiting for the messages recorded at the same time
	readyAt time.Time
	// now is the replay clock: the receive time of the message being
	// delivered, so the node's freshness checks see the recorded timing.
	now time.Time
}

func replayEpisode(ctx context.Context, src bag.Source, sp dataset.Span, pol policy.Policy, ec dataset.Config, opts Options, lat *latencies) (EpisodeReport, error) {
	cfg := opts.Node
	r := &episodeReplay{cfg: &cfg, lat: lat, log: opts.Logger, now: sp.Start}
	clock := func() time.Time { return r.now }
	var err error
	if r.inputs, err = node.NewInputs(&cfg, clock); err != nil {
		return EpisodeReport{}, err
	}
	if r.ctrl, err = node.NewController(&cfg, timedPolicy{pol, lat}, r.inputs, opts.Logger, clock); err != nil {
		return EpisodeReport{}, err
	}
	r.ctrl.OnChunk = func(c *msgs.ActionChunk) {
		var s stamped
		s.t = c.Stamp
		copy(s.a[:], c.Step(0))
		r.preds = append(r.preds, s)
		r.chunks = append(r.chunks, append([]float32(nil), c.Values[:c.Horizon*c.Dim]...))
		r.dim = c.Dim
	}
	r.route(ec.Action)
	info := src.Info()
	topics := make([]string, 0, len(r.routes))
	for t := range r.routes {
		if info.Topics[t].Messages > 0 {
			topics = append(topics, t)
		}
	}
	sort.Strings(topics)
	// State latched before the episode (tf_static, instruction, calibration).
	if sp.Start.After(info.Start) {
		pre := []string{cfg.Topics.TFStatic, cfg.Topics.Instruction}
		for _, c := range cfg.Cameras {
			pre = append(pre, c.InfoTopic)
		}
		if err := r.feed(ctx, src, bag.Query{Topics: pre, End: sp.Start.Add(-time.Nanosecond)}); err != nil {
			return EpisodeReport{}, err
		}
	}
	if err := r.feed(ctx, src, bag.Query{Topics: topics, Start: sp.Start, End: sp.End}); err != nil {
		return EpisodeReport{}, err
	}
	if r.ready {
		r.infer(ctx)
	}
	er := EpisodeReport{Episode: sp.Index, Sets: r.sets, Predictions: len(r.preds), Failures: r.fails}
	r.score(&er, opts)
	return er, nil
}

func (r *episodeReplay) route(actionTopic string) {
	cfg := r.cfg
	r.routes = map[string]func(bag.Message) error{}
	for c, cam := range cfg.Cameras {
		r.routes[cam.ColorTopic] = func(m bag.Message) error {
			var img sensor_msgs.Image
			if err := r.decode(m, &img); err != nil {
				return err
			}
			return r.timed(func() error { return r.inputs.OnColor(c, &img) })
		}
		r.routes[cam.DepthTopic] = func(m bag.Message) error {
			var img sensor_msgs.Image
			if err := r.decode(m, &img); err != nil {
				return err
			}
			return r.timed(func() error { return r.inputs.OnDepth(c, &img) })
		}
		r.routes[cam.InfoTopic] = func(m bag.Message) error {
			var ci sensor_msgs.CameraInfo
			if err := r.decode(m, &ci); err != nil {
				return err
			}
			return r.timed(func() error { r.inputs.OnCameraInfo(c, &ci); return nil })
		}
	}
	t := cfg.Topics
	for _, tf := range []struct {
		topic  string
		static bool
	}{{t.TF, false}, {t.TFStatic, true}} {
		r.routes[tf.topic] = func(m bag.Message) error {
			var tm tf2_msgs.TFMessage
			if err := r.decode(m, &tm); err != nil {
				return err
			}
			return r.timed(func() error { return r.inputs.OnTF(&tm, tf.static) })
		}
	}
	r.routes[t.EEPose] = func(m bag.Message) error {
		var ps geometry_msgs.PoseStamped
		if err := r.decode(m, &ps); err != nil {
			return err
		}
		if p, err := rosconv.PoseFromROS(&ps.Pose); err == nil {
			st := ps.Header.Stamp
			if st.IsZero() {
				st = m.Time
			}
			r.poses = append(r.poses, stamped{t: st, a: [Dims]float32{
				float32(p.Position[0]), float32(p.Position[1]), float32(p.Position[2]),
				float32(p.Orientation[0]), float32(p.Orientation[1]), float32(p.Orientation[2]), float32(p.Orientation[3])}})
		}
		return r.timed(func() error { return r.inputs.OnPose(&ps) })
	}
	r.routes[t.JointStates] = func(m bag.Message) error {
		var js sensor_msgs.JointState
		if err := r.decode(m, &js); err != nil {
			return err
		}
		return r.timed(func() error { return r.inputs.OnJointState(&js) })
	}
	r.routes[t.Instruction] = func(m bag.Message) error {
		var s std_msgs.String
		if err := r.decode(m, &s); err != nil {
			return err
		}
		return r.timed(func() error { r.inputs.OnInstruction(&s); return nil })
	}
	if actionTopic != "" {
		r.routes[actionTopic] = func(m bag.Message) error {
			var a std_msgs.Float32MultiArray
			if err := r.decode(m, &a); err != nil {
				return err
			}
			if len(a.Data) != Dims {
				return fmt.Errorf("action has %d values, want %d", len(a.Data), Dims)
			}
			var s stamped
			s.t = m.Time
			copy(s.a[:], a.Data)
			r.actions = append(r.actions, s)
			return nil
		}
	}
}

func (r *episodeReplay) decode(m bag.Message, dst any) error {
	t := time.Now()
	err := m.Decode(&r.types, dst)
	r.lat.add(StageRead, time.Since(t))
	return err
}

func (r *episodeReplay) timed(f func() error) error {
	t := time.Now()
	err := f()
	r.lat.add(StageIntake, time.Since(t))
	return err
}

// feed dispatches q's messages in receive order. A completed set is run
// once every message recorded at the same instant has been delivered, as
// the live node's worker would see them after waking up.
func (r *episodeReplay) feed(ctx context.Context, src bag.Source, q bag.Query) error {
	it := src.Read(ctx, q)
	warned := map[string]bool{}
	for it.Next() {
		m := it.Message()
		if r.ready && m.Time.After(r.readyAt) {
			r.infer(ctx)
		}
		if m.Time.After(r.now) {
			r.now = m.Time
		}
		h := r.routes[m.Conn.Topic]
		if h == nil {
			continue
		}
		if err := h(m); err != nil && !warned[m.Conn.Topic] {
			warned[m.Conn.Topic] = true
			r.log.Warn("message rejected by the node intake", zap.String("topic", m.Conn.Topic), zap.Error(err))
		}
		select {
		case <-r.inputs.Ready():
			r.ready, r.readyAt = true, m.Time
		default:
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	return nil
}

func (r *episodeReplay) infer(ctx context.Context) {
	r.ready = false
	r.sets++
	t := time.Now()
	before := r.predictCount()
	ok := r.ctrl.InferOnce(ctx)
	d := time.Since(t)
	if !ok {
		r.fails++
		return
	}
	r.lat.add(StageInference, d)
	if n := r.predictCount(); n > before {
		pd := r.lat.samples[StagePredict][n-1]
		r.lat.add(StagePrepare, d-pd)
	}
}

func (r *episodeReplay) predictCount() int { return len(r.lat.samples[StagePredict]) }

// closest returns the entry of s (sorted by t) nearest to t.
func closest(s []stamped, t time.Time) (stamped, time.Duration, bool) {
	i, d, ok := closestIndex(s, t)
	if !ok {
		return stamped{}, 0, false
	}
	return s[i], d, true
}

func closestIndex(s []stamped, t time.Time) (int, time.Duration, bool) {
	if len(s) == 0 {
		return 0, 0, false
	}
	i := sort.Search(len(s), func(i int) bool { return !s[i].t.Before(t) })
	best := i
	if i == len(s) || (i > 0 && t.Sub(s[i-1].t) <= s[i].t.Sub(t)) {
		best = i - 1
	}
	d := s[best].t.Sub(t)
	return best, time.Duration(math.Abs(float64(d))), true
}

// scoreHorizon compares every step of prediction i's chunk with the
// recorded actions that follow action j.
func (r *episodeReplay) scoreHorizon(er *EpisodeReport, i, j int) {
	c := r.chunks[i]
	h := len(c) / max(r.dim, 1)
	if r.dim < Dims {
		return
	}
	for len(er.HorizonL1) < h {
		er.HorizonL1 = append(er.HorizonL1, 0)
		er.horizonN = append(er.horizonN, 0)
	}
	for k := 0; k < h && j+k < len(r.actions); k++ {
		rec := r.actions[j+k].a
		e := 0.0
		for d := range msgs.ActionGripper {
			e += math.Abs(float64(c[k*r.dim+d]) - float64(rec[d]))
		}
		n := float64(er.horizonN[k])
		er.HorizonL1[k] = (er.HorizonL1[k]*n + e/float64(msgs.ActionGripper)) / (n + 1)
		er.horizonN[k]++
	}
}

func (r *episodeReplay) score(er *EpisodeReport, opts Options) {
	sort.SliceStable(r.actions, func(i, j int) bool { return r.actions[i].t.Before(r.actions[j].t) })
	sort.SliceStable(r.poses, func(i, j int) bool { return r.poses[i].t.Before(r.poses[j].t) })
	er.Derived = len(r.actions) == 0
	for i, p := range r.preds {
		var rec [Dims]float32
		if !er.Derived {
			j, d, ok := closestIndex(r.actions, p.t)
			if !ok || d > opts.MatchTolerance {
				er.Unmatched++
				continue
			}
			rec = r.actions[j].a
			r.scoreHorizon(er, i, j)
		} else {
			if i+1 >= len(r.preds) {
				er.Unmatched++
				continue
			}
			cur, d0, ok0 := closest(r.poses, p.t)
			next, d1, ok1 := closest(r.poses, r.preds[i+1].t)
			if !ok0 || !ok1 || d0 > opts.MatchTolerance || d1 > opts.MatchTolerance {
				er.Unmatched++
				continue
			}
			pose := func(s stamped) msgs.Pose {
				return msgs.Pose{Position: [3]float64{float64(s.a[0]), float64(s.a[1]), float64(s.a[2])},
					Orientation: [4]float64{float64(s.a[3]), float64(s.a[4]), float64(s.a[5]), float64(s.a[6])}}
			}
			rec = dataset.DeriveAction(pose(cur), pose(next), 0)
		}
		er.Metrics.Add(p.a[:], rec[:], !er.Derived)
		if opts.KeepSeries {
			er.Steps = append(er.Steps, Step{Stamp: p.t, Predicted: p.a, Recorded: rec})
		}
	}
}
