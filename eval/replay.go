// Package eval scores a policy offline by replaying recordings through the
// node's own pipeline: the recording is turned into steps by the dataset
// exactly as the trainer reads it (observe.Player feeding the node's
// observation assembler: image decoding, approximate-time sync, tf, robot
// state, the gripper rule), and each step runs the node's controller
// (node.Controller.InferObservation: policy/preprocess, policy.Predict, the
// chunk checks). So replay, training and the robot see the same inputs. The
// first action of every predicted chunk is compared with the step's action:
// the one the trainer learns (recorded, or derived from the next
// end-effector pose), per episode and overall, and every stage is timed.
package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/observe"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/viz"
)

// Options configures a replay.
type Options struct {
	// Node is the node configuration (cameras, topics, sync, resize): the
	// same file the live node runs with.
	Node node.Config
	// Episodes splits recordings (Split, Topics.Episode, Gap) and names the
	// recorded action topic (Topics.ExpertAction); its cameras, topics and
	// observation rules are taken from Node.
	Episodes dataset.Config
	// KeepSeries keeps per-step predicted and recorded actions in the
	// episode reports (needed for plots).
	KeepSeries bool
	// Pictures, when set, is a directory for per-episode pictures
	// (package viz): episode_NNN.gif, every camera with the instances,
	// completion points and planned path the model saw, and
	// episode_NNN_top.png, the top-down end-effector path and predictions.
	Pictures string
	Logger   *zap.Logger
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
	Dropped     int     `json:"dropped"`     // sets the dataset could not make a step of (no action, tf, pose...)
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
	// Dropped counts the sets not scored, by reason (dataset.Drop*).
	Dropped map[string]int `json:"dropped,omitempty"`
	// Skipped lists the recordings that could not be read or replayed;
	// DamagedChunks counts chunks skipped inside the others (Warnings say
	// where).
	Skipped       []SkippedFile `json:"skipped,omitempty"`
	DamagedChunks int           `json:"damaged_chunks,omitempty"`
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

// Perception forwards to the wrapped policy when it is a policy.Perceiver.
func (p timedPolicy) Perception(dst *policy.Perception) bool {
	pc, ok := p.Policy.(policy.Perceiver)
	return ok && pc.Perception(dst)
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
	ec := opts.Episodes.WithObservation(opts.Node.Observe())
	ec.Logger = opts.Logger
	files, err := dataset.ExpandPaths(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("eval: no recordings given")
	}
	rep := &Report{Dropped: map[string]int{}}
	lat := &latencies{}
	var hn []int // steps behind each rep.HorizonL1 entry
	start := time.Now()
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		src, err := dataset.OpenSource(path, opts.Logger)
		if err != nil {
			// One policy for a bad file among good ones (as vla3d-train):
			// skip it, say so, go on.
			opts.Logger.Warn("skipping an unreadable recording", zap.String("path", path), zap.Error(err))
			rep.Skipped = append(rep.Skipped, SkippedFile{Path: path, Error: err.Error()})
			continue
		}
		rep.Warnings = append(rep.Warnings, src.Info().Warnings...)
		rep.DamagedChunks += src.Info().DamagedChunks
		eps, err := replayFile(ctx, src, path, pol, ec, opts, lat, rep.Dropped, len(rep.Episodes))
		cerr := src.Close()
		if err != nil {
			if ctx.Err() != nil {
				return nil, errors.Join(err, cerr)
			}
			opts.Logger.Warn("skipping a recording that failed to replay", zap.String("path", path), zap.Error(err))
			rep.Skipped = append(rep.Skipped, SkippedFile{Path: path, Error: errors.Join(err, cerr).Error()})
			continue
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
	if rep.Overall.N == 0 {
		return rep, fmt.Errorf("%w: %d episodes, %d recordings skipped, sets dropped %v", ErrNothingScored, len(rep.Episodes), len(rep.Skipped), rep.Dropped)
	}
	return rep, nil
}

// ErrNothingScored is returned (with the report) when no step could be
// scored: a mean over zero steps is no score.
var ErrNothingScored = errors.New("eval: no step was scored")

// SkippedFile is a recording the replay could not use.
type SkippedFile struct {
	Path  string `json:"path"`
	Error string `json:"error"`
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

func replayFile(ctx context.Context, src bag.Source, path string, pol policy.Policy, ec dataset.Config, opts Options, lat *latencies, dropped map[string]int, first int) ([]EpisodeReport, error) {
	spans, err := dataset.Spans(ctx, src, ec)
	if err != nil {
		return nil, err
	}
	var out []EpisodeReport
	for _, sp := range spans {
		var rec *viz.Recorder
		if opts.Pictures != "" {
			rec = viz.NewRecorder(viz.RecorderConf{})
		}
		er, err := replayEpisode(ctx, src, sp, pol, ec, opts, lat, dropped, rec)
		if err != nil {
			return nil, fmt.Errorf("eval: %s episode %d: %w", path, sp.Index, err)
		}
		er.Path = path
		if rec != nil && rec.Steps() > 0 {
			caption := fmt.Sprintf("%s #%d: %d steps, mean L1 %.4f", filepath.Base(path), sp.Index, er.Metrics.N, er.Metrics.MeanL1)
			if err := rec.WriteEpisode(opts.Pictures, fmt.Sprintf("episode_%03d", first+len(out)), caption); err != nil {
				return nil, err
			}
		}
		out = append(out, er)
	}
	return out, nil
}

// episodeReplay runs one episode's steps through a fresh node controller.
type episodeReplay struct {
	ctrl *node.Controller
	lat  *latencies
	// now is the replay clock: the receive time at which the step's set
	// was synchronized, so the node's freshness checks see the recorded timing.
	now time.Time

	preds   [][Dims]float32 // first action of each accepted chunk
	labels  [][Dims]float32 // the step's action for each prediction
	stamps  []time.Time
	chunks  [][]float32 // full predicted chunk per prediction, [H*Dim]
	steps   []int       // step index of each prediction
	actions [][Dims]float32
	dim     int
	fails   int
}

func replayEpisode(ctx context.Context, src bag.Source, sp dataset.Span, pol policy.Policy, ec dataset.Config, opts Options, lat *latencies, dropped map[string]int, pictures *viz.Recorder) (EpisodeReport, error) {
	cfg := opts.Node
	r := &episodeReplay{lat: lat, now: sp.Start}
	clock := func() time.Time { return r.now }
	// The controller checks instruction changes against an assembler; the
	// steps' observations carry their own instruction (gen 0 throughout).
	idle, err := observe.New(cfg.Observe(), clock)
	if err != nil {
		return EpisodeReport{}, err
	}
	if r.ctrl, err = node.NewController(&cfg, timedPolicy{pol, lat}, idle, opts.Logger, clock); err != nil {
		return EpisodeReport{}, err
	}
	defer r.ctrl.Close()
	var pending *dataset.Step
	r.ctrl.OnChunk = func(c *msgs.ActionChunk) {
		var a [Dims]float32
		copy(a[:], c.Step(0))
		r.preds = append(r.preds, a)
		r.labels = append(r.labels, pending.Action)
		r.stamps = append(r.stamps, c.Stamp)
		r.steps = append(r.steps, len(r.actions)-1)
		r.chunks = append(r.chunks, append([]float32(nil), c.Values[:c.Horizon*c.Dim]...))
		r.dim = c.Dim
	}
	if pictures != nil {
		var plan []msgs.Pose
		r.ctrl.OnPerception = func(p *policy.Perception, obs *msgs.Observation, c *msgs.ActionChunk) {
			plan = perception.ChunkTargets(plan[:0], obs.EEPose, c)
			if err := pictures.Add(obs, p, plan); err != nil {
				opts.Logger.Warn("pictures: frame skipped", zap.Error(err))
			}
		}
	}
	derived := false
	last := time.Now()
	stats, err := dataset.ReadEpisode(ctx, src, sp, ec, func(s *dataset.Step) error {
		t0 := time.Now()
		lat.add(StageAssemble, t0.Sub(last))
		r.now, pending, derived = s.Set.SyncedAt, s, s.Derived
		r.actions = append(r.actions, s.Action)
		before := len(lat.samples[StagePredict])
		ok := r.ctrl.InferObservation(ctx, &s.Obs, s.Set)
		d := time.Since(t0)
		if !ok {
			r.fails++
		} else {
			lat.add(StageInference, d)
			if n := len(lat.samples[StagePredict]); n > before {
				lat.add(StagePrepare, d-lat.samples[StagePredict][n-1])
			}
		}
		last = time.Now()
		return nil
	})
	if err != nil {
		return EpisodeReport{}, err
	}
	er := EpisodeReport{Episode: sp.Index, Sets: stats.Sets, Predictions: len(r.preds), Failures: r.fails, Derived: derived}
	for reason, n := range stats.Dropped {
		er.Dropped += n
		dropped[reason] += n
	}
	r.score(&er, opts)
	return er, nil
}

// scoreHorizon compares every step of prediction i's chunk with the actions
// of the steps that follow it.
func (r *episodeReplay) scoreHorizon(er *EpisodeReport, i int) {
	c := r.chunks[i]
	h := len(c) / max(r.dim, 1)
	if r.dim < Dims {
		return
	}
	for len(er.HorizonL1) < h {
		er.HorizonL1 = append(er.HorizonL1, 0)
		er.horizonN = append(er.horizonN, 0)
	}
	j := r.steps[i]
	for k := 0; k < h && j+k < len(r.actions); k++ {
		rec := r.actions[j+k]
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
	for i, p := range r.preds {
		rec := r.labels[i]
		if !er.Derived {
			r.scoreHorizon(er, i)
		}
		er.Metrics.Add(p[:], rec[:], !er.Derived)
		if opts.KeepSeries {
			er.Steps = append(er.Steps, Step{Stamp: r.stamps[i], Predicted: p, Recorded: rec})
		}
	}
}
