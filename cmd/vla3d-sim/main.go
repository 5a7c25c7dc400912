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
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/sim"
	"github.com/vla3d/vla3d/sim/policyctl"
	"github.com/vla3d/vla3d/sim/record"
	"github.com/vla3d/vla3d/sim/rosio"
	"github.com/vla3d/vla3d/sim/rosnode"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "vla3d-sim:", err)
		os.Exit(1)
	}
}

// common holds the flags every mode shares.
type common struct {
	task, split     string
	severity        float64
	seed            uint64
	width, height   int
	hz              float64
	noLabels, debug bool
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
	fs.BoolVar(&c.debug, "debug", false, "debug logging")
}

func (c *common) spec() sim.EpisodeSpec {
	return sim.EpisodeSpec{Task: c.task, Split: c.split, Severity: c.severity, Seed: c.seed}
}

func (c *common) env(log *zap.Logger) (*sim.Env, error) {
	return sim.New(sim.Config{Width: c.width, Height: c.height, ControlHz: c.hz, SkipLabels: c.noLabels, Logger: log})
}

func (c *common) logger() (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	if c.debug {
		cfg.Level = zap.NewAtomicLevelAt(zap.DebugLevel)
	}
	return cfg.Build()
}

func taskNames() string {
	var n []string
	for _, t := range sim.Tasks() {
		n = append(n, t.Name)
	}
	return strings.Join(n, ", ")
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: vla3d-sim node|record|eval|render [flags]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "node":
		return runNode(ctx, args[1:])
	case "record":
		return runRecord(ctx, args[1:])
	case "eval":
		return runEval(ctx, args[1:])
	case "render":
		return runRender(ctx, args[1:])
	default:
		return fmt.Errorf("unknown mode %q (want node, record, eval or render)", args[0])
	}
}

// setup parses flags, validates the episode spec and builds logger and env.
func setup(fs *flag.FlagSet, c *common, args []string) (*zap.Logger, *sim.Env, error) {
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := (sim.EpisodeSpec{Task: c.task, Split: c.split, Severity: c.severity}).Validate(); err != nil {
		return nil, nil, err
	}
	log, err := c.logger()
	if err != nil {
		return nil, nil, fmt.Errorf("logger: %w", err)
	}
	env, err := c.env(log)
	if err != nil {
		return nil, nil, err
	}
	return log, env, nil
}

func runNode(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	var c common
	c.register(fs)
	topics := rosio.DefaultTopics()
	cfg := rosnode.Config{}
	fs.StringVar(&cfg.MasterAddress, "master", masterFromEnv(), "roscore host:port (default from ROS_MASTER_URI)")
	fs.StringVar(&cfg.Host, "host", os.Getenv("ROS_IP"), "this node's IP as seen by other nodes (default ROS_IP)")
	fs.StringVar(&cfg.Name, "name", "vla3d_sim", "node name")
	fs.StringVar(&topics.CommandPose, "command-pose", topics.CommandPose, "geometry_msgs/PoseStamped end-effector target topic")
	fs.StringVar(&topics.CommandGripper, "command-gripper", topics.CommandGripper, "std_msgs/Float64 gripper topic (0 open, 1 closed)")
	fs.BoolVar(&cfg.Expert, "expert", false, "drive with the scripted expert until an external command arrives")
	fs.BoolVar(&cfg.AutoReset, "auto-reset", false, "start the next episode after success or -max-steps")
	fs.IntVar(&cfg.MaxSteps, "max-steps", 300, "control steps per episode")
	registerTopics(fs, &topics)
	log, env, err := setup(fs, &c, args)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	defer env.Close()
	cfg.Topics, cfg.Logger = topics, log
	cfg.Name = rosName(fs.Args(), cfg.Name)
	cfg.Spec = sim.EpisodeSpec{Task: c.task, Split: c.split, Severity: c.severity, Seed: c.seed}
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

// rosName applies roslaunch's "__name:=NAME" remapping argument, if given.
func rosName(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "__name:="); ok && v != "" {
			name = v
		}
	}
	return name
}

func masterFromEnv() string {
	u := os.Getenv("ROS_MASTER_URI")
	u = strings.TrimPrefix(u, "http://")
	u = strings.TrimSuffix(u, "/")
	if u == "" {
		return "127.0.0.1:11311"
	}
	return u
}

func runRecord(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	var c common
	c.register(fs)
	topics := rosio.DefaultTopics()
	cfg := record.Config{}
	fs.StringVar(&cfg.Dir, "out", "demos", "output directory for .bag files")
	fs.IntVar(&cfg.Episodes, "episodes", 10, "episodes to record")
	fs.IntVar(&cfg.MaxSteps, "max-steps", 150, "control steps per episode")
	fs.BoolVar(&cfg.KeepFailed, "keep-failed", false, "keep bags of episodes the expert did not finish")
	fs.StringVar(&cfg.Compression, "compression", "", "bag chunk compression: none or lz4")
	registerTopics(fs, &topics)
	log, env, err := setup(fs, &c, args)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	defer env.Close()
	if cfg.Compression == "none" {
		cfg.Compression = ""
	}
	cfg.Task, cfg.Split, cfg.Severity, cfg.Seed, cfg.Topics, cfg.Logger = c.task, c.split, c.severity, c.seed, topics, log
	eps, err := record.Run(ctx, env, cfg)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(eps)
}

func runEval(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	var c common
	c.register(fs)
	cfg := sim.EvalConfig{}
	fs.IntVar(&cfg.Episodes, "episodes", 20, "episodes")
	fs.IntVar(&cfg.MaxSteps, "max-steps", 150, "control steps per episode")
	fs.IntVar(&cfg.ExecuteSteps, "execute", 0, "actions of each chunk to run before re-planning (0: whole chunk)")
	model := fs.String("model", "", "model.onnx (with its model.json sidecar) to evaluate; empty: the scripted expert")
	ortLib := fs.String("ort-lib", "", "ONNX Runtime library (default $VLA3D_ORT_LIB or the project-local install)")
	providers := fs.String("providers", "", "comma-separated ONNX Runtime execution providers in preference order")
	log, env, err := setup(fs, &c, args)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	defer env.Close()
	cfg.Task, cfg.Split, cfg.Severity, cfg.Seed = c.task, c.split, c.severity, c.seed
	factory := sim.ExpertFactory
	if *model != "" {
		opts := ort.Options{LibraryPath: *ortLib, Logger: log, NoiseSeed: c.seed}
		if *providers != "" {
			opts.Providers = strings.Split(*providers, ",")
		}
		p, err := ort.Load(*model, opts)
		if err != nil {
			return err
		}
		defer p.Close()
		factory = policyctl.Factory(p, preprocess.Options{})
	}
	res, err := sim.Evaluate(ctx, env, cfg, factory)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
