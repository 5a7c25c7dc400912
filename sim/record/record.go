// Package record writes scripted-expert demonstrations of the simulated
// robot to ROS 1 bag files or ROS 2 rosbag2 recordings (MCAP or sqlite3
// storage, CDR): one recording per episode, holding every camera's
// colour, depth, calibration and instance labels, tf, end-effector pose,
// joint states, the instruction, the expert action of every control step,
// the scene's objects and their true poses, and start/end episode markers.
package record

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/bag/rosbag2"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/sim"
	"github.com/vla3d/vla3d/sim/rosio"
)

// Config selects what to record.
type Config struct {
	Dir      string // output directory (created)
	Task     string
	Split    string
	Severity float64
	Episodes int
	Seed     uint64 // episode i uses Seed+i
	MaxSteps int    // per episode (default 150)
	// KeepFailed keeps bags of episodes the expert did not finish (they are
	// deleted by default so datasets hold only demonstrations).
	KeepFailed  bool
	Topics      rosio.Topics
	Compression string // "" (none) or "lz4", as the bag package writes (ROS 1 bags)
	// Format is FormatBag (ROS 1 .bag files, the default), FormatRosbag2
	// (rosbag2 directories with MCAP storage, as ROS 2 Iron+ records) or
	// FormatRosbag2SQLite (sqlite3 .db3 storage, as Humble records).
	Format string
	// DARTNoise (metres per control step, standard deviation) perturbs the
	// executed translation of every step, DART-style: the recorded action is
	// the expert's own, so the demonstrations show it correcting from states
	// off its nominal path (recoveries a policy will need). 0 records the
	// expert's nominal path. The noise is seeded by the episode's seed.
	DARTNoise float64
	// Driver, when set, builds the controller whose actions are executed
	// (a trained policy: DAgger) while the expert's action in every state it
	// visits is what is recorded, so the recordings teach the policy to
	// recover from the states it drives itself into. A driver's chunk runs
	// DriverExecute actions (0: all of it) before it acts again. Episodes a
	// driver fails are kept: their labels are the expert's.
	Driver        sim.Factory
	DriverExecute int
	// OnObservation, when set, is called with every observation recorded,
	// right after it is rendered (before the expert acts on it); an error
	// ends the recording. It must not retain obs.
	OnObservation func(env *sim.Env, obs *msgs.Observation) error
	Logger        *zap.Logger
}

// Recording formats.
const (
	FormatBag           = "bag"
	FormatRosbag2       = "rosbag2"
	FormatRosbag2SQLite = "rosbag2-sqlite3"
)

// Episode is the outcome of one recorded episode.
type Episode struct {
	Path    string // empty when the bag was deleted
	Spec    sim.EpisodeSpec
	Success bool
	Steps   int
}

// Run records cfg.Episodes expert episodes on env.
func Run(ctx context.Context, env *sim.Env, cfg Config) ([]Episode, error) {
	if cfg.Episodes <= 0 {
		return nil, fmt.Errorf("record: episodes must be positive, got %d", cfg.Episodes)
	}
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = 150
	}
	if cfg.Topics == (rosio.Topics{}) {
		cfg.Topics = rosio.DefaultTopics()
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	switch cfg.Format {
	case "":
		cfg.Format = FormatBag
	case FormatBag, FormatRosbag2, FormatRosbag2SQLite:
	default:
		return nil, fmt.Errorf("record: unknown format %q (%s, %s, %s)", cfg.Format, FormatBag, FormatRosbag2, FormatRosbag2SQLite)
	}
	probe := sim.EpisodeSpec{Task: cfg.Task, Split: cfg.Split, Severity: cfg.Severity}
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	expert := sim.NewExpert(env)
	var driver sim.Controller
	if cfg.Driver != nil {
		var err error
		if driver, err = cfg.Driver(env); err != nil {
			return nil, fmt.Errorf("record: driver: %w", err)
		}
	}
	var out []Episode
	for i := 0; i < cfg.Episodes; i++ {
		spec := probe
		spec.Seed = cfg.Seed + uint64(i)
		path := filepath.Join(cfg.Dir, fmt.Sprintf("%s_%s_s%03d_%06d", spec.Task, spec.Split, int(spec.Severity*100), spec.Seed))
		if cfg.Format == FormatBag {
			path += ".bag"
		}
		ep, err := episode(ctx, env, expert, driver, spec, i, path, cfg)
		if err != nil {
			return out, err
		}
		if !ep.Success && !cfg.KeepFailed && driver == nil {
			if err := os.RemoveAll(path); err != nil {
				return out, fmt.Errorf("record: remove failed episode: %w", err)
			}
			ep.Path = ""
		}
		cfg.Logger.Info("recorded episode", zap.Int("episode", i), zap.Uint64("seed", spec.Seed),
			zap.Bool("success", ep.Success), zap.Int("steps", ep.Steps), zap.String("bag", ep.Path))
		out = append(out, ep)
	}
	return out, nil
}

// episode records one episode into a new bag at path.
func episode(ctx context.Context, env *sim.Env, expert *sim.Expert, driver sim.Controller, spec sim.EpisodeSpec, index int, path string, cfg Config) (ep Episode, err error) {
	ep = Episode{Path: path, Spec: spec}
	if err := env.Reset(ctx, spec); err != nil {
		return ep, err
	}
	w, err := createWriter(path, cfg)
	if err != nil {
		return ep, fmt.Errorf("record: %w", err)
	}
	defer func() {
		if cerr := w.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("record: close bag: %w", cerr)
		}
	}()
	t := cfg.Topics
	rng := rand.New(rand.NewPCG(spec.Seed, 0xDA27))
	var drive chunkRunner
	static := map[string]bool{}
	for _, c := range env.Scene().Cameras {
		static[c.Name] = !c.Wrist
	}
	obs, err := env.Observe(ctx)
	if err != nil {
		return ep, err
	}
	stamp := obs.Stamp
	ev := rosio.EpisodeEvent{Event: "start", Episode: index, Task: spec.Task, Split: spec.Split,
		Severity: spec.Severity, Seed: spec.Seed, Instruction: obs.Instruction}
	start, err := t.EpisodeMsg(ev)
	if err != nil {
		return ep, err
	}
	objs, err := t.ObjectsMsg(rosio.SceneObjects(env.Scene()))
	if err != nil {
		return ep, err
	}
	for _, m := range []rosio.Message{start, t.InstructionMsg(obs.Instruction), t.StaticTFMsg(obs, static, stamp), objs} {
		if err := w.write(m, stamp); err != nil {
			return ep, err
		}
	}
	for {
		if cfg.OnObservation != nil {
			if err := cfg.OnObservation(env, obs); err != nil {
				return ep, fmt.Errorf("record: observation hook: %w", err)
			}
		}
		ms, err := t.ObservationMsgs(obs, sim.JointNames(), static, obs.Stamp)
		if err != nil {
			return ep, err
		}
		ms = append(ms, t.ObjectPosesMsg(rosio.StatePoses(env.State()), obs.Stamp))
		for _, m := range ms {
			if err := w.write(m, obs.Stamp); err != nil {
				return ep, err
			}
		}
		if ok, _ := env.Success(); ok {
			ep.Success = true
			break
		}
		if env.Steps() >= cfg.MaxSteps {
			break
		}
		a, err := expert.Action(ctx)
		if err != nil {
			return ep, err
		}
		am, err := t.ExpertActionMsg(a)
		if err != nil {
			return ep, err
		}
		// The action is stamped with the observation it answers.
		if err := w.write(am, obs.Stamp); err != nil {
			return ep, err
		}
		exec := a
		if driver != nil {
			if exec, err = drive.next(ctx, driver, obs, cfg.DriverExecute); err != nil {
				return ep, fmt.Errorf("record: driver: %w", err)
			}
		}
		if cfg.DARTNoise > 0 {
			exec = append([]float32(nil), exec...)
			for k := msgs.ActionDX; k <= msgs.ActionDZ; k++ {
				exec[k] += float32(cfg.DARTNoise * rng.NormFloat64())
			}
		}
		if err := env.Step(ctx, exec); err != nil {
			return ep, err
		}
		if obs, err = env.Observe(ctx); err != nil {
			return ep, err
		}
	}
	ep.Steps = env.Steps()
	ev.Event, ev.Success, ev.Steps = "end", &ep.Success, ep.Steps
	end, err := t.EpisodeMsg(ev)
	if err != nil {
		return ep, err
	}
	if err := w.write(end, obs.Stamp); err != nil {
		return ep, err
	}
	return ep, nil
}

// writer writes one episode's recording.
type writer interface {
	write(m rosio.Message, t time.Time) error
	Close() error
}

func createWriter(path string, cfg Config) (writer, error) {
	switch cfg.Format {
	case FormatRosbag2, FormatRosbag2SQLite:
		storage := rosbag2.StorageMCAP
		if cfg.Format == FormatRosbag2SQLite {
			storage = rosbag2.StorageSQLite
		}
		w, err := rosbag2.Create(path, rosbag2.WriterOptions{Storage: storage})
		if err != nil {
			return nil, err
		}
		return rosbag2Writer{w}, nil
	}
	w, err := bag.Create(path, bag.WriterOptions{Compression: cfg.Compression})
	if err != nil {
		return nil, err
	}
	return &bagWriter{w: w}, nil
}

type rosbag2Writer struct{ *rosbag2.Writer }

// write records m; latched topics are marked transient local.
func (w rosbag2Writer) write(m rosio.Message, t time.Time) error {
	if err := w.WriteMsg(m.Topic, t, m.Msg, m.Latch); err != nil {
		return fmt.Errorf("record: %s: %w", m.Topic, err)
	}
	return nil
}

type bagWriter struct {
	w     *bag.Writer
	types bag.TypeCache
}

func (b *bagWriter) Close() error { return b.w.Close() }

// write writes m, registering its connection as latched when m is (so
// rosbag play re-latches /instruction and /tf_static).
func (b *bagWriter) write(m rosio.Message, t time.Time) error {
	w, types := b.w, &b.types
	ti, err := types.Info(m.Msg)
	if err != nil {
		return fmt.Errorf("record: %s: %w", m.Topic, err)
	}
	c, err := w.Connection(m.Topic, ti.Type, ti.MD5Sum, ti.Def, "/vla3d_sim", m.Latch)
	if err != nil {
		return fmt.Errorf("record: %s: %w", m.Topic, err)
	}
	data, err := bag.EncodeROS1(m.Msg)
	if err != nil {
		return fmt.Errorf("record: %s: %w", m.Topic, err)
	}
	if err := w.Write(c, t, data); err != nil {
		return fmt.Errorf("record: %s: %w", m.Topic, err)
	}
	return nil
}

// chunkRunner executes a driver's chunks: it asks for a chunk when the last
// one has run its course and hands out one action a step.
type chunkRunner struct {
	chunk msgs.ActionChunk
	pos   int
	limit int
}

// next returns the action to execute in the state obs.
func (r *chunkRunner) next(ctx context.Context, driver sim.Controller, obs *msgs.Observation, execute int) ([]float32, error) {
	if r.pos >= r.limit {
		c, err := driver.Act(ctx, obs)
		if err != nil {
			return nil, err
		}
		if c.Horizon < 1 || c.Dim != msgs.EEActionDim || len(c.Values) < c.Horizon*c.Dim {
			return nil, fmt.Errorf("chunk of %d x %d actions (%d values), want %d-dim actions", c.Horizon, c.Dim, len(c.Values), msgs.EEActionDim)
		}
		r.chunk, r.pos, r.limit = c, 0, c.Horizon
		if execute > 0 {
			r.limit = min(execute, c.Horizon)
		}
	}
	a := r.chunk.Values[r.pos*r.chunk.Dim : (r.pos+1)*r.chunk.Dim]
	r.pos++
	return a, nil
}
