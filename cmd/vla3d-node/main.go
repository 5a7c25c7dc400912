// Command vla3d-node runs the 3DVLA policy as a ROS 1 node: it subscribes to
// the configured RGB-D cameras, tf, the end-effector pose, joint states and
// the instruction, runs the ONNX model asynchronously, and publishes
// commands, the action chunk and /diagnostics. See node.Config and
// launch/vla3d_node.yaml for every setting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"gopkg.in/yaml.v3"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/policy/ort"
)

const usage = `vla3d-node: the 3DVLA policy as a ROS 1 node.

Usage:
  vla3d-node --config launch/vla3d_node.yaml [flags]

The YAML config (see launch/vla3d_node.yaml) sets everything; flags given on
the command line override it. Without --config the built-in defaults are used
(one camera "front" with the DESIGN.md topics). The ROS master comes from
--master, the config's master_uri, or $ROS_MASTER_URI; this host's address
from --host, the config, $ROS_IP or $ROS_HOSTNAME. roslaunch's __name:=NAME
argument sets the node name.

On SIGINT/SIGTERM the node publishes a stop (hold at the current pose) and
exits cleanly.

Flags:
`

// options are the command-line overrides.
type options struct {
	config, model, master, host, name, mode, output, cameras, instruction, providers, logLevel string
	rate                                                                                       float64
	threads                                                                                    int
	printConfig, check                                                                         bool
}

func parseFlags(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("vla3d-node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.config, "config", "", "YAML configuration file (node.Config); flags override it")
	fs.StringVar(&o.model, "model", "", "model.onnx to run (its model.json sidecar must sit next to it)")
	fs.StringVar(&o.master, "master", "", "ROS master URI, e.g. http://127.0.0.1:11311 (default $ROS_MASTER_URI)")
	fs.StringVar(&o.host, "host", "", "address other nodes reach this node at (default $ROS_IP / $ROS_HOSTNAME)")
	fs.StringVar(&o.name, "name", "", "ROS node name")
	fs.Float64Var(&o.rate, "rate", 0, "control loop rate in Hz")
	fs.StringVar(&o.mode, "mode", "", "chunk execution: ensemble (ACT temporal ensembling) or replan")
	fs.StringVar(&o.output, "output", "", "command type: ee (PoseStamped + gripper Float64) or joint (JointTrajectory)")
	fs.StringVar(&o.cameras, "cameras", "", "comma-separated camera names using the default topics /<c>/color/image_raw, /<c>/depth/image_raw, /<c>/color/camera_info")
	fs.StringVar(&o.instruction, "instruction", "", "instruction used until /instruction publishes one")
	fs.StringVar(&o.providers, "providers", "", "ONNX Runtime execution providers in preference order, e.g. tensorrt,cuda,cpu")
	fs.IntVar(&o.threads, "threads", 0, "ONNX Runtime intra-op threads (0 = config, default 1)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&o.printConfig, "print-config", false, "print the effective configuration as YAML and exit")
	fs.BoolVar(&o.check, "check", false, "validate the configuration (and load the model if given) and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	// roslaunch appends __name:=NAME __log:=PATH; the flag package stops at
	// the first non-flag argument, so they arrive in fs.Args().
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	for _, a := range fs.Args() {
		if v, ok := strings.CutPrefix(a, "__name:="); ok && o.name == "" {
			o.name = v
		}
	}
	return o, fs, nil
}

// effectiveConfig loads the config file (or defaults) and applies the flags
// the user actually set.
func effectiveConfig(o *options, fs *flag.FlagSet) (node.Config, error) {
	cfg := node.DefaultConfig()
	if o.config != "" {
		var err error
		if cfg, err = node.LoadConfig(o.config); err != nil {
			return cfg, err
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["model"] {
		cfg.Model = o.model
	}
	if set["master"] {
		cfg.MasterURI = o.master
	}
	if set["host"] {
		cfg.Host = o.host
	}
	if o.name != "" {
		cfg.NodeName = o.name
	}
	if set["rate"] {
		cfg.ControlHz = o.rate
	}
	if set["mode"] {
		cfg.Execution.Mode = contract.ExecutionMode(o.mode)
	}
	if set["output"] {
		cfg.Execution.Output = contract.OutputMode(o.output)
	}
	if set["cameras"] {
		cfg.Cameras = nil
		for _, c := range strings.Split(o.cameras, ",") {
			if c = strings.TrimSpace(c); c != "" {
				cfg.Cameras = append(cfg.Cameras, node.CameraTopics(c))
			}
		}
	}
	if set["instruction"] {
		cfg.Instruction = o.instruction
	}
	if set["providers"] {
		cfg.Providers = strings.Split(o.providers, ",")
	}
	if set["threads"] {
		cfg.Threads = o.threads
	}
	return cfg, cfg.Validate()
}

func newLogger(level string) (*zap.Logger, error) {
	var l zapcore.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(l)
	zc.Encoding = "console"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return zc.Build()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, fs, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := effectiveConfig(o, fs)
	if err != nil {
		return err
	}
	if o.printConfig {
		return yaml.NewEncoder(stdout).Encode(cfg)
	}
	log, err := newLogger(o.logLevel)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	if cfg.Model == "" {
		if o.check {
			log.Info("configuration valid (no model given)")
			return nil
		}
		return errors.New("no model: set model in the config or pass --model path/to/model.onnx")
	}
	pol, err := ort.Load(cfg.Model, ort.Options{Providers: cfg.Providers, IntraOpThreads: cfg.Threads, Logger: log})
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	defer func() {
		if cerr := pol.Close(); cerr != nil {
			log.Warn("closing the model", zap.Error(cerr))
		}
	}()
	n, err := node.New(cfg, pol, log)
	if err != nil {
		return err
	}
	if o.check {
		log.Info("configuration and model valid", zap.String("provider", pol.Provider()))
		return nil
	}
	return n.Run(ctx)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vla3d-node:", err)
		os.Exit(1)
	}
}
