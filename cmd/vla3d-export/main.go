// Command vla3d-export writes ONNX models of the 3DVLA policy.
//
// With -tiny it writes the small untrained test model that other packages'
// tests load (regenerate the checked-in copy with
// `go run ./cmd/vla3d-export -tiny -o policy/testdata/`). Trained models are
// exported by `vla3d-train export`, which calls the same package
// (policy/onnx.ExportPolicy) with the trained variables.
package main

import (
	"flag"
	"fmt"
	"os"

	_ "github.com/gomlx/gomlx/backends/simplego" // pure-Go backend, the CPU default

	"github.com/vla3d/vla3d/policy/onnx"
)

func main() {
	tiny := flag.Bool("tiny", false, "export the small untrained test model")
	out := flag.String("o", ".", "output directory (model.onnx and model.json)")
	row := flag.String("row", "C", "ablation row: baseline, A, B or C")
	seed := flag.Int64("seed", 1, "initializer seed")
	flag.Parse()
	if !*tiny {
		fmt.Fprintln(os.Stderr, "vla3d-export: only -tiny is available here; export trained models with `vla3d-train export`")
		os.Exit(2)
	}
	if err := onnx.ExportTiny(*out, *row, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "vla3d-export:", err)
		os.Exit(1)
	}
}
