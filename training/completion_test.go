package training

import (
	"context"
	"math"
	"testing"

	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy/model"
)

// sphere is one object of a ray-cast test scene.
type sphere struct {
	centre [3]float64
	radius float64
	id     uint16
}

// renderSpheres ray-casts spheres into instance ids and depth (metres, NaN
// where nothing is hit) for every view of a sample's geometry: an exact
// stand-in for the simulator's segmentation and depth.
func renderSpheres(t testing.TB, l Layout, intrinsics, camFromBase []float32, scene []sphere) ([]uint16, []float32) {
	t.Helper()
	cams, poses, err := viewGeometry(l, intrinsics, camFromBase)
	if err != nil {
		t.Fatal(err)
	}
	w, h := l.ImageW, l.ImageH
	ids := make([]uint16, l.Cameras*w*h)
	depth := make([]float32, l.Cameras*w*h)
	for v := range l.Cameras {
		o := poses[v].T
		for r := range h {
			for c := range w {
				ray := cams[v].Ray(float64(c)+0.5, float64(r)+0.5) // z = 1 in the optical frame
				d := poses[v].Rotate(ray)
				best, bestID := math.Inf(1), uint16(0)
				for _, s := range scene {
					// |o + t d - centre|² = radius², nearest root; t is the depth.
					oc := [3]float64{o[0] - s.centre[0], o[1] - s.centre[1], o[2] - s.centre[2]}
					a := dotF(d, d)
					b := 2 * dotF(oc, d)
					cc := dotF(oc, oc) - s.radius*s.radius
					disc := b*b - 4*a*cc
					if disc < 0 {
						continue
					}
					if tt := (-b - math.Sqrt(disc)) / (2 * a); tt > 0 && tt < best {
						best, bestID = tt, s.id
					}
				}
				i := v*w*h + r*w + c
				ids[i] = bestID
				depth[i] = float32(math.NaN())
				if bestID != 0 {
					depth[i] = float32(best)
				}
			}
		}
	}
	return ids, depth
}

func dotF(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

// oneCamera is a 64x64 camera 0.6 m in front of and above the workspace
// centre, looking at it.
func oneCamera(l Layout) (intr, ext []float32) {
	f := float32(1.5 * float64(l.ImageW))
	return []float32{f, f, float32(l.ImageW) / 2, float32(l.ImageH) / 2}, lookAtF32([3]float64{1.1, 0.1, 0.35}, [3]float64{0.55, 0, 0.05})
}

// Three spheres seen by one camera: C sits in front of A and hides part of
// it, B is free. With room for two instances, A (occluded) and then the
// unoccluded one with fewer pixels are queried; every query lies on the
// hidden side of its sphere (farther from the camera than the visible
// surface's centroid) and near its surface.
func TestCompletionLabelsHiddenSide(t *testing.T) {
	l := Layout{Cameras: 1, ImageW: 64, ImageH: 64, Completion: 10}
	intr, ext := oneCamera(l)
	scene := []sphere{
		{[3]float64{0.50, 0.0, 0.05}, 0.05, 1},   // A, partly hidden by C
		{[3]float64{0.55, 0.13, 0.05}, 0.035, 2}, // B, free and small
		{[3]float64{0.75, 0.055, 0.16}, 0.03, 3}, // C, in front of A
	}
	ids, depth := renderSpheres(t, l, intr, ext, scene)
	lab := CompletionLabeler{Layout: l, PerInstance: 5, MinPixels: 4}
	coords := make([]float32, 30)
	valid := make([]float32, 10)
	n, err := lab.Label(ids, depth, intr, ext, coords, valid)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("queried %d instances, want 2", n)
	}
	for i, v := range valid {
		if v != 1 {
			t.Fatalf("valid %v: slot %d", valid, i)
		}
	}
	ranked := lab.rank(ids, depth)
	if ranked[0].id != 1 || ranked[0].score <= 0 {
		t.Fatalf("most occluded %+v, want id 1 (A) with a positive score; all %+v", ranked[0], ranked)
	}
	_, poses, _ := viewGeometry(l, intr, ext)
	eye := poses[0].T
	cams, _, _ := viewGeometry(l, intr, ext)
	mask := make([]uint8, 64*64)
	for slot, inst := range ranked[:2] {
		s := scene[inst.id-1]
		if err := perception.MaskFromLabels(ids, inst.id, mask); err != nil {
			t.Fatal(err)
		}
		pts, err := perception.BackprojectMask(mask, depth, cams[0], poses[0], 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		vis, _ := perception.PointsCentroid(pts)
		visDist := distF(eye, vis[:])
		for j := range 5 {
			q := coords[3*(slot*5+j):]
			if d := distF(eye, q); d <= visDist {
				t.Errorf("instance %d query %d %v at %.3f m from the camera, visible centroid %.3f m", inst.id, j, q[:3], d, visDist)
			}
			// The reflection of a sphere's visible cap is its hidden cap;
			// an occluded cap gives a rougher axis, so allow one radius.
			if e := math.Abs(distF(s.centre, q) - s.radius); e > s.radius {
				t.Errorf("instance %d query %d %v is %.3f m off the surface", inst.id, j, q[:3], e)
			}
		}
	}
}

// Valid flags follow the instance count: one object fills one slot of
// queries; nothing visible leaves every slot invalid and zero.
func TestCompletionLabelsValidCount(t *testing.T) {
	l := Layout{Cameras: 1, ImageW: 64, ImageH: 64, Completion: 10}
	intr, ext := oneCamera(l)
	lab := CompletionLabeler{Layout: l, PerInstance: 5, MinPixels: 4, Ignore: []uint16{9}}
	coords := make([]float32, 30)
	valid := make([]float32, 10)
	for _, tc := range []struct {
		name  string
		scene []sphere
		want  int
	}{
		{"empty", nil, 0},
		{"ignored only", []sphere{{[3]float64{0.55, 0, 0.05}, 0.05, 9}}, 0},
		{"one", []sphere{{[3]float64{0.55, 0, 0.05}, 0.05, 4}}, 1},
		{"two", []sphere{{[3]float64{0.55, 0, 0.05}, 0.05, 4}, {[3]float64{0.55, 0.2, 0.05}, 0.04, 7}}, 2},
		{"three capped at two", []sphere{{[3]float64{0.55, 0, 0.05}, 0.05, 4}, {[3]float64{0.55, 0.2, 0.05}, 0.04, 7}, {[3]float64{0.5, -0.2, 0.05}, 0.04, 8}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, depth := renderSpheres(t, l, intr, ext, tc.scene)
			n, err := lab.Label(ids, depth, intr, ext, coords, valid)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Fatalf("%d instances, want %d", n, tc.want)
			}
			for i := range valid {
				want := boolf(i < 5*tc.want)
				if valid[i] != want {
					t.Fatalf("valid %v", valid)
				}
				if want == 0 && (coords[3*i] != 0 || coords[3*i+1] != 0 || coords[3*i+2] != 0) {
					t.Fatalf("invalid slot %d not zero: %v", i, coords[3*i:3*i+3])
				}
			}
		})
	}
	if _, err := lab.Label(make([]uint16, 10), make([]float32, 10), intr, ext, coords, valid); err == nil {
		t.Fatal("bad sizes accepted")
	}
	bad := lab
	bad.PerInstance = 3
	if _, err := bad.Label(make([]uint16, 64*64), make([]float32, 64*64), intr, ext, coords, valid); err == nil {
		t.Fatal("10 queries split into instances of 3 accepted")
	}
}

// A stage-2 training step runs on label-derived completion coordinates with
// the model reading them from its inputs.
func TestTrainStepWithCompletionLabels(t *testing.T) {
	cfg, data := tinyRun(t, "C", []Stage{Stage2}, 2)
	cfg.WarmupSteps = 1
	cfg.Model.CompletionSource = model.CompletionInput
	l := LayoutFor(cfg.Model, cfg.MaxInstances)
	// 32x32 views put pixels ~2.5 cm apart on the spheres: denoise with a
	// 6 cm DBSCAN radius.
	lab := CompletionLabeler{Layout: l, PerInstance: cfg.Model.CompletionPerInst, MinPixels: 2, Config: perception.CompletionConfig{Eps: 0.06}}
	scene := []sphere{{[3]float64{0.5, -0.1, 0.1}, 0.08, 1}, {[3]float64{0.6, 0.12, 0.1}, 0.08, 2}}
	queried := 0
	for _, s := range data.Samples {
		ids, depth := renderSpheres(t, l, s.Input.Intrinsics, s.Input.CamFromBase, scene)
		s.CompletionCoords = make([]float32, 3*l.Completion)
		s.CompletionValid = make([]float32, l.Completion)
		n, err := lab.Label(ids, depth, s.Input.Intrinsics, s.Input.CamFromBase, s.CompletionCoords, s.CompletionValid)
		if err != nil {
			t.Fatal(err)
		}
		queried += n
	}
	if queried == 0 {
		t.Fatal("no instance queried in any sample")
	}
	src, err := ResolveCompletionSource(CompletionFromLabels, data)
	if err != nil || src != model.CompletionInput {
		t.Fatalf("source %q, %v; want %q", src, err, model.CompletionInput)
	}
	tr, err := New(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range res.Last {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("loss %s = %v", k, v)
		}
	}
	if _, ok := res.Last["pred_smooth_l1"]; !ok {
		t.Fatalf("no predictor loss in %v", res.Last)
	}
}

func TestResolveCompletionSource(t *testing.T) {
	with := &MemoryDataset{Samples: []*Sample{{CompletionCoords: []float32{0, 0, 0}, CompletionValid: []float32{1}}}}
	without := &MemoryDataset{Samples: []*Sample{{}}}
	for _, tc := range []struct {
		choice string
		data   Dataset
		want   string
		err    bool
	}{
		{CompletionFromLabels, with, model.CompletionInput, false},
		{CompletionFromLabels, without, model.CompletionDerived, false},
		{CompletionDerivedInGraph, with, model.CompletionDerived, false},
		{"", with, model.CompletionInput, false},
		{"bogus", with, "", true},
	} {
		got, err := ResolveCompletionSource(tc.choice, tc.data)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q (error %v)", tc.choice, got, err, tc.want, tc.err)
		}
	}
}

func BenchmarkCompletionLabels(b *testing.B) {
	l := Layout{Cameras: 1, ImageW: 96, ImageH: 96, Completion: 30}
	intr, ext := oneCamera(l)
	scene := []sphere{{[3]float64{0.50, 0.0, 0.05}, 0.05, 1}, {[3]float64{0.55, 0.20, 0.05}, 0.035, 2}, {[3]float64{0.75, 0.03, 0.05}, 0.03, 3}}
	ids, depth := renderSpheres(b, l, intr, ext, scene)
	lab := CompletionLabeler{Layout: l, PerInstance: 5, MinPixels: 4}
	coords := make([]float32, 90)
	valid := make([]float32, 30)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lab.Label(ids, depth, intr, ext, coords, valid); err != nil {
			b.Fatal(err)
		}
	}
}

// Property: moving the whole scene and the cameras by a translation moves
// every completion query by the same translation (all steps are
// translation-equivariant).
func TestCompletionLabelsTranslation(t *testing.T) {
	l := Layout{Cameras: 1, ImageW: 64, ImageH: 64, Completion: 10}
	scene := []sphere{{[3]float64{0.50, 0.0, 0.05}, 0.05, 1}, {[3]float64{0.55, 0.13, 0.05}, 0.035, 2}}
	shift := [3]float64{0.3, -0.2, 0.1}
	run := func(off [3]float64) ([]float32, []float32) {
		intr := []float32{96, 96, 32, 32}
		eye := [3]float64{1.1 + off[0], 0.1 + off[1], 0.35 + off[2]}
		ext := lookAtF32(eye, [3]float64{0.55 + off[0], off[1], 0.05 + off[2]})
		moved := make([]sphere, len(scene))
		for i, s := range scene {
			moved[i] = sphere{[3]float64{s.centre[0] + off[0], s.centre[1] + off[1], s.centre[2] + off[2]}, s.radius, s.id}
		}
		ids, depth := renderSpheres(t, l, intr, ext, moved)
		coords, valid := make([]float32, 30), make([]float32, 10)
		if _, err := (&CompletionLabeler{Layout: l, PerInstance: 5, MinPixels: 4}).Label(ids, depth, intr, ext, coords, valid); err != nil {
			t.Fatal(err)
		}
		return coords, valid
	}
	c0, v0 := run([3]float64{})
	c1, v1 := run(shift)
	for i := range v0 {
		if v0[i] != v1[i] {
			t.Fatalf("valid %v vs %v", v0, v1)
		}
		if v0[i] == 0 {
			continue
		}
		for a := range 3 {
			if d := float64(c1[3*i+a]-c0[3*i+a]) - shift[a]; math.Abs(d) > 2e-3 {
				t.Fatalf("query %d moved by %v, want %v", i, []float32{c1[3*i] - c0[3*i], c1[3*i+1] - c0[3*i+1], c1[3*i+2] - c0[3*i+2]}, shift)
			}
		}
	}
}

// FuzzCompletionLabeler: arbitrary label and depth images (outside bytes)
// never panic, valid flags come in per-instance prefixes, and valid
// queries are finite.
func FuzzCompletionLabeler(f *testing.F) {
	f.Add([]byte{1, 1, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0, 0, 0, 0}, []byte{10, 10, 10, 10, 20, 20, 0, 0, 12, 12, 255, 20, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, rawIDs, rawDepth []byte) {
		const w, h = 4, 4
		if len(rawIDs) < w*h || len(rawDepth) < w*h {
			return
		}
		l := Layout{Cameras: 1, ImageW: w, ImageH: h, Completion: 6}
		ids := make([]uint16, w*h)
		depth := make([]float32, w*h)
		for i := range ids {
			ids[i] = uint16(rawIDs[i] % 4)
			depth[i] = float32(rawDepth[i]) / 100
			if rawDepth[i] == 255 {
				depth[i] = float32(math.NaN())
			}
		}
		lab := CompletionLabeler{Layout: l, PerInstance: 3, Config: perception.CompletionConfig{Eps: 0.5, MinPts: 1}}
		coords, valid := make([]float32, 18), make([]float32, 6)
		n, err := lab.Label(ids, depth, []float32{4, 4, 2, 2}, []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}, coords, valid)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for s := range 2 {
			if valid[3*s] == 1 {
				got++
			}
			for j := 1; j < 3; j++ {
				if valid[3*s+j] == 1 && valid[3*s+j-1] == 0 {
					t.Fatalf("valid %v not a prefix", valid)
				}
			}
		}
		if got != n {
			t.Fatalf("%d instances reported, %d slots valid", n, got)
		}
		for i, v := range valid {
			for a := range 3 {
				if x := float64(coords[3*i+a]); v == 1 && (math.IsNaN(x) || math.IsInf(x, 0)) {
					t.Fatalf("query %d not finite: %v", i, coords[3*i:3*i+3])
				}
			}
		}
	})
}
