package training

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/vla3d/vla3d/policy/model"
)

func goBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := model.NewBackend(model.CPUBackend)
	if err != nil {
		t.Fatalf("pure-Go backend: %v", err)
	}
	return b
}

func TestScheduleLR(t *testing.T) {
	s := Schedule{Peak: 1e-3, Min: 1e-5, WarmupSteps: 4, TotalSteps: 12}
	cases := []struct {
		step int
		want float64
	}{
		{1, 0.25e-3}, {2, 0.5e-3}, {4, 1e-3},
		{8, 1e-5 + (1e-3-1e-5)*0.5}, // half-way through the cosine
		{12, 1e-5}, {20, 1e-5},
	}
	for _, c := range cases {
		if got := s.LR(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("LR(%d)=%g, want %g", c.step, got, c.want)
		}
	}
	// Graph version agrees with the host version.
	b := goBackend(t)
	for step := 1; step <= 14; step++ {
		out := MustExecOnce(b, func(x *Node) *Node { return s.graph(x) }, float32(step))
		got := float64(out.Value().(float32))
		if math.Abs(got-s.LR(step)) > 1e-8 {
			t.Errorf("graph LR(%d)=%g, want %g", step, got, s.LR(step))
		}
	}
}

// adamwRef is a float64 AdamW with global-norm clipping for params p given
// gradient function grad; it mirrors AdamW.UpdateGraph.
type adamwRef struct {
	o    AdamW
	m, v [][]float64
	t    int
}

func (r *adamwRef) step(p [][]float64, grads [][]float64, decay []bool) {
	r.t++
	var sq float64
	for _, g := range grads {
		for _, x := range g {
			sq += x * x
		}
	}
	scale := 1.0
	if n := math.Sqrt(sq); r.o.ClipNorm > 0 && n > r.o.ClipNorm {
		scale = r.o.ClipNorm / n
	}
	lr := r.o.Schedule.LR(r.t)
	for i := range p {
		if r.m == nil || len(r.m) <= i {
			r.m = append(r.m, make([]float64, len(p[i])))
			r.v = append(r.v, make([]float64, len(p[i])))
		}
		for j := range p[i] {
			g := grads[i][j] * scale
			r.m[i][j] = r.o.Beta1*r.m[i][j] + (1-r.o.Beta1)*g
			r.v[i][j] = r.o.Beta2*r.v[i][j] + (1-r.o.Beta2)*g*g
			mh := r.m[i][j] / (1 - math.Pow(r.o.Beta1, float64(r.t)))
			vh := r.v[i][j] / (1 - math.Pow(r.o.Beta2, float64(r.t)))
			u := mh / (math.Sqrt(vh) + r.o.Epsilon)
			if decay[i] {
				u += r.o.WeightDecay * p[i][j]
			}
			p[i][j] -= lr * u
		}
	}
}

// TestAdamWMatchesReference trains y = W·x + b on a fixed batch with both the
// graph optimizer and the float64 reference and compares the parameters.
func TestAdamWMatchesReference(t *testing.T) {
	b := goBackend(t)
	opt := DefaultAdamW(Schedule{Peak: 0.05, Min: 0.001, WarmupSteps: 2, TotalSteps: 6})
	opt.WeightDecay = 0.1
	xs := [][]float64{{1, 2}, {-1, 0.5}, {0.3, -2}}
	ys := [][]float64{{3, -1}, {0, 2}, {1, 1}}
	w0 := []float64{0.1, -0.2, 0.3, 0.05} // W[out][in] row-major 2x2
	b0 := []float64{0.01, -0.02}

	ctx := context.New().Checked(false)
	ctx.InAbsPath("/lin").VariableWithValue("w", tensors.FromFlatDataAndDimensions(f32(w0), 2, 2))
	ctx.InAbsPath("/lin").VariableWithValue("bias", tensors.FromFlatDataAndDimensions(f32(b0), 2))
	xt := tensors.FromFlatDataAndDimensions(f32(flatten(xs)), 3, 2)
	yt := tensors.FromFlatDataAndDimensions(f32(flatten(ys)), 3, 2)
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x, y *Node) *Node {
		lctx := ctx.InAbsPath("/lin")
		w := lctx.VariableWithShape("w", shapesOf(2, 2)).ValueGraph(x.Graph())
		bias := lctx.VariableWithShape("bias", shapesOf(2)).ValueGraph(x.Graph())
		pred := Add(Einsum("bi,oi->bo", x, w), ExpandAxes(bias, 0))
		d := Sub(pred, y)
		loss := ReduceAllSum(Mul(d, d))
		st, err := opt.UpdateGraph(ctx, loss)
		if err != nil {
			panic(err)
		}
		return st.GradNorm
	})
	if err != nil {
		t.Fatal(err)
	}
	ref := &adamwRef{o: opt}
	p := [][]float64{append([]float64(nil), w0...), append([]float64(nil), b0...)}
	for step := 0; step < 6; step++ {
		if _, err := exec.Exec(xt, yt); err != nil {
			t.Fatal(err)
		}
		// Host gradient of sum((Wx+b−y)²).
		gw, gb := make([]float64, 4), make([]float64, 2)
		for n := range xs {
			for o := 0; o < 2; o++ {
				d := p[0][2*o]*xs[n][0] + p[0][2*o+1]*xs[n][1] + p[1][o] - ys[n][o]
				gw[2*o] += 2 * d * xs[n][0]
				gw[2*o+1] += 2 * d * xs[n][1]
				gb[o] += 2 * d
			}
		}
		ref.step(p, [][]float64{gw, gb}, []bool{true, false})
	}
	gotW := tensors.MustCopyFlatData[float32](ctx.GetVariableByScopeAndName("/lin", "w").MustValue())
	gotB := tensors.MustCopyFlatData[float32](ctx.GetVariableByScopeAndName("/lin", "bias").MustValue())
	for i, v := range gotW {
		if math.Abs(float64(v)-p[0][i]) > 1e-5 {
			t.Errorf("w[%d]=%g want %g", i, v, p[0][i])
		}
	}
	for i, v := range gotB {
		if math.Abs(float64(v)-p[1][i]) > 1e-5 {
			t.Errorf("b[%d]=%g want %g", i, v, p[1][i])
		}
	}
}

func f32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func flatten(x [][]float64) []float64 {
	var out []float64
	for _, r := range x {
		out = append(out, r...)
	}
	return out
}
