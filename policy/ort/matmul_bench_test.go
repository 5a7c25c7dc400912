package ort_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gomlxctx "github.com/gomlx/gomlx/pkg/ml/context"
	ortapi "github.com/yalue/onnxruntime_go"

	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
)

// matmulShapes are the largest matmuls of a row-C training step at batch 8
// (counted with training.StepFLOPs): a 64-wide dense layer over the 108
// fused tokens, the patch embedding, a 125-token attention product, and the
// MLP's expansion. Each is batch x [m,k] . [k,n].
var matmulShapes = []struct {
	name      string
	batch     int
	m, k, n   int
	sharedRHS bool // the right side is a weight matrix
}{
	{"dense_108x64x64", 8, 108, 64, 64, true},
	{"patch_embed_108x768x64", 8, 108, 768, 64, true},
	{"attention_4x108x16x108", 32, 108, 16, 108, false},
	{"mlp_108x64x128", 8, 108, 64, 128, true},
}

// BenchmarkMatMulKernel compares, in one run, the arithmetic rate of the
// training backend's matmul (GoMLX SimpleGo as training runs it,
// model.CPUBackend) with ONNX Runtime's CPU MatMul on the same shapes,
// reporting GFLOP/s for both and their ratio. It is the ceiling on how
// close GoMLX training on this CPU can come to ONNX Runtime's forward rate.
func BenchmarkMatMulKernel(b *testing.B) {
	for _, s := range matmulShapes {
		flops := 2 * float64(s.batch*s.m*s.k*s.n)
		rng := rand.New(rand.NewPCG(1, 2))
		rnd := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = rng.Float32() - 0.5
			}
			return v
		}
		lhs := rnd(s.batch * s.m * s.k)
		rhsN := s.k * s.n
		if !s.sharedRHS {
			rhsN *= s.batch
		}
		rhs := rnd(rhsN)
		rhsDims := []int{s.k, s.n}
		if !s.sharedRHS {
			rhsDims = []int{s.batch, s.k, s.n}
		}
		var goRate float64
		b.Run(s.name+"/gomlx", func(b *testing.B) {
			backend, err := model.NewBackend(model.CPUBackend)
			if err != nil {
				b.Fatal(err)
			}
			defer backend.Finalize()
			exec, err := NewExec(backend, func(x, w *Node) *Node {
				if s.sharedRHS {
					return Einsum("bmk,kn->bmn", x, w)
				}
				return Einsum("bmk,bkn->bmn", x, w)
			})
			if err != nil {
				b.Fatal(err)
			}
			x := tensors.FromFlatDataAndDimensions(lhs, s.batch, s.m, s.k)
			w := tensors.FromFlatDataAndDimensions(rhs, rhsDims...)
			run := func() {
				out, err := exec.Exec(x, w)
				if err != nil {
					b.Fatal(err)
				}
				out[0].FinalizeAll()
			}
			run()
			b.ResetTimer()
			for b.Loop() {
				run()
			}
			goRate = flops * float64(b.N) / b.Elapsed().Seconds() / 1e9
			b.ReportMetric(goRate, "GFLOP/s")
		})
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/ort_%dthread", s.name, threads), func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "matmul.onnx")
				inputs := []onnx.Input{{Name: "x", DType: dtypes.Float32, Dims: []int{s.m, s.k}}}
				if !s.sharedRHS {
					inputs = append(inputs, onnx.Input{Name: "w", DType: dtypes.Float32, Dims: []int{s.k, s.n}})
				}
				ctx := gomlxctx.New()
				build := func(ctx *gomlxctx.Context, xs []*Node) []*Node {
					if s.sharedRHS {
						w := Const(xs[0].Graph(), tensors.FromFlatDataAndDimensions(rhs, rhsDims...))
						return []*Node{Einsum("bmk,kn->bmn", xs[0], w)}
					}
					return []*Node{Einsum("bmk,bkn->bmn", xs[0], xs[1])}
				}
				if err := onnx.WriteFile(path, ctx, inputs, []string{"y"}, build, onnx.Options{FixedBatch: s.batch}); err != nil {
					b.Fatal(err)
				}
				lib, err := ort.ResolveLibrary("")
				if err != nil {
					b.Skipf("ONNX Runtime not installed: %v", err)
				}
				release, err := ort.AcquireEnvironment(lib)
				if err != nil {
					b.Skipf("ONNX Runtime not loadable: %v", err)
				}
				defer func() { _ = release() }()
				x, err := ortapi.NewTensor(ortapi.NewShape(int64(s.batch), int64(s.m), int64(s.k)), lhs)
				if err != nil {
					b.Fatal(err)
				}
				defer x.Destroy()
				values, names := []ortapi.Value{x}, []string{"x"}
				if !s.sharedRHS {
					w, err := ortapi.NewTensor(ortapi.NewShape(int64(s.batch), int64(s.k), int64(s.n)), rhs)
					if err != nil {
						b.Fatal(err)
					}
					defer w.Destroy()
					values, names = append(values, w), append(names, "w")
				}
				y, err := ortapi.NewEmptyTensor[float32](ortapi.NewShape(int64(s.batch), int64(s.m), int64(s.n)))
				if err != nil {
					b.Fatal(err)
				}
				defer y.Destroy()
				so, err := ortapi.NewSessionOptions()
				if err != nil {
					b.Fatal(err)
				}
				defer so.Destroy()
				if err := so.SetIntraOpNumThreads(threads); err != nil {
					b.Fatal(err)
				}
				sess, err := ortapi.NewAdvancedSession(path, names, []string{"y"}, values, []ortapi.Value{y}, so)
				if err != nil {
					b.Fatal(err)
				}
				defer sess.Destroy()
				if err := sess.Run(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if err := sess.Run(); err != nil {
						b.Fatal(err)
					}
				}
				rate := flops * float64(b.N) / b.Elapsed().Seconds() / 1e9
				b.ReportMetric(rate, "GFLOP/s")
				if goRate > 0 {
					b.ReportMetric(rate/goRate, "x_gomlx")
				}
			})
		}
	}
}
