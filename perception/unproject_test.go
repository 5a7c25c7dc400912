package perception

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSelectionMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 1; n < 300; n += 1 + n/20 {
		for trial := range 30 {
			a := make([]float32, n)
			for i := range a {
				switch trial % 5 {
				case 0:
					a[i] = rng.Float32()
				case 1:
					a[i] = float32(rng.IntN(4)) // many duplicates
				case 2:
					a[i] = float32(i) // sorted
				case 3:
					a[i] = 1 + float32(rng.IntN(3))*1e-6 // tiny spread next to an outlier
					if i == 0 {
						a[i] = 1e6
					}
				default:
					a[i] = float32(rng.NormFloat64()) * 1e-30
				}
			}
			s := slices.Clone(a)
			slices.Sort(s)
			k := rng.IntN(n)
			if got := selectKth(slices.Clone(a), k); got != s[k] {
				t.Fatalf("n=%d trial=%d selectKth(%d) = %v want %v", n, trial, k, got, s[k])
			}
			if trial%5 != 4 { // histKeySelect takes positive depth only
				keys := make([]uint32, n)
				for i, v := range a {
					keys[i] = math.Float32bits(v + 1)
				}
				lo, hi := slices.Min(keys), slices.Max(keys)
				if got := math.Float32frombits(histKeySelect(keys, make([]uint32, n), k, lo, hi)); got != s[k]+1 {
					t.Fatalf("n=%d trial=%d histKeySelect(%d) = %v want %v", n, trial, k, got, s[k]+1)
				}
			}
			if got := lowerMedian(slices.Clone(a)); got != s[(n-1)/2] {
				t.Fatalf("n=%d trial=%d lowerMedian = %v want %v", n, trial, got, s[(n-1)/2])
			}
		}
	}
}

func TestDepthKeyValid(t *testing.T) {
	tests := []struct {
		z    float32
		want uint32
	}{
		{1, 1}, {1e-38, 1}, {math.SmallestNonzeroFloat32, 1}, {math.MaxFloat32, 1},
		{0, 0}, {float32(math.Copysign(0, -1)), 0}, {-1, 0}, {float32(math.Inf(1)), 0},
		{float32(math.Inf(-1)), 0}, {float32(math.NaN()), 0}, {-float32(math.NaN()), 0},
	}
	for _, tc := range tests {
		if got := depthKeyValid(math.Float32bits(tc.z)); got != tc.want {
			t.Errorf("depthKeyValid(%v) = %d want %d", tc.z, got, tc.want)
		}
	}
}

func TestPatchGrid(t *testing.T) {
	tests := []struct {
		w, h, p, cols, rows int
		err                 bool
	}{
		{224, 224, 16, 14, 14, false},
		{96, 96, 16, 6, 6, false},
		{100, 70, 16, 6, 4, false}, // remainders dropped like a stride-16 conv
		{640, 480, 32, 20, 15, false},
		{10, 10, 16, 0, 0, true},
		{16, 16, 0, 0, 0, true},
	}
	for _, tc := range tests {
		c, r, err := PatchGrid(tc.w, tc.h, tc.p)
		if (err != nil) != tc.err || c != tc.cols || r != tc.rows {
			t.Errorf("PatchGrid(%d,%d,%d) = %d,%d,%v", tc.w, tc.h, tc.p, c, r, err)
		}
	}
}

func TestPatchUnprojectorHandComputed(t *testing.T) {
	// 4x2 image, patch 2 -> 2x1 grid. Camera fx=fy=2, c=(2,1): patch 0 centre
	// (1,1) has ray x=(1-2)/2=-0.5, y=0; patch 1 centre (3,1) has x=0.5, y=0.
	cam := Pinhole{Fx: 2, Fy: 2, Cx: 2, Cy: 1, Width: 4, Height: 2}
	nan := float32(math.NaN())
	depth := []float32{
		1, 3, nan, nan,
		2, 100, nan, 0,
	}
	// base <- camera: translate by (10, 0, 0).
	base := Rigid{R: Identity().R, T: [3]float64{10, 0, 0}}
	var u PatchUnprojector
	pts := make([]float32, 6)
	valid := make([]float32, 2)
	if err := u.Unproject(depth, cam, base, 2, pts, valid); err != nil {
		t.Fatal(err)
	}
	// Patch 0 lower median of {1,3,2,100} = 2 -> (-1, 0, 2) + (10,0,0).
	want := []float32{9, 0, 2, 0, 0, 0}
	if !slices.Equal(pts, want) || !slices.Equal(valid, []float32{1, 0}) {
		t.Fatalf("points %v valid %v, want %v [1 0]", pts, valid, want)
	}
	// MinValidFraction 1 needs every pixel valid.
	u.MinValidFraction = 1
	depth[0] = nan
	if err := u.Unproject(depth, cam, base, 2, pts, valid); err != nil {
		t.Fatal(err)
	}
	if valid[0] != 0 {
		t.Fatalf("patch with a hole accepted at MinValidFraction 1")
	}
	if err := u.Unproject(depth[:7], cam, base, 2, pts, valid); !errors.Is(err, ErrBadShape) {
		t.Fatalf("short depth err = %v", err)
	}
	if err := u.Unproject(depth, cam, base, 2, pts[:5], valid); !errors.Is(err, ErrBadShape) {
		t.Fatalf("short dst err = %v", err)
	}
}

// Property: a fronto-parallel plane at constant depth unprojects to patch
// points that project back to the patch centres, through any extrinsic.
func TestPatchUnprojectorRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 20 {
		w, h := 32+rng.IntN(200), 32+rng.IntN(200)
		p := 4 + rng.IntN(28)
		cam := Pinhole{Fx: 100 + rng.Float64()*300, Fy: 100 + rng.Float64()*300, Cx: float64(w) / 2, Cy: float64(h) / 2, Width: w, Height: h}
		if trial%2 == 1 {
			cam.Dist = Distortion{K1: -0.1, K2: 0.02, P1: 0.001}
		}
		z := float32(0.3 + rng.Float64()*3)
		depth := make([]float32, w*h)
		for i := range depth {
			depth[i] = z
		}
		baseFromCam := randomRigid(rng)
		camFromBase := baseFromCam.Inverse()
		cols, rows, err := PatchGrid(w, h, p)
		if err != nil {
			continue
		}
		pts := make([]float32, 3*cols*rows)
		valid := make([]float32, cols*rows)
		var u PatchUnprojector
		if err := u.Unproject(depth, cam, baseFromCam, p, pts, valid); err != nil {
			t.Fatal(err)
		}
		for i := range cols * rows {
			q := camFromBase.Apply([3]float64{float64(pts[3*i]), float64(pts[3*i+1]), float64(pts[3*i+2])})
			uu, vv, ok := cam.Project(q)
			cu, cv := float64(i%cols*p)+float64(p)/2, float64(i/cols*p)+float64(p)/2
			if valid[i] != 1 || !ok || !near(uu, cu, 1e-3) || !near(vv, cv, 1e-3) || !near(q[2], float64(z), 1e-5) {
				t.Fatalf("trial %d patch %d: projects to (%v,%v) z %v, want (%v,%v) z %v", trial, i, uu, vv, q[2], cu, cv, z)
			}
		}
	}
}

func TestUnprojectDepth(t *testing.T) {
	cam := Pinhole{Fx: 1, Fy: 1, Cx: 1, Cy: 1, Width: 2, Height: 1}
	depth := []float32{2, float32(math.NaN())}
	pts := make([]float32, 6)
	valid := make([]float32, 2)
	if err := UnprojectDepth(depth, cam, Identity(), pts, valid); err != nil {
		t.Fatal(err)
	}
	// Pixel 0 centre (0.5, 0.5): ray (-0.5, -0.5, 1) * 2.
	if !slices.Equal(pts, []float32{-1, -1, 2, 0, 0, 0}) || !slices.Equal(valid, []float32{1, 0}) {
		t.Fatalf("pts %v valid %v", pts, valid)
	}
}

// frameDepth builds three 224x224 depth views with holes, like a real sensor.
func frameDepth(rng *rand.Rand) [][]float32 {
	views := make([][]float32, 3)
	for v := range views {
		d := make([]float32, 224*224)
		for i := range d {
			d[i] = 0.5 + rng.Float32()
			if rng.IntN(20) == 0 {
				d[i] = float32(math.NaN())
			}
		}
		views[v] = d
	}
	return views
}

// BenchmarkPatchUnprojector3Views is one 3-camera frame: 224x224 depth into
// 14x14 grids of 16 px patches per view.
func BenchmarkPatchUnprojector3Views(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	views := frameDepth(rng)
	cam := Pinhole{Fx: 200, Fy: 200, Cx: 112, Cy: 112, Width: 224, Height: 224}
	extr := []Rigid{randomRigid(rng), randomRigid(rng), randomRigid(rng)}
	pts := make([]float32, 3*196*3)
	valid := make([]float32, 3*196)
	var u PatchUnprojector
	if err := u.Unproject(views[0], cam, extr[0], 16, pts, valid); err != nil { // warm the scratch and ray cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for v := range 3 {
			if err := u.Unproject(views[v], cam, extr[v], 16, pts[v*196*3:(v+1)*196*3], valid[v*196:(v+1)*196]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Remainder pixels outside the whole-patch grid never influence it, and a
// camera change invalidates the cached rays.
func TestPatchUnprojectorEdgesAndCache(t *testing.T) {
	cam := Pinhole{Fx: 50, Fy: 50, Cx: 50, Cy: 35, Width: 100, Height: 70}
	depth := make([]float32, 100*70)
	for i := range depth {
		depth[i] = 1
		if r, c := i/100, i%100; r >= 64 || c >= 96 {
			depth[i] = 1000 // the uncovered right columns and bottom rows
		}
	}
	cols, rows, _ := PatchGrid(100, 70, 16)
	pts := make([]float32, 3*cols*rows)
	valid := make([]float32, cols*rows)
	var u PatchUnprojector
	if err := u.Unproject(depth, cam, Identity(), 16, pts, valid); err != nil {
		t.Fatal(err)
	}
	for i := range cols * rows {
		if valid[i] != 1 || pts[3*i+2] != 1 {
			t.Fatalf("patch %d: z %v valid %v", i, pts[3*i+2], valid[i])
		}
	}
	first := slices.Clone(pts)
	shifted := cam
	shifted.Cx += 10
	if err := u.Unproject(depth, shifted, Identity(), 16, pts, valid); err != nil {
		t.Fatal(err)
	}
	// x = (u - cx)/fx * z: moving cx by 10 px moves every x by -0.2 m.
	for i := range cols * rows {
		if !near(float64(pts[3*i]), float64(first[3*i])-0.2, 1e-6) {
			t.Fatalf("patch %d: x %v after cx shift, was %v (stale ray cache?)", i, pts[3*i], first[3*i])
		}
	}
}
