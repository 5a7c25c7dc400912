package perception

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestProjectPointsTable(t *testing.T) {
	cam := Pinhole{Fx: 100, Fy: 100, Cx: 50, Cy: 25, Width: 100, Height: 50}
	// camFromBase: camera 1 m behind the base origin along z.
	camFromBase := Rigid{R: Identity().R, T: [3]float64{0, 0, 1}}
	points := []float32{
		0, 0, 0, // z=1: centre -> (0.5, 0.5)
		0.25, 0.125, 1, // z=2: u=100*0.125+50=62.5, v=100*0.0625+25=31.25
		0, 0, -1, // z=0: clamped to eps=0.01, behind -> invalid
		0, 0, -1.5, // z=-0.5 behind, clamp -> (0.5, 0.5) but invalid
		1, 0, 0, // z=1: u=150 outside
		-0.5, -0.25, 0, // u=0, v=0: exactly the top-left corner, inside
	}
	uv := make([]float32, 12)
	valid := make([]float32, 6)
	if err := ProjectPoints(points, cam, camFromBase, 0.01, uv, valid); err != nil {
		t.Fatal(err)
	}
	wantUV := []float32{0.5, 0.5, 0.625, 0.625, 0.5, 0.5, 0.5, 0.5, 1.5, 0.5, 0, 0}
	wantValid := []float32{1, 1, 0, 0, 0, 1}
	for i := range wantUV {
		if math.Abs(float64(uv[i]-wantUV[i])) > 1e-6 {
			t.Fatalf("uv = %v want %v", uv, wantUV)
		}
	}
	for i := range wantValid {
		if valid[i] != wantValid[i] {
			t.Fatalf("valid = %v want %v", valid, wantValid)
		}
	}
	// The clamp: a point at z = 0.005 < eps projects as if at eps.
	near := []float32{0.001, 0, -0.995}
	if err := ProjectPoints(near, cam, camFromBase, 0.01, uv, valid); err != nil {
		t.Fatal(err)
	}
	// u = 100 * 0.001/0.01 + 50 = 60 -> 0.6
	if math.Abs(float64(uv[0])-0.6) > 1e-5 || valid[0] != 0 {
		t.Fatalf("clamped uv %v valid %v", uv[:2], valid[0])
	}
	if err := ProjectPoints(points[:4], cam, camFromBase, 0.01, uv, valid); !errors.Is(err, ErrBadShape) {
		t.Fatalf("ragged points err = %v", err)
	}
	if err := ProjectPoints(points, cam, camFromBase, 0, uv, valid); !errors.Is(err, ErrBadShape) {
		t.Fatalf("zero eps err = %v", err)
	}
	g := []float32{0, 0.5, 1, 0.25}
	ToGridSample(g)
	if g[0] != -1 || g[1] != 0 || g[2] != 1 || g[3] != -0.5 {
		t.Fatalf("ToGridSample = %v", g)
	}
}

// Property: points unprojected from pixels through baseFromCam project back
// to the same normalised pixel through camFromBase.
func TestProjectPointsInvertsUnproject(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cam := Pinhole{Fx: 180, Fy: 190, Cx: 110, Cy: 115, Width: 224, Height: 224}
	for range 200 {
		baseFromCam := randomRigid(rng)
		u, v, z := rng.Float64()*224, rng.Float64()*224, 0.2+rng.Float64()*2
		p := baseFromCam.Apply(cam.Unproject(u, v, z))
		uv := make([]float32, 2)
		valid := make([]float32, 1)
		if err := ProjectPoints([]float32{float32(p[0]), float32(p[1]), float32(p[2])}, cam, baseFromCam.Inverse(), DefaultDepthEps, uv, valid); err != nil {
			t.Fatal(err)
		}
		if valid[0] != 1 || !near(float64(uv[0]), u/224, 1e-4) || !near(float64(uv[1]), v/224, 1e-4) {
			t.Fatalf("pixel (%v,%v) -> uv %v valid %v", u/224, v/224, uv, valid)
		}
	}
}

func BenchmarkProjectPoints(b *testing.B) {
	rng := rand.New(rand.NewPCG(13, 14))
	const n = 3 * 16 // 16 reference points into 3 views
	pts := make([]float32, 3*n)
	for i := range pts {
		pts[i] = rng.Float32()
	}
	cam := Pinhole{Fx: 200, Fy: 200, Cx: 112, Cy: 112, Width: 224, Height: 224}
	T := randomRigid(rng)
	uv := make([]float32, 2*n)
	valid := make([]float32, n)
	b.ReportAllocs()
	for b.Loop() {
		if err := ProjectPoints(pts, cam, T, DefaultDepthEps, uv, valid); err != nil {
			b.Fatal(err)
		}
	}
}
