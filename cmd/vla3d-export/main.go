// Command vla3d-export writes ONNX models of the 3DVLA policy.
//
// With -tiny it writes the small untrained test model that other packages'
// tests load (regenerate the checked-in copy with
// `go run ./cmd/vla3d-export -tiny -o policy/testdata/`). Trained models are
// exported by `vla3d-train export`, which calls the same package
// (policy/onnx.ExportPolicy) with the trained variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	_ "github.com/gomlx/gomlx/backends/simplego" // pure-Go backend, the CPU default
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/policy/onnx"
)

func main() { os.Exit(cli.Main("vla3d-export", run)) }

func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vla3d-export", flag.ContinueOnError)
	tiny := fs.Bool("tiny", false, "export the small untrained test model")
	out := fs.String("o", ".", "output directory (model.onnx and model.json)")
	row := fs.String("row", "C", "ablation row: baseline, A, B or C")
	seed := fs.Int64("seed", 1, "initializer seed")
	logLevel := cli.LogFlags(fs, cli.LogConf{})
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "vla3d-export: write the small untrained test model.\n\nUsage:\n  vla3d-export -tiny [-o dir] [-row C] [-seed 1]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if !*tiny {
		return cli.Usage("", errors.New("only -tiny is available here; export trained models with `vla3d-train export`"))
	}
	log, err := cli.Logger(*logLevel, stderr)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	if err := onnx.ExportTiny(*out, *row, *seed); err != nil {
		return err
	}
	log.Info("exported the tiny model", zap.String("dir", *out), zap.String("row", *row), zap.Int64("seed", *seed))
	return nil
}
