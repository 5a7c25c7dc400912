// Command vla3d-sim runs the MuJoCo simulated robot.
//
//	vla3d-sim node   [flags]  ROS 1 node: publishes cameras, tf, /ee_pose, /joint_states,
//	                          /instruction; executes /vla3d/command_pose + /vla3d/command_gripper
//	vla3d-sim record [flags]  scripted-expert demonstrations to ROS 1 bags (one per episode)
//	vla3d-sim eval   [flags]  closed-loop success rate on a split: the scripted expert, or
//	                          an exported model with -model model.onnx (ONNX Runtime)
//	vla3d-sim render [flags]  first observation of an episode as PNGs (colour, depth, labels)
//
// Run "vla3d-sim <mode> -h" for the flags of each mode.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/sim"
	"github.com/vla3d/vla3d/sim/policyctl"
	"github.com/vla3d/vla3d/sim/record"
	"github.com/vla3d/vla3d/sim/rosio"
	"github.com/vla3d/vla3d/sim/rosnode"
	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/viz"
)

const usage = `vla3d-sim: the MuJoCo simulated robot.

Usage:
  vla3d-sim node   [flags]  ROS 1 node: publishes cameras, tf, /ee_pose, /joint_states,
                            /instruction; executes /vla3d/command_pose + /vla3d/command_gripper
  vla3d-sim record [flags]  scripted-expert demonstrations to ROS 1 bags (one per episode)
  vla3d-sim eval   [flags]  closed-loop success rate on a split: the scripted expert, or
                            an exported model with -model model.onnx (ONNX Runtime)
  vla3d-sim render [flags]  first observation of an episode as PNGs (colour, depth, labels)
  vla3d-sim sweep  [flags]  t=0 layout sweep of -model model.onnx against the expert: does the
                            policy's first chunk follow the scene (correlation, spread ratio)?
  vla3d-sim ablation [flags] success of every -models row (name=model.onnx,...) on every -tasks x
                            -splits cell, same held-out seeds: ablation.md, .json and .png in -out

Run "vla3d-sim <mode> -h" for the flags of each mode. SIGINT/SIGTERM stop a
mode cleanly; a second signal exits at once.

Exit status: 0 on success or -h, 1 on an error, 2 on a usage error, 128+n
when interrupted by signal n.
`

func main() { os.Exit(cli.Main("vla3d-sim", run)) }

// common holds the flags every mode shares.
type common struct {
	task, split   string
	severity      float64
	seed          uint64
	width, height int
	hz            float64
	noLabels      bool
	logLevel      *string
	stdout        io.Writer // help and results
	stderr        io.Writer // logs
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.task, "task", sim.TaskPickPlace, "task: "+taskNames())
	fs.StringVar(&c.split, "split", sim.SplitNone, "perturbation split: "+strings.Join(sim.Splits(), ", "))
	fs.Float64Var(&c.severity, "severity", 0.5, "perturbation severity in [0,1]")
	fs.Uint64Var(&c.seed, "seed", 0, "seed of the first episode")
	fs.IntVar(&c.width, "width", 128, "image width of every camera")
	fs.IntVar(&c.height, "height", 128, "image height of every camera")
	fs.Float64Var(&c.hz, "hz", 10, "control rate (Hz)")
	fs.BoolVar(&c.noLabels, "no-labels", false, "do not render instance segmentation")
	c.logLevel = cli.LogFlags(fs, cli.LogConf{DebugAlias: true})
}

func (c *common) spec() sim.EpisodeSpec {
	return sim.EpisodeSpec{Task: c.task, Split: c.split, Severity: c.severity, Seed: c.seed}
}

func (c *common) env(log *zap.Logger) (*sim.Env, error) {
	return sim.New(sim.Config{Width: c.width, Height: c.height, ControlHz: c.hz, SkipLabels: c.noLabels, Logger: log})
}

func taskNames() string {
	var n []string
	for _, t := range sim.Tasks() {
		n = append(n, t.Name)
	}
	return strings.Join(n, ", ")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cli.Usage("vla3d-sim", errors.New("no mode given (want node, record, eval, sweep, render or ablation)"))
	}
	mode, args := args[0], args[1:]
	c := &common{stdout: stdout, stderr: stderr}
	switch mode {
	case "node":
		return runNode(ctx, c, args)
	case "record":
		return runRecord(ctx, c, args)
	case "eval":
		return runEval(ctx, c, args)
	case "sweep":
		return runSweep(ctx, c, args)
	case "render":
		return runRender(ctx, c, args)
	case "ablation":
		return runAblation(ctx, c, args)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	default:
		return cli.Usage("vla3d-sim", fmt.Errorf("unknown mode %q (want node, record, eval, sweep, render or ablation)", mode))
	}
}

// newFlags is the flag set of a mode, with the common flags.
func newFlags(mode string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet("vla3d-sim "+mode, flag.ContinueOnError)
	c.register(fs)
	return fs
}

// parse parses a mode's flags (help to stdout) and validates the episode
// spec they give.
func (c *common) parse(fs *flag.FlagSet, args []string) error {
	if err := cli.Parse(fs, args, c.stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usage(fs.Name(), fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return c.validate(fs)
}

// validate checks the episode spec the flags give.
func (c *common) validate(fs *flag.FlagSet) error {
	return cli.Usage(fs.Name(), (sim.EpisodeSpec{Task: c.task, Split: c.split, Severity: c.severity}).Validate())
}

// modelSize renders at the model's input size (its sidecar) unless -width
// or -height were given: a policy evaluated at another render size than it
// was trained on sees other pixels (a memorised policy fails on that alone).
func (c *common) modelSize(fs *flag.FlagSet, model string) error {
	if model == "" {
		return nil
	}
	given := cli.GivenFlags(fs)
	if given["width"] || given["height"] {
		return nil
	}
	spec, err := ort.LoadSpec(model)
	if err != nil {
		return err
	}
	c.width, c.height = spec.ImageWidth, spec.ImageHeight
	return nil
}

// setup builds the logger and the simulator once the flags are parsed.
func (c *common) setup() (*zap.Logger, *sim.Env, error) {
	log, err := cli.Logger(*c.logLevel, c.stderr)
	if err != nil {
		return nil, nil, err
	}
	env, err := c.env(log)
	if err != nil {
		return nil, nil, err
	}
	return log, env, nil
}

// nodeFlags are vla3d-sim node's own flags.
type nodeFlags struct {
	master, host, name, transport string
	model                         string
	cfg                           rosnode.Config
	remap                         cli.Remapping
	set                           map[string]bool
}

func parseNode(c *common, args []string) (*nodeFlags, error) {
	fs := newFlags("node", c)
	n := &nodeFlags{}
	cfg := &n.cfg
	cfg.Topics = rosio.DefaultTopics()
	cfg.ROS2 = transport.DefaultROS2Settings()
	fs.StringVar(&n.transport, "transport", "ros2", "ros2 (DDS: ROS_DOMAIN_ID, ROS_LOCALHOST_ONLY=1, ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, CYCLONEDDS_URI apply) or ros1 (a ROS master)")
	fs.IntVar(&cfg.ROS2.DomainID, "domain-id", -1, "ROS 2 domain id (-1: $ROS_DOMAIN_ID, else 0)")
	fs.BoolVar(&cfg.ROS2.LocalhostOnly, "localhost-only", false, "ROS 2: keep all DDS traffic on the loopback interface (also ROS_LOCALHOST_ONLY=1)")
	fs.StringVar(&n.master, "master", "", "ROS 1 master URI or host:port (default __master:=, $ROS_MASTER_URI, http://127.0.0.1:11311)")
	fs.StringVar(&n.host, "host", "", "this node's address as seen by other nodes (default __ip:=, __hostname:=, $ROS_IP, $ROS_HOSTNAME)")
	fs.StringVar(&n.name, "name", "vla3d_sim", "node name (roslaunch's __name:= when not given)")
	fs.StringVar(&cfg.Topics.CommandPose, "command-pose", cfg.Topics.CommandPose, "geometry_msgs/PoseStamped end-effector target topic")
	fs.StringVar(&cfg.Topics.CommandGripper, "command-gripper", cfg.Topics.CommandGripper, "std_msgs/Float64 gripper topic (0 open, 1 closed)")
	fs.BoolVar(&cfg.Expert, "expert", false, "drive with the scripted expert until an external command arrives")
	fs.BoolVar(&cfg.AutoReset, "auto-reset", false, "start the next episode after success or -max-steps")
	fs.IntVar(&cfg.MaxSteps, "max-steps", 300, "control steps per episode")
	fs.DurationVar(&cfg.ResetSettle, "reset-settle", 2*time.Second, "with -auto-reset: how long after a reset external commands are ignored, as while a robot homes (a policy node holds the last episode's target for about a second after the pose jumps)")
	fs.StringVar(&n.model, "model", "", "model.onnx of the policy node that will drive this robot: its sidecar sets the cameras' image size (the size it was trained at; -width/-height override), the policy itself runs in vla3d-node")
	registerTopics(fs, &cfg.Topics)
	remap, err := cli.ParseROS(fs, args, c.stdout)
	if err != nil {
		return nil, err
	}
	if err := c.modelSize(fs, n.model); err != nil {
		return nil, err
	}
	if err := c.validate(fs); err != nil {
		return nil, err
	}
	if ns := remap.Namespace; ns != "" && ns != "/" {
		return nil, cli.Usage(fs.Name(), fmt.Errorf("__ns:=%s: namespaced nodes are not supported", ns))
	}
	if cfg.Transport, err = transport.ParseKind(n.transport); err != nil {
		return nil, cli.Usage(fs.Name(), err)
	}
	if err := cfg.ROS2.Validate(); err != nil {
		return nil, cli.Usage(fs.Name(), err)
	}
	n.remap, n.set = remap, cli.GivenFlags(fs)
	return n, nil
}

// resolve sets the node name, master (host:port) and host: flag,
// remapping argument, environment, default.
func (n *nodeFlags) resolve(getenv func(string) string) error {
	var given cli.NodeSettings
	if n.set["name"] {
		given.Name = n.name
	}
	if n.set["master"] {
		given.Master = n.master
	}
	if n.set["host"] {
		given.Host = n.host
	}
	ros, err := cli.ResolveNode(cli.NodeConf{Flags: given, Remap: n.remap, DefaultName: n.name, Getenv: getenv})
	if err != nil {
		return err
	}
	n.cfg.Name, n.cfg.MasterAddress, n.cfg.Host = ros.Name, ros.Master, ros.Host
	return nil
}

func runNode(ctx context.Context, c *common, args []string) error {
	n, err := parseNode(c, args)
	if err != nil {
		return err
	}
	if err := n.resolve(os.Getenv); err != nil {
		return err
	}
	log, env, err := c.setup()
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	defer env.Close()
	cfg := n.cfg
	cfg.Logger, cfg.Getenv = log, os.Getenv
	cfg.Spec = c.spec()
	return rosnode.Run(ctx, env, cfg)
}

func registerTopics(fs *flag.FlagSet, t *rosio.Topics) {
	fs.StringVar(&t.BaseFrame, "base-frame", t.BaseFrame, "robot base frame")
	fs.StringVar(&t.EEFrame, "ee-frame", t.EEFrame, "end-effector frame")
	fs.StringVar(&t.Instruction, "instruction-topic", t.Instruction, "latched instruction topic")
	fs.StringVar(&t.EEPose, "ee-pose-topic", t.EEPose, "end-effector pose topic")
	fs.StringVar(&t.JointStates, "joint-states-topic", t.JointStates, "joint states topic")
	fs.StringVar(&t.ExpertAction, "expert-action-topic", t.ExpertAction, "expert action topic (record)")
	fs.StringVar(&t.Episode, "episode-topic", t.Episode, "episode marker topic")
	fs.StringVar(&t.Depth, "depth-encoding", t.Depth, "depth encoding: 32FC1 (m) or 16UC1 (mm)")
}

func runRecord(ctx context.Context, c *common, args []string) error {
	fs := newFlags("record", c)
	topics := rosio.DefaultTopics()
	cfg := record.Config{}
	fs.StringVar(&cfg.Dir, "out", "demos", "output directory for .bag files")
	fs.IntVar(&cfg.Episodes, "episodes", 10, "episodes to record")
	fs.IntVar(&cfg.MaxSteps, "max-steps", 150, "control steps per episode")
	fs.BoolVar(&cfg.KeepFailed, "keep-failed", false, "keep bags of episodes the expert did not finish")
	fs.Float64Var(&cfg.DARTNoise, "dart", 0, "DART noise: standard deviation (m per step) added to the executed translation while the expert's own action is recorded, so demonstrations include recoveries (e.g. 0.005)")
	fs.StringVar(&cfg.Compression, "compression", "", "bag chunk compression: none or lz4")
	driver := fs.String("driver", "", "DAgger: model.onnx whose actions are executed while the expert's action in every state it visits is recorded (episodes kept whether or not they succeed)")
	fs.IntVar(&cfg.DriverExecute, "execute", nodeReplanEvery(), "with -driver: actions of each chunk to run before the driver acts again (0: whole chunk; the default is vla3d-sim eval's)")
	ortLib := cli.ORTLibFlag(fs)
	fs.StringVar(&cfg.Format, "format", record.FormatBag, "recording format: bag (ROS 1), rosbag2 (ROS 2 directory, MCAP storage) or rosbag2-sqlite3 (.db3 storage, as Humble records)")
	registerTopics(fs, &topics)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	s, err := c.open(fs, *driver, *ortLib, "")
	if err != nil {
		return err
	}
	defer s.close()
	if s.policy != nil {
		cfg.Driver = policyctl.Factory(s.policy, preprocess.Options{})
	}
	if cfg.Compression == "none" {
		cfg.Compression = ""
	}
	cfg.Task, cfg.Split, cfg.Severity, cfg.Seed, cfg.Topics, cfg.Logger = c.task, c.split, c.severity, c.seed, topics, s.log
	eps, err := record.Run(ctx, s.env, cfg)
	if err != nil {
		return err
	}
	return json.NewEncoder(c.stdout).Encode(eps)
}

func runEval(ctx context.Context, c *common, args []string) error {
	fs := newFlags("eval", c)
	cfg := sim.EvalConfig{}
	fs.IntVar(&cfg.Episodes, "episodes", 20, "episodes")
	fs.IntVar(&cfg.MaxSteps, "max-steps", 150, "control steps per episode")
	fs.IntVar(&cfg.ExecuteSteps, "execute", nodeReplanEvery(), "actions of each chunk to run before re-planning (0: whole chunk): vla3d-node's execution.mode replan with replan_every N, its default")
	ensemble := fs.Bool("ensemble", false, "execute as vla3d-node's execution.mode ensemble, with its executor: infer every step, ACT-average the overlapping chunks (decay -ensemble-decay)")
	decay := fs.Float64("ensemble-decay", node.DefaultConfig().Execution.EnsembleDecay, "with -ensemble: m in ACT's weights w_i = exp(-m i), i = 0 the oldest chunk (vla3d-node's execution.ensemble_decay)")
	model := fs.String("model", "", "model.onnx (with its model.json sidecar) to evaluate; empty: the scripted expert")
	ortLib := cli.ORTLibFlag(fs)
	providers := fs.String("providers", "", "comma-separated ONNX Runtime execution providers in preference order")
	trace := fs.Bool("trace", false, "log every inference of a -model run: what the policy saw (end-effector pose, gripper), perceived (anchors, confident instances) and commanded (the chunk's first action, its gripper values)")
	truth := fs.Bool("trace-truth", false, "with -trace, also log each object's true position (truth_<name>), to measure the anchors' error and the gripper's offset; diagnosis only, the policy never sees it")
	pictures := fs.String("pictures", "", "directory for per-episode pictures of a -model run: episode_NNN.gif (every camera with the instances, completion points and planned path the policy saw, projected by its camera model; success or failure reason) and episode_NNN_top.png (top-down end-effector path against the true and predicted objects)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if (*pictures != "" || *trace || *ensemble) && *model == "" {
		return cli.Usage("vla3d-sim eval", errors.New("-pictures, -trace and -ensemble need -model (the scripted expert perceives nothing and acts one step at a time)"))
	}
	if *ensemble && cli.GivenFlags(fs)["execute"] {
		return cli.Usage("vla3d-sim eval", errors.New("-ensemble infers every step: it excludes -execute"))
	}
	s, err := c.open(fs, *model, *ortLib, *providers)
	if err != nil {
		return err
	}
	defer s.close()
	cfg.Task, cfg.Split, cfg.Severity, cfg.Seed = c.task, c.split, c.severity, c.seed
	factory := sim.ExpertFactory
	if s.policy != nil {
		var hooks []stepHook
		if *pictures != "" {
			hooks = append(hooks, picturing(*pictures, &cfg, s.log))
		}
		if *trace {
			hooks = append(hooks, tracing(s.log, *truth))
		}
		factory = observing(s.policy, hooks)
		if *ensemble {
			exec := node.DefaultConfig().Execution
			exec.Mode, exec.EnsembleDecay = contract.ExecEnsemble, *decay
			factory = ensembling(factory, exec, s.policy.Spec().Horizon)
		}
	}
	res, err := sim.Evaluate(ctx, s.env, cfg, factory)
	if err != nil {
		return err
	}
	return c.printJSON(res)
}

// runSweep runs the t=0 layout sweep (sim.LayoutSweep) of a model on
// -episodes seeds from -seed: seeds the model never trained on tell whether
// it looks at the scene before hours are spent on it.
func runSweep(ctx context.Context, c *common, args []string) error {
	fs := newFlags("sweep", c)
	n := fs.Int("episodes", 20, "layouts (seeds -seed, -seed+1, ...)")
	model := fs.String("model", "", "model.onnx (with its model.json sidecar) to sweep (required)")
	ortLib := cli.ORTLibFlag(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return cli.Usage("vla3d-sim sweep", errors.New("-model is required"))
	}
	s, err := c.open(fs, *model, *ortLib, "")
	if err != nil {
		return err
	}
	defer s.close()
	seeds := make([]uint64, *n)
	for i := range seeds {
		seeds[i] = c.seed + uint64(i)
	}
	res, err := sim.LayoutSweep(ctx, s.env, sim.EpisodeSpec{Task: c.task, Split: c.split, Severity: c.severity}, seeds,
		policyctl.Factory(s.policy, preprocess.Options{}))
	if err != nil {
		return err
	}
	if err := c.printJSON(res); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "t=0 layout sweep over %d seeds from %d: correlation x %.2f y %.2f, spread ratio x %.2f y %.2f (1, 1: follows the scene like the expert; ratio 0: ignores it)\n",
		len(seeds), c.seed, res.Corr[0], res.Corr[1], res.SpreadRatio[0], res.SpreadRatio[1])
	return nil
}

// stepHook makes, for the simulator env, a function told of every inference
// (policyctl.Controller.OnStep).
type stepHook func(env *sim.Env) func(obs *msgs.Observation, perc *policy.Perception, chunk *msgs.ActionChunk)

// observing is a policyctl factory whose controller tells every hook of
// every inference.
func observing(p policy.Policy, hooks []stepHook) sim.Factory {
	return func(env *sim.Env) (sim.Controller, error) {
		c, err := policyctl.New(p, env, preprocess.Options{})
		if err != nil || len(hooks) == 0 {
			return c, err
		}
		fns := make([]func(*msgs.Observation, *policy.Perception, *msgs.ActionChunk), len(hooks))
		for i, h := range hooks {
			fns[i] = h(env)
		}
		c.OnStep = func(obs *msgs.Observation, perc *policy.Perception, chunk *msgs.ActionChunk) {
			for _, f := range fns {
				f(obs, perc, chunk)
			}
		}
		return c, nil
	}
}

// nodeReplanEvery is how many actions of a chunk vla3d-node executes
// before it re-plans by default (its execution.replan_every in replan
// mode), so the simulator's evaluations measure what the node does.
func nodeReplanEvery() int {
	if e := node.DefaultConfig().Execution; e.Mode == contract.ExecReplan {
		return e.ReplanEvery
	}
	return 0
}

// ensembling runs the controllers of inner through vla3d-node's chunk
// executor in ensemble mode (policyctl.Ensembled).
func ensembling(inner sim.Factory, exec node.ExecutionConfig, horizon int) sim.Factory {
	return func(env *sim.Env) (sim.Controller, error) {
		c, err := inner(env)
		if err != nil {
			return nil, err
		}
		return policyctl.NewEnsembled(c, env, exec, horizon)
	}
}

// picturing records every episode's pictures into dir (see -pictures), the
// true object positions taken from the simulator's state (for the picture
// only).
func picturing(dir string, cfg *sim.EvalConfig, log *zap.Logger) stepHook {
	rec := viz.NewRecorder(viz.RecorderConf{})
	var plan []msgs.Pose
	cfg.OnEpisode = func(i int, r sim.EpisodeRecord) error {
		outcome := "failure"
		if r.Success {
			outcome = "success"
		}
		caption := fmt.Sprintf("seed %d %s: %s after %d steps", r.Spec.Seed, outcome, r.Reason, r.Steps)
		err := rec.WriteEpisode(dir, fmt.Sprintf("episode_%03d", i), caption)
		rec = viz.NewRecorder(viz.RecorderConf{})
		return err
	}
	return func(env *sim.Env) func(*msgs.Observation, *policy.Perception, *msgs.ActionChunk) {
		return func(obs *msgs.Observation, perc *policy.Perception, chunk *msgs.ActionChunk) {
			plan = perception.ChunkTargets(plan[:0], obs.EEPose, chunk)
			if err := rec.Add(obs, perc, plan); err != nil {
				log.Warn("pictures: frame skipped", zap.Error(err))
			}
			for _, o := range env.State().Objects {
				rec.SetTruth(o.Name, o.Pos)
			}
		}
	}
}

// tracing logs every inference (see -trace): what the policy saw,
// perceived and commanded and, with truth (-trace-truth), the simulator's
// object positions beside them, for diagnosis: the policy never sees those.
func tracing(log *zap.Logger, truth bool) stepHook {
	return func(env *sim.Env) func(*msgs.Observation, *policy.Perception, *msgs.ActionChunk) {
		return func(obs *msgs.Observation, perc *policy.Perception, chunk *msgs.ActionChunk) {
			grip := make([]float32, chunk.Horizon)
			for h := range grip {
				grip[h] = chunk.Values[h*chunk.Dim+msgs.ActionGripper]
			}
			fields := []zap.Field{zap.Int("step", env.Steps()), zap.Float64s("ee", obs.EEPose.Position[:]),
				zap.Float64("gripper", obs.Gripper), zap.Float32s("action", chunk.Values[:chunk.Dim]), zap.Float32s("chunk_gripper", grip)}
			if perc != nil {
				fields = append(fields, zap.Float32s("anchors", perc.Anchors))
				for i := range perc.Instances() {
					if perc.Scores[i] >= 0.5 {
						fields = append(fields, zap.Float32s(fmt.Sprintf("instance_%d", i), perc.Points[3*i:3*i+3]))
					}
				}
			}
			if truth {
				for _, o := range env.State().Objects {
					fields = append(fields, zap.Float64s("truth_"+o.Name, o.Pos[:]))
				}
			}
			log.Info("inference", fields...)
		}
	}
}

// modelSession is what a model-running command works with: its logger, the
// simulator rendering at the model's input size and, with -model, the
// policy (nil for the scripted expert).
type modelSession struct {
	log    *zap.Logger
	env    *sim.Env
	policy *ort.Policy
}

// open sizes the renders from model's sidecar, then starts the logger, the
// simulator and, when model is set, ONNX Runtime with providers
// (comma-separated; empty: the defaults).
func (c *common) open(fs *flag.FlagSet, model, ortLib, providers string) (*modelSession, error) {
	if err := c.modelSize(fs, model); err != nil {
		return nil, err
	}
	lib, err := cli.UseORTLib(cli.ORTLibConf{Flag: ortLib})
	if err != nil {
		return nil, err
	}
	log, env, err := c.setup()
	if err != nil {
		return nil, err
	}
	s := &modelSession{log: log, env: env}
	if model == "" {
		return s, nil
	}
	opts := ort.Options{LibraryPath: lib, Logger: log, NoiseSeed: c.seed}
	if providers != "" {
		opts.Providers = strings.Split(providers, ",")
	}
	if s.policy, err = ort.Load(model, opts); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// close releases the policy and the simulator; their errors are logged (the
// command's result is already out).
func (s *modelSession) close() {
	if s.policy != nil {
		if err := s.policy.Close(); err != nil {
			s.log.Warn("closing the policy", zap.Error(err))
		}
	}
	if err := s.env.Close(); err != nil {
		s.log.Warn("closing the simulator", zap.Error(err))
	}
	s.log.Sync() //nolint:errcheck // stderr sync errors are not actionable
}

// printJSON writes v to stdout, indented.
func (c *common) printJSON(v any) error { return writeJSON(c.stdout, v) }

// writeJSON writes v to w, indented.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
