package model

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// run1 executes a context-free graph function on the test backend.
func run1(t *testing.T, fn func(ctx *context.Context, p []*Node) []*Node, args ...any) []*tensors.Tensor {
	t.Helper()
	exec, err := context.NewExec(testBackend(t), newTestContext(), fn)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestProjectMatchesReference(t *testing.T) {
	cfg := smallConfig()
	cam := lookAt([3]float64{0.5, 0.8, 0.7}, [3]float64{0.55, 0, 0.1})
	cam2 := lookAt([3]float64{1.5, 0, 0.5}, [3]float64{0.55, 0, 0.1})
	intr := [][]float32{{60, 62, 31, 33}, {50, 50, 32, 32}}
	points := [][3]float64{{0.55, 0, 0.1}, {0.7, -0.2, 0.3}, {0.4, 0.3, 0}, {2.5, 0, 0.5}} // last: behind camera 2
	var camT []float32
	for _, m := range [][12]float64{cam, cam2} {
		for _, x := range m {
			camT = append(camT, float32(x))
		}
	}
	var pts []float32
	for _, p := range points {
		pts = append(pts, float32(p[0]), float32(p[1]), float32(p[2]))
	}
	out := run1(t, func(_ *context.Context, p []*Node) []*Node {
		pr := Project(cfg, p[0], p[1], p[2])
		return []*Node{pr.UV, pr.Depth, pr.Visible}
	}, tensors.FromFlatDataAndDimensions(pts, 1, len(points), 3), tensors.FromFlatDataAndDimensions(camT, 1, 2, 12),
		tensors.FromFlatDataAndDimensions([]float32{60, 62, 31, 33, 50, 50, 32, 32}, 1, 2, 4))
	uv := tensors.MustCopyFlatData[float32](out[0])
	depth := tensors.MustCopyFlatData[float32](out[1])
	vis := tensors.MustCopyFlatData[float32](out[2])
	for q, p := range points {
		for v, m := range [][12]float64{cam, cam2} {
			var c [3]float64
			for i := range 3 {
				c[i] = m[i*4]*p[0] + m[i*4+1]*p[1] + m[i*4+2]*p[2] + m[i*4+3]
			}
			k := intr[v]
			zc := math.Max(c[2], cfg.DepthEps)
			u := (float64(k[0])*c[0] + float64(k[2])*c[2]) / zc / float64(cfg.ImageWidth)
			vv := (float64(k[1])*c[1] + float64(k[3])*c[2]) / zc / float64(cfg.ImageHeight)
			i := q*2 + v
			if math.Abs(float64(uv[2*i])-u) > 1e-4 || math.Abs(float64(uv[2*i+1])-vv) > 1e-4 || math.Abs(float64(depth[i])-c[2]) > 1e-5 {
				t.Errorf("point %d view %d: got (%v,%v,%v), want (%v,%v,%v)", q, v, uv[2*i], uv[2*i+1], depth[i], u, vv, c[2])
			}
			wantVis := c[2] > cfg.DepthEps && u >= 0 && u <= 1 && vv >= 0 && vv <= 1
			if (vis[i] == 1) != wantVis {
				t.Errorf("point %d view %d: visible %v, want %v", q, v, vis[i], wantVis)
			}
		}
	}
	if vis[3*2+1] != 0 {
		t.Errorf("point behind camera 2 marked visible")
	}
}

// refBilinear samples m[h][w] at pixel (x, y) with zero padding.
func refBilinear(m [][]float64, x, y float64) float64 {
	x0, y0 := math.Floor(x), math.Floor(y)
	var s float64
	for dy := 0.0; dy <= 1; dy++ {
		for dx := 0.0; dx <= 1; dx++ {
			xi, yi := int(x0+dx), int(y0+dy)
			if yi < 0 || yi >= len(m) || xi < 0 || xi >= len(m[0]) {
				continue
			}
			s += (1 - math.Abs(x-(x0+dx))) * (1 - math.Abs(y-(y0+dy))) * m[yi][xi]
		}
	}
	return s
}

func TestBilinearSampleMatchesReference(t *testing.T) {
	const h, w = 5, 7
	r := rand.New(rand.NewPCG(3, 4))
	m := make([][]float64, h)
	var flat []float32
	for y := range m {
		m[y] = make([]float64, w)
		for x := range m[y] {
			m[y][x] = r.NormFloat64()
			flat = append(flat, float32(m[y][x]))
		}
	}
	// Sample points inside, on the border, and outside the map.
	xs := []float64{0, 3.25, 6, -0.5, 6.7, -2, 2.5, 1e-3}
	ys := []float64{0, 1.75, 4, 2, -0.3, 1, 5.5, 3.999}
	var px, py []float32
	for i := range xs {
		px, py = append(px, float32(xs[i])), append(py, float32(ys[i]))
	}
	k := len(xs)
	out := run1(t, func(_ *context.Context, p []*Node) []*Node {
		return []*Node{bilinearSample(p[0], p[1], p[2])}
	}, tensors.FromFlatDataAndDimensions(flat, 1, 1, h, w, 1, 1),
		tensors.FromFlatDataAndDimensions(px, 1, 1, 1, 1, k), tensors.FromFlatDataAndDimensions(py, 1, 1, 1, 1, k))
	got := tensors.MustCopyFlatData[float32](out[0])
	for i := range xs {
		if want := refBilinear(m, xs[i], ys[i]); math.Abs(float64(got[i])-want) > 1e-5 {
			t.Errorf("sample (%v,%v): %v, want %v", xs[i], ys[i], got[i], want)
		}
	}
}

func TestFourierTable(t *testing.T) {
	x := []float32{0.1, -0.25, 0.7}
	const bands = 3
	out := run1(t, func(_ *context.Context, p []*Node) []*Node { return []*Node{Fourier(p[0], bands)} },
		tensors.FromFlatDataAndDimensions(x, 1, 3))
	got := tensors.MustCopyFlatData[float32](out[0])
	if len(got) != FourierDim(3, bands) {
		t.Fatalf("width %d, want %d", len(got), FourierDim(3, bands))
	}
	for k := range bands {
		for c := range 3 {
			arg := math.Ldexp(math.Pi, k) * float64(x[c])
			s, co := got[k*3+c], got[3*bands+k*3+c]
			if math.Abs(float64(s)-math.Sin(arg)) > 1e-5 || math.Abs(float64(co)-math.Cos(arg)) > 1e-5 {
				t.Errorf("k=%d c=%d: (%v,%v), want (%v,%v)", k, c, s, co, math.Sin(arg), math.Cos(arg))
			}
		}
	}
}

func TestSelectTopAndRanks(t *testing.T) {
	scores := []float32{0.3, 2, -1, 2, 0.5} // tie 2,2: lower index first
	out := run1(t, func(_ *context.Context, p []*Node) []*Node {
		return []*Node{selectTop(p[0], 3), rankAscendingRows(InsertAxes(p[0], 0))}
	}, tensors.FromFlatDataAndDimensions(scores, 1, 5))
	sel := tensors.MustCopyFlatData[float32](out[0])
	wantIdx := []int{1, 3, 4}
	for k, idx := range wantIdx {
		for i := range 5 {
			want := float32(0)
			if i == idx {
				want = 1
			}
			if sel[k*5+i] != want {
				t.Errorf("row %d col %d: %v, want %v", k, i, sel[k*5+i], want)
			}
		}
	}
	asc := tensors.MustCopyFlatData[float32](out[1])
	wantAsc := []float32{1, 3, 0, 4, 2}
	for i := range wantAsc {
		if asc[i] != wantAsc[i] {
			t.Errorf("ascending rank %d: %v, want %v", i, asc[i], wantAsc[i])
		}
	}
}

func TestAsymmetricMaskExactCountPerView(t *testing.T) {
	cfg := smallConfig()
	const b = 3
	out := run1(t, func(ctx *context.Context, p []*Node) []*Node {
		return []*Node{AsymmetricMask(ctx, cfg, p[0].Graph(), b)}
	}, tensors.FromValue([]float32{0}))
	m := tensors.MustCopyFlatData[float32](out[0])
	n := cfg.Patches()
	want := math.Round(cfg.MaskRatio * float64(n))
	identical := true
	for bv := range b * cfg.Cameras {
		var s float64
		for i := range n {
			s += float64(m[bv*n+i])
			if bv > 0 && m[bv*n+i] != m[i] {
				identical = false
			}
		}
		if s != want {
			t.Errorf("sample/view %d masks %v tokens, want %v", bv, s, want)
		}
	}
	if identical {
		t.Error("all views got the same mask; masking must be independent per view")
	}
}

// TestDerivedCompletionCoordsAwayFromCameras: every derived completion point
// is CompletionOffset from its instance and no closer to the mean camera
// centre than the instance itself.
func TestDerivedCompletionCoordsAwayFromCameras(t *testing.T) {
	cfg := smallConfig()
	cams := [][3]float64{{0.5, 0.8, 0.7}, {0.5, -0.8, 0.7}}
	var camT []float32
	for _, c := range cams {
		for _, x := range lookAt(c, [3]float64{0.55, 0, 0.1}) {
			camT = append(camT, float32(x))
		}
	}
	k := cfg.KeepInstances
	var refs []float32
	for i := range k {
		refs = append(refs, float32(0.4+0.03*float64(i)), float32(-0.2+0.05*float64(i%5)), float32(0.02*float64(i%3)))
	}
	out := run1(t, func(_ *context.Context, p []*Node) []*Node {
		return []*Node{DeriveCompletionCoords(cfg, p[0], p[1])}
	}, tensors.FromFlatDataAndDimensions(refs, 1, k, 3), tensors.FromFlatDataAndDimensions(camT, 1, 2, 12))
	got := tensors.MustCopyFlatData[float32](out[0])
	if len(got) != cfg.CompletionQueries()*3 {
		t.Fatalf("%d coordinates, want %d", len(got)/3, cfg.CompletionQueries())
	}
	mean := [3]float64{0.5, 0, 0.7}
	dist := func(a, b [3]float64) float64 {
		return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
	}
	for i := range cfg.CompletionInstances {
		r := [3]float64{float64(refs[i*3]), float64(refs[i*3+1]), float64(refs[i*3+2])}
		for j := range cfg.CompletionPerInst {
			o := (i*cfg.CompletionPerInst + j) * 3
			p := [3]float64{float64(got[o]), float64(got[o+1]), float64(got[o+2])}
			if d := dist(p, r); math.Abs(d-cfg.CompletionOffset) > 1e-4 {
				t.Errorf("instance %d query %d: %.4f m from its instance, want %.4f", i, j, d, cfg.CompletionOffset)
			}
			if dist(p, mean) < dist(r, mean)-1e-6 {
				t.Errorf("instance %d query %d moved towards the cameras", i, j)
			}
		}
	}
}

func TestEMAUpdateAndSyncTeacher(t *testing.T) {
	cfg, _ := smallConfig().Row("B")
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := newTestContext()
	e := newExampleBatch(cfg, 1, 2)
	runGraph(t, ctx, cfg, e, func(ctx *context.Context, in Inputs) []*Node {
		ctx.SetTraining(in.Images.Graph(), true)
		return []*Node{m.Forward(ctx, in).Actions}
	})
	student := ctx.GetVariableByScopeAndName(ScopePredictorStudent+"/projection/dense", "weights")
	teacher := ctx.GetVariableByScopeAndName(ScopePredictorTeacher+"/projection/dense", "weights")
	if student == nil || teacher == nil {
		t.Fatal("student/teacher projection variables not found")
	}
	if err := SyncTeacher(ctx); err != nil {
		t.Fatal(err)
	}
	s0 := tensors.MustCopyFlatData[float32](student.MustValue())
	if got := tensors.MustCopyFlatData[float32](teacher.MustValue()); got[0] != s0[0] || got[len(got)-1] != s0[len(s0)-1] {
		t.Fatal("SyncTeacher did not copy the student")
	}
	// Move the student, then one EMA step with m = 0.75.
	moved := make([]float32, len(s0))
	for i := range moved {
		moved[i] = s0[i] + 1
	}
	student.MustSetValue(tensors.FromFlatDataAndDimensions(moved, student.Shape().Dimensions...))
	exec, err := context.NewExec(testBackend(t), ctx, func(ctx *context.Context, g *Graph) *Node {
		n := EMAUpdate(ctx, g, 0.75)
		return Const(g, float32(n))
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec()
	if err != nil {
		t.Fatal(err)
	}
	if n := tensors.MustCopyFlatData[float32](out[0])[0]; n < 5 {
		t.Errorf("EMA updated %v pairs", n)
	}
	got := tensors.MustCopyFlatData[float32](teacher.MustValue())
	for i := range got {
		if want := s0[i] + 0.25; math.Abs(float64(got[i]-want)) > 1e-6 {
			t.Fatalf("teacher[%d] = %v, want %v", i, got[i], want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	bad := []func(c *Config){
		func(c *Config) { c.PatchSize = 12 },
		func(c *Config) { c.KeepInstances = 17 },
		func(c *Config) { c.ActionHead = "mse" },
		func(c *Config) { c.Modules.Instance = false }, // predictor without instance module
		func(c *Config) { c.MaskRatio = 1 },
		func(c *Config) { c.Heads = 5 },
		func(c *Config) { c.CompletionPerInst = 6 },
	}
	for i, f := range bad {
		c := DefaultConfig()
		f(&c)
		if c.Validate() == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
	for _, row := range []string{"baseline", "A", "B", "C"} {
		c, err := DefaultConfig().Row(row)
		if err != nil || c.Validate() != nil {
			t.Errorf("row %s: %v / %v", row, err, c.Validate())
		}
	}
	s := DefaultConfig().Spec()
	if s.PatchesPerView() != DefaultConfig().Patches() || s.Cameras != 3 || s.Horizon != 8 || s.ActionDim != 7 || s.ProprioDim != 8 {
		t.Errorf("spec %+v does not match the default config", s)
	}
}

// TestSlotSelection: view v's selected tokens land, in index order, in slots
// v*count.., extra ones are dropped and missing ones leave zero rows.
func TestSlotSelection(t *testing.T) {
	// 2 views x 4 tokens, count 2: view 0 selects {1,3}, view 1 selects {0,1,2}
	// (one too many: token 2 dropped). Second sample: view 1 selects only {3}.
	sel := []float32{0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1}
	out := run1(t, func(_ *context.Context, p []*Node) []*Node { return []*Node{slotSelection(p[0], 2)} },
		tensors.FromFlatDataAndDimensions(sel, 2, 2, 4))
	got := tensors.MustCopyFlatData[float32](out[0]) // [2,4,8]
	want := [][]int{{1, 3, 4, 5}, {0, 1, 7, -1}}     // token index per slot, -1 = empty
	for b := range want {
		for s, tok := range want[b] {
			for j := range 8 {
				w := float32(0)
				if j == tok {
					w = 1
				}
				if g := got[(b*4+s)*8+j]; g != w {
					t.Errorf("sample %d slot %d token %d: %v, want %v", b, s, j, g, w)
				}
			}
		}
	}
}
