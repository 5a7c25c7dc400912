// Command vla3d-node runs the 3DVLA policy as a ROS 2 node (DDS; or a ROS 1
// node with --transport ros1): it subscribes to
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
	"strings"

	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/transport"
)

const usage = `vla3d-node: the 3DVLA policy as a ROS 2 (or ROS 1) node.

Usage:
  vla3d-node --config launch/vla3d_node.yaml [flags]

The YAML config (see launch/vla3d_node.yaml) sets everything; ROS 2 arguments
(--ros-args -r __node:=NAME -r __ns:=NS --params-file FILE -p KEY:=VALUE
-r FROM:=TO, as ros2 run / ros2 launch pass them; parameter names are the
config's keys, e.g. control_hz or safety.max_linear_speed) override it, and
flags given on the command line override both. Without --config the built-in defaults are used
(one camera "front" with the DESIGN.md topics).

ROS 2 (the default, --transport ros2) needs no ROS installation: the node is
a DDS participant (Cyclone DDS) that any ROS 2 peer sees. It honours
ROS_DOMAIN_ID, ROS_LOCALHOST_ONLY=1, ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST,
ROS_DISTRO and CYCLONEDDS_URI, and the config's ros2: block.

ROS 1 (--transport ros1): the ROS master comes from
--master, __master:=URI, the config's master_uri, $ROS_MASTER_URI or
http://127.0.0.1:11311; this host's address from --host, __ip:=, __hostname:=,
the config, $ROS_IP or $ROS_HOSTNAME; the node name from --name, roslaunch's
__name:=NAME or the config. --ort-lib, given, wins over $VLA3D_ORT_LIB.

On SIGINT/SIGTERM the node publishes a stop (hold at the current pose) and
exits cleanly; a second signal exits at once.

Exit status: 0 on success (a clean stop included) or --help, 1 on an error,
2 on a usage error.

Flags:
`

// options are the command-line overrides.
type options struct {
	config, model, master, host, name, mode, output, cameras, instruction, providers, transport string
	logLevel, ortLib                                                                            *string
	rate                                                                                        float64
	threads                                                                                     int
	printConfig, check, markers                                                                 bool
	set                                                                                         map[string]bool // flags given on the command line
	remap                                                                                       cli.Remapping   // roslaunch's __name:= etc.
	ros2                                                                                        cli.ROS2Args    // ros2 launch's --ros-args section
}

func parseFlags(args []string, stdout io.Writer) (*options, error) {
	fs := flag.NewFlagSet("vla3d-node", flag.ContinueOnError)
	o := &options{}
	fs.StringVar(&o.config, "config", "", "YAML configuration file (node.Config); flags override it")
	fs.StringVar(&o.model, "model", "", "model.onnx to run (its model.json sidecar must sit next to it)")
	fs.StringVar(&o.transport, "transport", "", "ros2 (DDS, the default) or ros1 (a ROS master); default: the config's transport")
	fs.StringVar(&o.master, "master", "", "ROS master URI, e.g. http://127.0.0.1:11311 (default __master:=, the config's master_uri, $ROS_MASTER_URI, http://127.0.0.1:11311)")
	fs.StringVar(&o.host, "host", "", "address other nodes reach this node at (default __ip:=, __hostname:=, the config's host, $ROS_IP, $ROS_HOSTNAME)")
	fs.StringVar(&o.name, "name", "", "ROS node name (default __name:=, the config's node_name)")
	fs.Float64Var(&o.rate, "rate", 0, "control loop rate in Hz")
	fs.StringVar(&o.mode, "mode", "", "chunk execution: ensemble (ACT temporal ensembling) or replan")
	fs.StringVar(&o.output, "output", "", "command type: ee (PoseStamped + gripper Float64) or joint (JointTrajectory)")
	fs.StringVar(&o.cameras, "cameras", "", "comma-separated camera names using the default topics /<c>/color/image_raw, /<c>/depth/image_raw, /<c>/color/camera_info")
	fs.StringVar(&o.instruction, "instruction", "", "instruction used until /instruction publishes one")
	fs.StringVar(&o.providers, "providers", "", "ONNX Runtime execution providers in preference order, e.g. tensorrt,cuda,cpu")
	fs.IntVar(&o.threads, "threads", 0, "ONNX Runtime intra-op threads (0 = config, default 1)")
	o.ortLib = cli.ORTLibFlag(fs)
	o.logLevel = cli.LogFlags(fs, cli.LogConf{})
	fs.BoolVar(&o.printConfig, "print-config", false, "print the effective configuration (node name, master and host resolved) as YAML and exit")
	fs.BoolVar(&o.check, "check", false, "validate the configuration (and load the model if given) and exit")
	fs.BoolVar(&o.markers, "markers", false, "publish visualization_msgs/MarkerArray of what the policy sees (markers.topic, default /vla3d/markers): instances, completed geometry, planned motion, command")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	// ros2 launch appends --ros-args -r __node:=NAME --params-file FILE;
	// roslaunch appends __name:=NAME __log:=PATH.
	ros2, args, err := cli.SplitROS2Args(args)
	if err != nil {
		return nil, err
	}
	remap, err := cli.ParseROS(fs, args, stdout)
	if err != nil {
		return nil, err
	}
	o.set, o.remap, o.ros2 = cli.GivenFlags(fs), remap, ros2
	if ros2.LogLevel != "" && !o.set["log-level"] {
		*o.logLevel = ros2.LogLevel
	}
	return o, nil
}

// effectiveConfig loads the config file (or defaults) and applies the flags
// the user actually set; the node name, master and host are resolved
// (cli.ResolveNode: flag, remapping argument, config, environment,
// default), the master as a URI.
func effectiveConfig(o *options, getenv func(string) string) (node.Config, error) {
	cfg := node.DefaultConfig()
	if o.config != "" {
		var err error
		if cfg, err = node.LoadConfig(o.config); err != nil {
			return cfg, err
		}
	}
	if ns := o.remap.Namespace; ns != "" && ns != "/" {
		return cfg, cli.Usagef("__ns:=%s: namespaced ROS 1 nodes are not supported", ns)
	}
	if o.ros2.Seen {
		var err error
		if cfg, err = node.ApplyROS2Args(cfg, o.ros2); err != nil {
			return cfg, err
		}
	}
	set := o.set
	var given cli.NodeSettings
	if set["name"] {
		given.Name = o.name
	}
	if set["master"] {
		given.Master = o.master
	}
	if set["host"] {
		given.Host = o.host
	}
	ros, err := cli.ResolveNode(cli.NodeConf{Flags: given, Remap: o.remap,
		Config: cli.NodeSettings{Name: cfg.NodeName, Master: cfg.MasterURI, Host: cfg.Host}, Getenv: getenv})
	if err != nil {
		return cfg, err
	}
	cfg.NodeName, cfg.MasterURI, cfg.Host = ros.Name, cli.MasterURI(ros.Master), ros.Host
	if set["transport"] {
		k, err := transport.ParseKind(o.transport)
		if err != nil {
			return cfg, cli.Usagef("--transport: %v", err)
		}
		cfg.Transport = k
	}
	if set["model"] {
		cfg.Model = o.model
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
	if set["markers"] {
		cfg.Markers.Enabled = o.markers
	}
	return cfg, cfg.Validate()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	cfg, err := effectiveConfig(o, os.Getenv)
	if err != nil {
		return err
	}
	if o.printConfig {
		return yaml.NewEncoder(stdout).Encode(cfg)
	}
	lib, err := cli.UseORTLib(cli.ORTLibConf{Flag: *o.ortLib})
	if err != nil {
		return err
	}
	log, err := cli.Logger(*o.logLevel, stderr)
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
	pol, err := ort.Load(cfg.Model, ort.Options{LibraryPath: lib, Providers: cfg.Providers, IntraOpThreads: cfg.Threads, Logger: log})
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

func main() { os.Exit(cli.Main("vla3d-node", run)) }
