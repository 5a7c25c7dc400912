// Command vla3d-eval scores a model offline by replaying recorded bags (ROS 1
// bag or MCAP) through the node's own intake, preprocessing and ONNX policy,
// as fast as the machine allows. It writes report.json, report.txt and a PNG
// of predicted against recorded actions for one episode. See package eval
// and eval/README.md (live mode: rosbag play into the running node).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/eval"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/policy/ort"
)

const usage = `vla3d-eval: replay recordings through the node pipeline and score the model.

Usage:
  vla3d-eval --model model.onnx [--config node.yaml] [flags] BAG_OR_DIR...

Every *.bag / *.mcap under the given paths is split into episodes (marker
topic, time gaps, or one per file) and replayed; the first action of each
predicted chunk is compared with the recorded action (or the one derived
from the next end-effector pose when the recording has no action topic).

The model runs with the config's providers and threads unless --providers or
--threads are given; --ort-lib, given, wins over $VLA3D_ORT_LIB.

Exit status: 0 on success or --help, 1 on an error, 2 on a usage error,
128+n when interrupted by signal n.

Flags:
`

type options struct {
	config, model, out, cameras, providers, actionTopic, split string
	pictures                                                   bool
	logLevel, ortLib                                           *string
	threads, plotEpisode                                       int
	gap                                                        time.Duration
	set                                                        map[string]bool // flags given on the command line
}

func parseFlags(args []string, stdout io.Writer) (*options, []string, error) {
	fs := flag.NewFlagSet("vla3d-eval", flag.ContinueOnError)
	o := &options{}
	fs.StringVar(&o.config, "config", "", "node YAML configuration (cameras, topics, sync, providers, threads); default: node defaults")
	fs.StringVar(&o.model, "model", "", "model.onnx (with its model.json sidecar); default: the config's model")
	fs.StringVar(&o.out, "out", "eval-out", "output directory for report.json, report.txt and the plot")
	fs.StringVar(&o.cameras, "cameras", "", "comma-separated camera names with the default topics (overrides the config; default without --config: the cameras found in the first recording, sorted by name)")
	fs.StringVar(&o.providers, "providers", "", "ONNX Runtime execution providers in preference order (default: the config's; cpu without --config)")
	fs.IntVar(&o.threads, "threads", 0, "ONNX Runtime intra-op threads (default: the config's; 1 without --config)")
	o.ortLib = cli.ORTLibFlag(fs)
	fs.StringVar(&o.actionTopic, "action-topic", contract.DefaultTopics().ExpertAction, "recorded action topic (std_msgs/Float32MultiArray); empty: derive from /ee_pose")
	fs.StringVar(&o.split, "split", "auto", "episode split: auto, file, marker, gap")
	fs.DurationVar(&o.gap, "gap", 2*time.Second, "pause that starts a new episode (split gap/auto)")
	fs.IntVar(&o.plotEpisode, "plot-episode", 0, "index (in report order) of the episode to plot; -1: none")
	fs.BoolVar(&o.pictures, "pictures", false, "write per-episode pictures into --out/pictures: episode_NNN.gif (every camera with the instances, completion points and planned path the model saw) and episode_NNN_top.png (top-down end-effector path and predictions)")
	o.logLevel = cli.LogFlags(fs, cli.LogConf{Default: "warn"})
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stdout); err != nil {
		return nil, nil, err
	}
	if fs.NArg() == 0 {
		return nil, nil, cli.Usagef("no recordings given")
	}
	o.set = cli.GivenFlags(fs)
	return o, fs.Args(), nil
}

// nodeConfig is the node configuration the recordings are replayed
// through: the --config file (or the node defaults, with eval's cpu and one
// thread), then the flags given on the command line. Without --cameras or
// --config the cameras are the first recording's (recorded).
func nodeConfig(o *options, recorded func() ([]string, error)) (node.Config, error) {
	cfg := node.DefaultConfig()
	if o.config != "" {
		var err error
		if cfg, err = node.LoadConfig(o.config); err != nil {
			return cfg, err
		}
	} else {
		// Offline scoring is reproducible on any machine by default.
		cfg.Providers, cfg.Threads = []string{ort.ProviderCPU}, 1
	}
	if o.set["model"] {
		cfg.Model = o.model
	}
	if cfg.Model == "" {
		return cfg, cli.Usagef("no model: pass --model or set model in the config")
	}
	names := strings.Split(o.cameras, ",")
	if o.cameras == "" && o.config == "" {
		// No camera list given: use the cameras the first recording has.
		var err error
		if names, err = recorded(); err != nil {
			return cfg, err
		}
	}
	if o.cameras != "" || o.config == "" {
		cfg.Cameras = nil
		for _, c := range names {
			cfg.Cameras = append(cfg.Cameras, node.CameraTopics(strings.TrimSpace(c)))
		}
	}
	if o.set["providers"] {
		cfg.Providers = strings.Split(o.providers, ",")
	}
	if o.set["threads"] {
		cfg.Threads = o.threads
	}
	return cfg, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, paths, err := parseFlags(args, stdout)
	if err != nil {
		return err
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

	cfg, err := nodeConfig(o, func() ([]string, error) { return recordedCameras(paths, log) })
	if err != nil {
		return err
	}
	pol, err := ort.Load(cfg.Model, ort.Options{LibraryPath: lib, Providers: cfg.Providers, IntraOpThreads: cfg.Threads, Logger: log})
	if err != nil {
		return err
	}
	defer func() { _ = pol.Close() }()

	ec := dataset.DefaultConfig()
	ec.Split, ec.Gap, ec.Topics.ExpertAction = dataset.SplitMode(o.split), o.gap, o.actionTopic
	eo := eval.Options{Node: cfg, Episodes: ec, KeepSeries: o.plotEpisode >= 0, Logger: log}
	if o.pictures {
		eo.Pictures = filepath.Join(o.out, "pictures")
	}
	rep, err := eval.Run(ctx, paths, pol, eo)
	if err != nil && !(errors.Is(err, eval.ErrNothingScored) && rep != nil) {
		return err
	}
	// With nothing scored the report still says why (dropped sets, skipped
	// recordings); the run then fails.
	scoreErr := err
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if err := writeReports(rep, o.out); err != nil {
		return err
	}
	if scoreErr == nil && o.plotEpisode >= 0 && o.plotEpisode < len(rep.Episodes) {
		png := filepath.Join(o.out, fmt.Sprintf("episode_%03d.png", o.plotEpisode))
		if err := eval.PlotEpisode(&rep.Episodes[o.plotEpisode], png); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "plot: %s\n", png)
	}
	return scoreErr
}

// recordedCameras lists the cameras (/<c>/color/image_raw) of the first
// recording under paths.
func recordedCameras(paths []string, log *zap.Logger) ([]string, error) {
	files, err := dataset.ExpandPaths(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no recordings (*.bag, *.mcap) found")
	}
	src, err := dataset.OpenSource(files[0], log)
	if err != nil {
		return nil, err
	}
	cams := dataset.Cameras(src.Info())
	if err := src.Close(); err != nil {
		return nil, err
	}
	if len(cams) == 0 {
		return nil, fmt.Errorf("%s has no /<camera>/color/image_raw topics; pass --cameras or --config", files[0])
	}
	return cams, nil
}

func writeReports(rep *eval.Report, dir string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "report.txt"))
	if err != nil {
		return err
	}
	if err := rep.WriteText(f); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}

func main() { os.Exit(cli.Main("vla3d-eval", run)) }
