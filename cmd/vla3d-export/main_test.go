package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vla3d/vla3d/cli"
)

func TestRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(stdout.String(), "-tiny") || !strings.Contains(stdout.String(), "-log-level") || stderr.Len() > 0 {
		t.Errorf("-h: %v\nstdout %q\nstderr %q", err, stdout.String(), stderr.String())
	}
	for _, args := range [][]string{nil, {"-o", t.TempDir()}, {"-tiny", "extra"}, {"-tiny", "-log-level", "loud"}} {
		var ue *cli.UsageError
		if err := run(context.Background(), args, &stdout, &stderr); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	dir := t.TempDir()
	stderr.Reset()
	if err := run(context.Background(), []string{"-tiny", "-o", dir, "-log-level", "warn"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"model.onnx", "model.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if stderr.Len() > 0 {
		t.Errorf("-log-level warn logged %q", stderr.String())
	}
}
