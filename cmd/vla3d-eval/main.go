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
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

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

Flags:
`

type options struct {
	config, model, out, cameras, providers, actionTopic, split, logLevel string
	threads, plotEpisode                                                 int
	gap                                                                  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*options, []string, error) {
	fs := flag.NewFlagSet("vla3d-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.config, "config", "", "node YAML configuration (cameras, topics, sync); default: node defaults")
	fs.StringVar(&o.model, "model", "", "model.onnx (with its model.json sidecar); default: the config's model")
	fs.StringVar(&o.out, "out", "eval-out", "output directory for report.json, report.txt and the plot")
	fs.StringVar(&o.cameras, "cameras", "", "comma-separated camera names with the default topics (overrides the config; default without --config: the cameras found in the first recording, sorted by name)")
	fs.StringVar(&o.providers, "providers", "cpu", "ONNX Runtime execution providers in preference order")
	fs.IntVar(&o.threads, "threads", 1, "ONNX Runtime intra-op threads")
	fs.StringVar(&o.actionTopic, "action-topic", "/vla3d/expert_action", "recorded action topic (std_msgs/Float32MultiArray); empty: derive from /ee_pose")
	fs.StringVar(&o.split, "split", "auto", "episode split: auto, file, marker, gap")
	fs.DurationVar(&o.gap, "gap", 2*time.Second, "pause that starts a new episode (split gap/auto)")
	fs.IntVar(&o.plotEpisode, "plot-episode", 0, "index (in report order) of the episode to plot; -1: none")
	fs.StringVar(&o.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return nil, nil, errors.New("no recordings given")
	}
	return o, fs.Args(), nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, paths, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var lvl zap.AtomicLevel
	if lvl, err = zap.ParseAtomicLevel(o.logLevel); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	zc := zap.NewProductionConfig()
	zc.Level, zc.Encoding = lvl, "console"
	log, err := zc.Build()
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	cfg := node.DefaultConfig()
	if o.config != "" {
		if cfg, err = node.LoadConfig(o.config); err != nil {
			return err
		}
	}
	names := strings.Split(o.cameras, ",")
	if o.cameras == "" && o.config == "" {
		// No camera list given: use the cameras the first recording has.
		if names, err = recordedCameras(paths, log); err != nil {
			return err
		}
	}
	if o.cameras != "" || o.config == "" {
		cfg.Cameras = nil
		for _, c := range names {
			cfg.Cameras = append(cfg.Cameras, node.CameraTopics(strings.TrimSpace(c)))
		}
	}
	if o.model != "" {
		cfg.Model = o.model
	}
	if cfg.Model == "" {
		return errors.New("no model: pass --model or set model in the config")
	}
	pol, err := ort.Load(cfg.Model, ort.Options{Providers: strings.Split(o.providers, ","), IntraOpThreads: o.threads, Logger: log})
	if err != nil {
		return err
	}
	defer func() { _ = pol.Close() }()

	ec := dataset.DefaultConfig()
	ec.Split, ec.Gap, ec.Topics.ExpertAction = dataset.SplitMode(o.split), o.gap, o.actionTopic
	rep, err := eval.Run(ctx, paths, pol, eval.Options{Node: cfg, Episodes: ec, KeepSeries: o.plotEpisode >= 0, Logger: log})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if err := writeReports(rep, o.out); err != nil {
		return err
	}
	if o.plotEpisode >= 0 && o.plotEpisode < len(rep.Episodes) {
		png := filepath.Join(o.out, fmt.Sprintf("episode_%03d.png", o.plotEpisode))
		if err := eval.PlotEpisode(&rep.Episodes[o.plotEpisode], png); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "plot: %s\n", png)
	}
	return nil
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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "vla3d-eval:", err)
		os.Exit(1)
	}
}
