package perception

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestPinholeFromCameraInfo(t *testing.T) {
	K := [9]float64{500, 0, 319.5, 0, 510, 239.5, 0, 0, 1}
	tests := []struct {
		name    string
		w, h    int
		model   string
		D       []float64
		K       [9]float64
		P       [12]float64
		want    Pinhole
		wantErr bool
	}{
		{name: "plumb_bob zero D", w: 640, h: 480, model: "plumb_bob", D: []float64{0, 0, 0, 0, 0}, K: K,
			want: Pinhole{Fx: 500, Fy: 510, Cx: 320, Cy: 240, Width: 640, Height: 480}},
		{name: "empty model no D", w: 640, h: 480, K: K,
			want: Pinhole{Fx: 500, Fy: 510, Cx: 320, Cy: 240, Width: 640, Height: 480}},
		{name: "equidistant zero D", w: 640, h: 480, model: "equidistant", D: []float64{0, 0, 0, 0}, K: K,
			want: Pinhole{Fx: 500, Fy: 510, Cx: 320, Cy: 240, Width: 640, Height: 480}},
		{name: "P fallback", w: 100, h: 50, P: [12]float64{80, 0, 49.5, 0, 0, 90, 24.5, 0, 0, 0, 1, 0},
			want: Pinhole{Fx: 80, Fy: 90, Cx: 50, Cy: 25, Width: 100, Height: 50}},
		{name: "plumb_bob nonzero", w: 640, h: 480, model: "plumb_bob", D: []float64{0.1, -0.05, 0.001, 0.002, 0.01}, K: K,
			want: Pinhole{Fx: 500, Fy: 510, Cx: 320, Cy: 240, Width: 640, Height: 480,
				Dist: Distortion{K1: 0.1, K2: -0.05, P1: 0.001, P2: 0.002, K3: 0.01}}},
		{name: "rational nonzero", w: 640, h: 480, model: "rational_polynomial", D: []float64{0.1, 0, 0, 0, 0, 0.05, 0, 0}, K: K,
			want: Pinhole{Fx: 500, Fy: 510, Cx: 320, Cy: 240, Width: 640, Height: 480, Dist: Distortion{K1: 0.1, K4: 0.05}}},
		{name: "equidistant nonzero refused", w: 640, h: 480, model: "equidistant", D: []float64{0.1, 0, 0, 0}, K: K, wantErr: true},
		{name: "plumb_bob too many", w: 640, h: 480, model: "plumb_bob", D: []float64{0.1, 0, 0, 0, 0, 1}, K: K, wantErr: true},
		{name: "zero focal", w: 640, h: 480, K: [9]float64{0, 0, 1, 0, 0, 1, 0, 0, 1}, wantErr: true},
		{name: "NaN focal", w: 640, h: 480, K: [9]float64{math.NaN(), 0, 1, 0, 500, 1, 0, 0, 1}, wantErr: true},
		{name: "negative focal", w: 640, h: 480, K: [9]float64{-5, 0, 1, 0, 500, 1, 0, 0, 1}, wantErr: true},
		{name: "zero size", w: 0, h: 480, K: K, wantErr: true},
		{name: "NaN D", w: 640, h: 480, model: "plumb_bob", D: []float64{math.NaN()}, K: K, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PinholeFromCameraInfo(tc.w, tc.h, tc.model, tc.D, tc.K, tc.P)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidCamera) {
					t.Fatalf("err = %v, want ErrInvalidCamera", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v want %+v", got, tc.want)
			}
		})
	}
}

func TestPinholeProjectUnprojectTable(t *testing.T) {
	c := Pinhole{Fx: 100, Fy: 200, Cx: 50, Cy: 40, Width: 100, Height: 80}
	tests := []struct {
		p    [3]float64
		u, v float64
		ok   bool
	}{
		{[3]float64{0, 0, 1}, 50, 40, true},
		{[3]float64{1, 0.5, 2}, 100, 90, true},     // 100*0.5+50, 200*0.25+40
		{[3]float64{-0.2, -0.1, 0.5}, 10, 0, true}, // 100*-0.4+50, 200*-0.2+40
		{[3]float64{0, 0, 0}, 0, 0, false},
		{[3]float64{0, 0, -1}, 0, 0, false},
	}
	for _, tc := range tests {
		u, v, ok := c.Project(tc.p)
		if ok != tc.ok || (ok && (!near(u, tc.u, 1e-12) || !near(v, tc.v, 1e-12))) {
			t.Errorf("Project(%v) = %v,%v,%v want %v,%v,%v", tc.p, u, v, ok, tc.u, tc.v, tc.ok)
		}
		if ok {
			q := c.Unproject(u, v, tc.p[2])
			for k := range 3 {
				if !near(q[k], tc.p[k], 1e-12) {
					t.Errorf("Unproject(%v,%v,%v) = %v want %v", u, v, tc.p[2], q, tc.p)
				}
			}
		}
	}
}

// Property: project(unproject(pixel, depth)) == pixel, with and without distortion.
func TestProjectUnprojectRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cams := []Pinhole{
		{Fx: 300, Fy: 310, Cx: 112, Cy: 111.3, Width: 224, Height: 224},
		{Fx: 600, Fy: 600, Cx: 320, Cy: 240, Width: 640, Height: 480,
			Dist: Distortion{K1: -0.12, K2: 0.05, P1: 0.001, P2: -0.0015, K3: -0.01}},
		{Fx: 600, Fy: 600, Cx: 320, Cy: 240, Width: 640, Height: 480,
			Dist: Distortion{K1: 0.3, K2: 0.02, K3: 0.001, K4: 0.28, K5: 0.03, K6: 0.002}},
	}
	for ci, c := range cams {
		for range 2000 {
			u := rng.Float64() * float64(c.Width)
			v := rng.Float64() * float64(c.Height)
			z := 0.1 + rng.Float64()*5
			p := c.Unproject(u, v, z)
			u2, v2, ok := c.Project(p)
			if !ok || !near(u, u2, 1e-6) || !near(v, v2, 1e-6) {
				t.Fatalf("cam %d: pixel (%v,%v) z %v -> %v -> (%v,%v,%v)", ci, u, v, z, p, u2, v2, ok)
			}
		}
	}
}

func TestDistortionReference(t *testing.T) {
	// Hand-computed: x=0.2, y=-0.1, k1=0.1, p1=0.01, p2=0.02.
	// r2=0.05, radial=1.005; xd=0.201 + 2*0.01*0.2*-0.1 + 0.02*(0.05+0.08) = 0.201-0.0004+0.0026 = 0.2032
	// yd=-0.1005 + 0.01*(0.05+0.02) + 2*0.02*0.2*-0.1 = -0.1005+0.0007-0.0008 = -0.1006
	d := Distortion{K1: 0.1, P1: 0.01, P2: 0.02}
	xd, yd := d.Distort(0.2, -0.1)
	if !near(xd, 0.2032, 1e-12) || !near(yd, -0.1006, 1e-12) {
		t.Fatalf("Distort = %v,%v", xd, yd)
	}
}

func TestPinholeScaled(t *testing.T) {
	c := Pinhole{Fx: 600, Fy: 500, Cx: 320, Cy: 240, Width: 640, Height: 480}
	s := c.Scaled(224, 168)
	want := Pinhole{Fx: 210, Fy: 175, Cx: 112, Cy: 84, Width: 224, Height: 168}
	if !near(s.Fx, want.Fx, 1e-9) || !near(s.Fy, want.Fy, 1e-9) || !near(s.Cx, want.Cx, 1e-9) || !near(s.Cy, want.Cy, 1e-9) || s.Width != 224 || s.Height != 168 {
		t.Fatalf("Scaled = %+v want %+v", s, want)
	}
	// A 3D point keeps its relative image position after a resize.
	p := [3]float64{0.3, -0.2, 1.5}
	u, v, _ := c.Project(p)
	u2, v2, _ := s.Project(p)
	if !near(u/640, u2/224, 1e-12) || !near(v/480, v2/168, 1e-12) {
		t.Fatalf("relative position changed: %v,%v vs %v,%v", u/640, v/480, u2/224, v2/168)
	}
	if in := s.Intrinsics(); in != [4]float32{210, 175, 112, 84} {
		t.Fatalf("Intrinsics = %v", in)
	}
}

// FuzzPinholeFromCameraInfo: calibration arrives from the wire; any accepted
// camera must be valid and round-trip a pixel, and nothing may panic.
func FuzzPinholeFromCameraInfo(f *testing.F) {
	f.Add(640, 480, "plumb_bob", 0.1, -0.05, 0.001, 500.0, 510.0, 319.5, 239.5)
	f.Add(224, 224, "", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(1, 1, "rational_polynomial", 1e9, 0.0, 0.0, 1e-300, 1.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, w, h int, model string, k1, k2, p1, fx, fy, cx, cy float64) {
		K := [9]float64{fx, 0, cx, 0, fy, cy, 0, 0, 1}
		c, err := PinholeFromCameraInfo(w, h, model, []float64{k1, k2, p1, 0, 0}, K, [12]float64{})
		if err != nil {
			return
		}
		if c.Validate() != nil {
			t.Fatalf("accepted invalid camera %+v", c)
		}
		// A mild, in-range distortion must round-trip at the principal point.
		if c.Dist.IsZero() && w < 1<<20 && h < 1<<20 && fx < 1e12 && fy < 1e12 {
			u, v, ok := c.Project(c.Unproject(c.Cx, c.Cy, 1))
			if !ok || !near(u, c.Cx, 1e-6*(1+math.Abs(c.Cx))) || !near(v, c.Cy, 1e-6*(1+math.Abs(c.Cy))) {
				t.Fatalf("principal point round trip (%v,%v) -> (%v,%v)", c.Cx, c.Cy, u, v)
			}
		}
	})
}
