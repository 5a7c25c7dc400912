package ort_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gomlxctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
)

// benchProviders reads VLA3D_BENCH_PROVIDERS (e.g. "cuda,cpu"); CPU only by
// default so CPU numbers are not polluted by a fallback attempt.
func benchProviders() []string {
	if p := os.Getenv("VLA3D_BENCH_PROVIDERS"); p != "" {
		return strings.Split(p, ",")
	}
	return []string{ort.ProviderCPU}
}

// benchThreads reads VLA3D_BENCH_THREADS (ONNX Runtime intra-op threads;
// 0 = its default, one per core).
func benchThreads() int {
	n, _ := strconv.Atoi(os.Getenv("VLA3D_BENCH_THREADS"))
	return n
}

// BenchmarkLatency measures, in one run, the per-observation latency of the
// default configuration (3 cameras, 96x96) for Baseline and row C through
// ONNX Runtime and through GoMLX's pure-Go backend. Extra metrics:
// C/ort "x_baseline" is C's latency over Baseline's (the 3D modules'
// overhead; the paper targets <= 1.15), and each gomlx run's "x_ort" is the
// GoMLX/ONNX Runtime latency ratio.
func BenchmarkLatency(b *testing.B) {
	requireORT(b)
	ortNs := map[string]float64{}
	for _, row := range []string{"baseline", "C"} {
		cfg, err := model.DefaultConfig().Row(row)
		if err != nil {
			b.Fatal(err)
		}
		m, err := model.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx := gomlxctx.New()
		path := filepath.Join(b.TempDir(), "model.onnx")
		spec := cfg.Spec()
		spec.Vocabulary = onnx.TinyVocabulary()
		if err := onnx.ExportPolicy(ctx, m, spec, path); err != nil {
			b.Fatal(err)
		}
		in := policy.NewInput(spec)
		for i := range in.PointValid {
			in.PointValid[i] = 1
			in.Points[3*i], in.Points[3*i+1], in.Points[3*i+2] = 0.5, 0.01*float32(i%20)-0.1, 0.1
		}
		for v := range spec.Cameras {
			copy(in.Intrinsics[4*v:], []float32{86, 86, 48, 48})
			copy(in.CamFromBase[12*v:], []float32{0, -1, 0, 0, 0, 0, -1, 0.5, 1, 0, 0, 0.6})
		}
		b.Run(row+"/ort", func(b *testing.B) {
			p, err := ort.Load(path, ort.Options{Providers: benchProviders(), IntraOpThreads: benchThreads()})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			var out msgs.ActionChunk
			if err := p.Predict(context.Background(), in, &out); err != nil { // warm-up
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := p.Predict(context.Background(), in, &out); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			ortNs[row] = ns
			if base := ortNs["baseline"]; row != "baseline" && base > 0 {
				b.ReportMetric(ns/base, "x_baseline")
			}
			b.Logf("provider %s", p.Provider())
		})
		b.Run(row+"/gomlx", func(b *testing.B) {
			backend, err := simplego.New("ops_sequential")
			if err != nil {
				b.Fatal(err)
			}
			defer backend.Finalize()
			build := onnx.PolicyBuild(m)
			exec, err := gomlxctx.NewExec(backend, ctx.Reuse(), func(ctx *gomlxctx.Context, xs []*Node) []*Node { return build(ctx, xs) })
			if err != nil {
				b.Fatal(err)
			}
			args := []any{
				tensors.FromFlatDataAndDimensions(in.Images, 1, spec.Cameras, 3, spec.ImageHeight, spec.ImageWidth),
				tensors.FromFlatDataAndDimensions(in.Points, 1, spec.Cameras, spec.PatchesPerView(), 3),
				tensors.FromFlatDataAndDimensions(in.PointValid, 1, spec.Cameras, spec.PatchesPerView()),
				tensors.FromFlatDataAndDimensions(in.Intrinsics, 1, spec.Cameras, 4),
				tensors.FromFlatDataAndDimensions(in.CamFromBase, 1, spec.Cameras, 12),
				tensors.FromFlatDataAndDimensions(in.Proprio, 1, spec.ProprioDim),
				tensors.FromFlatDataAndDimensions(in.Instruction, 1, spec.InstructionLen),
			}
			if _, err := exec.Exec(args...); err != nil { // compile + warm-up
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				out, err := exec.Exec(args...)
				if err != nil {
					b.Fatal(err)
				}
				out[0].FinalizeAll()
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if o := ortNs[row]; o > 0 {
				b.ReportMetric(ns/o, "x_ort")
			}
		})
	}
}

// BenchmarkModelLatency measures, in one run, ONNX Runtime's CPU latency per
// observation (one thread) of trained models: the bundled one, then each
// name=path of VLA3D_BENCH_MODELS (e.g.
// "baseline=runs/b/model.onnx,slim=runs/s/model.onnx"), each reported also
// as a ratio to the first model named there.
func BenchmarkModelLatency(b *testing.B) {
	requireORT(b)
	bundled, err := ort.BundledModelPath()
	if err != nil {
		b.Fatal(err)
	}
	models := [][2]string{{"bundled", bundled}}
	for _, nm := range strings.Split(os.Getenv("VLA3D_BENCH_MODELS"), ",") {
		if name, path, ok := strings.Cut(nm, "="); ok {
			models = append(models, [2]string{name, path})
		}
	}
	var first float64
	for i, m := range models {
		b.Run(m[0], func(b *testing.B) {
			p, err := ort.Load(m[1], cpu())
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			in := policy.NewInput(p.Spec())
			for i := range in.PointValid {
				in.PointValid[i] = 1
				in.Points[3*i], in.Points[3*i+1], in.Points[3*i+2] = 0.5, 0.01*float32(i%20)-0.1, 0.1
			}
			var out msgs.ActionChunk
			if err := p.Predict(context.Background(), in, &out); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := p.Predict(context.Background(), in, &out); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if i == 1 {
				first = ns
			}
			if first > 0 {
				b.ReportMetric(ns/first, "x_"+models[1][0])
			}
		})
	}
}
