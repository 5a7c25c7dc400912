package preprocess

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
)

func testSpec(cams, size, patch, proprio int) policy.Spec {
	return policy.Spec{
		Cameras: cams, ImageWidth: size, ImageHeight: size, PatchSize: patch, ActionDim: 7, Horizon: 4,
		ProprioDim: proprio, InstructionLen: 6, Vocabulary: []string{"pick", "up", "the", "red", "cube"},
	}
}

// frame builds a camera of w x h with colour (x, y, x+y) mod 256, constant
// depth z, fx = fy = f, principal point at the centre (ROS convention).
func frame(name string, w, h int, z float32, f float64, base msgs.Transform) msgs.CameraFrame {
	c := msgs.CameraFrame{Name: name, Stamp: time.Unix(1, 0), BaseFromCamera: base}
	c.Color = msgs.RGBImage{Width: w, Height: h, Pix: make([]uint8, w*h*3)}
	c.Depth = msgs.DepthImage{Width: w, Height: h, Meters: make([]float32, w*h)}
	for y := range h {
		for x := range w {
			i := y*w + x
			c.Color.Pix[3*i], c.Color.Pix[3*i+1], c.Color.Pix[3*i+2] = uint8(x), uint8(y), uint8(x+y)
			c.Depth.Meters[i] = z
		}
	}
	cx, cy := float64(w)/2-0.5, float64(h)/2-0.5
	c.Info = msgs.CameraInfo{FrameID: name, Width: w, Height: h, K: [9]float64{f, 0, cx, 0, f, cy, 0, 0, 1},
		P: [12]float64{f, 0, cx, 0, 0, f, cy, 0, 0, 0, 1, 0}}
	return c
}

var identity = msgs.Transform{Rotation: [4]float64{0, 0, 0, 1}}

func observation(cams ...msgs.CameraFrame) *msgs.Observation {
	return &msgs.Observation{Stamp: time.Unix(1, 0), BaseFrame: "base", Cameras: cams,
		EEPose: msgs.Pose{Position: [3]float64{0.4, 0, 0.3}, Orientation: [4]float64{0, 0, 0, 1}}, Gripper: 0.5,
		Instruction: "Pick up the RED cube!"}
}

func TestProcessSameSize(t *testing.T) {
	spec := testSpec(1, 32, 8, ProprioDimRPY)
	p, err := New(spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := policy.NewInput(spec)
	obs := observation(frame("front", 32, 32, 2, 40, identity))
	if err := p.Process(obs, in); err != nil {
		t.Fatal(err)
	}
	plane := 32 * 32
	// Pixel (x=5, y=7): R = 5/255, G = 7/255, B = 12/255, CHW.
	i := 7*32 + 5
	for c, want := range []float64{5.0 / 255, 7.0 / 255, 12.0 / 255} {
		if got := float64(in.Images[c*plane+i]); math.Abs(got-want) > 1e-6 {
			t.Errorf("channel %d = %v, want %v", c, got, want)
		}
	}
	// Intrinsics: corner-origin principal point = ROS cx + 0.5 = 16.
	if got := in.Intrinsics; got[0] != 40 || got[1] != 40 || got[2] != 16 || got[3] != 16 {
		t.Errorf("intrinsics %v, want [40 40 16 16]", got)
	}
	// Patch (col 1, row 2) centre pixel (12, 20): x = (12-16)/40*2, y = (20-16)/40*2, z = 2.
	k := 2*4 + 1
	want := []float64{-0.2, 0.2, 2}
	for a := range 3 {
		if got := float64(in.Points[3*k+a]); math.Abs(got-want[a]) > 1e-6 {
			t.Errorf("point axis %d = %v, want %v", a, got, want[a])
		}
	}
	if in.PointValid[k] != 1 {
		t.Error("patch with full depth is not valid")
	}
	// Identity extrinsic: CamFromBase = [I|0].
	for j, w := range []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0} {
		if in.CamFromBase[j] != w {
			t.Fatalf("CamFromBase %v", in.CamFromBase)
		}
	}
	// Tokens: pick=1 up=2 the=3 red=4 cube=5, padded.
	for j, w := range []int64{1, 2, 3, 4, 5, 0} {
		if in.Instruction[j] != w {
			t.Fatalf("tokens %v", in.Instruction)
		}
	}
	// Proprio (no stats): x, y, z, roll, pitch, yaw, gripper.
	for j, w := range []float32{0.4, 0, 0.3, 0, 0, 0, 0.5} {
		if math.Abs(float64(in.Proprio[j]-w)) > 1e-6 {
			t.Fatalf("proprio %v", in.Proprio)
		}
	}
}

// Downscaling 64 -> 32: intrinsics halve, a bilinear sample at the centre of
// a 2x2 block is the block mean, area is the same here, and the extrinsic
// moves points into the base frame.
func TestProcessResizeAndExtrinsic(t *testing.T) {
	for _, mode := range []ResizeMode{Bilinear, Area} {
		spec := testSpec(1, 32, 8, ProprioDimQuaternion)
		p, err := New(spec, Options{Resize: mode})
		if err != nil {
			t.Fatal(err)
		}
		in := policy.NewInput(spec)
		// Camera 1 m above the base origin looking down: optical z = -base z.
		// Rotation of pi about x: q = (1, 0, 0, 0).
		down := msgs.Transform{Translation: [3]float64{0, 0, 1}, Rotation: [4]float64{1, 0, 0, 0}}
		obs := observation(frame("top", 64, 64, 1, 80, down))
		if err := p.Process(obs, in); err != nil {
			t.Fatal(err)
		}
		if got := in.Intrinsics; got[0] != 40 || got[2] != 16 {
			t.Errorf("%v: intrinsics %v, want fx 40, cx 16", mode, got)
		}
		// Output pixel (3, 5) covers source x 6..7, y 10..11: mean R = 6.5.
		if got := float64(in.Images[5*32+3]) * 255; math.Abs(got-6.5) > 1e-4 {
			t.Errorf("%v: resized R = %v, want 6.5", mode, got)
		}
		// Centre patch ray ~ (0,0,1) at depth 1 lands near the base origin: z_base = 1 - 1 = 0.
		k := 1*4 + 1 // patch centre pixel (12,12) in a 32 px image, cx = 16: x = -4/40
		if got := in.Points[3*k+2]; math.Abs(float64(got)) > 1e-6 {
			t.Errorf("%v: base z = %v, want 0", mode, got)
		}
		if got, want := in.Points[3*k+1], float32(0.1); math.Abs(float64(got-want)) > 1e-6 { // y flips sign
			t.Errorf("%v: base y = %v, want %v", mode, got, want)
		}
		// CamFromBase maps the camera centre (0,0,1) to the optical origin.
		if in.CamFromBase[11] != 1 || in.CamFromBase[10] != -1 {
			t.Errorf("%v: CamFromBase %v", mode, in.CamFromBase)
		}
		// Quaternion proprio (identity EE orientation, w >= 0).
		if in.Proprio[6] != 1 || in.Proprio[7] != 0.5 {
			t.Errorf("%v: proprio %v", mode, in.Proprio)
		}
	}
}

func TestResizeBilinearAgainstReference(t *testing.T) {
	sw, sh, dw, dh := 7, 5, 4, 3
	src := make([]uint8, sw*sh*3)
	for i := range src {
		src[i] = uint8(i * 37 % 251)
	}
	var r resizer
	dst := make([]float32, 3*dw*dh)
	r.resizeRGB(src, sw, sh, dst, dw, dh, Bilinear)
	at := func(x, y, c int) float64 {
		x = max(0, min(x, sw-1))
		y = max(0, min(y, sh-1))
		return float64(src[(y*sw+x)*3+c]) / 255
	}
	for y := range dh {
		for x := range dw {
			fx := (float64(x)+0.5)*float64(sw)/float64(dw) - 0.5
			fy := (float64(y)+0.5)*float64(sh)/float64(dh) - 0.5
			x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
			ax, ay := fx-float64(x0), fy-float64(y0)
			if x0 < 0 {
				ax = 0
			}
			if y0 < 0 {
				ay = 0
			}
			for c := range 3 {
				want := (1-ay)*((1-ax)*at(x0, y0, c)+ax*at(x0+1, y0, c)) + ay*((1-ax)*at(x0, y0+1, c)+ax*at(x0+1, y0+1, c))
				if got := float64(dst[c*dw*dh+y*dw+x]); math.Abs(got-want) > 1e-5 {
					t.Errorf("(%d,%d,%d) = %v, want %v", x, y, c, got, want)
				}
			}
		}
	}
}

func TestResizeAreaAgainstReference(t *testing.T) {
	sw, sh, dw, dh := 6, 6, 2, 3 // 3x2 boxes
	src := make([]uint8, sw*sh*3)
	for i := range src {
		src[i] = uint8(i * 13 % 256)
	}
	var r resizer
	dst := make([]float32, 3*dw*dh)
	r.resizeRGB(src, sw, sh, dst, dw, dh, Area)
	for y := range dh {
		for x := range dw {
			for c := range 3 {
				var s float64
				for yy := 2 * y; yy < 2*y+2; yy++ {
					for xx := 3 * x; xx < 3*x+3; xx++ {
						s += float64(src[(yy*sw+xx)*3+c]) / 255
					}
				}
				if got, want := float64(dst[c*dw*dh+y*dw+x]), s/6; math.Abs(got-want) > 1e-5 {
					t.Errorf("(%d,%d,%d) = %v, want %v", x, y, c, got, want)
				}
			}
		}
	}
}

func TestQuaternionToRPY(t *testing.T) {
	h := math.Sqrt(0.5)
	tests := []struct {
		q             [4]float64
		roll, pi, yaw float64
	}{
		{[4]float64{0, 0, 0, 1}, 0, 0, 0},
		{[4]float64{h, 0, 0, h}, math.Pi / 2, 0, 0},
		{[4]float64{0, math.Sin(0.2), 0, math.Cos(0.2)}, 0, 0.4, 0},
		{[4]float64{math.Sin(0.1) * math.Cos(0.15), math.Cos(0.1) * math.Sin(0.15), -math.Sin(0.1) * math.Sin(0.15), math.Cos(0.1) * math.Cos(0.15)}, 0.2, 0.3, 0}, // Ry(0.3) Rx(0.2)
		{[4]float64{0, 0, h, h}, 0, 0, math.Pi / 2},
		{[4]float64{0, 0, math.Sin(-0.3), math.Cos(-0.3)}, 0, 0, -0.6},
	}
	for _, tc := range tests {
		r, p, y := QuaternionToRPY(tc.q[0], tc.q[1], tc.q[2], tc.q[3])
		if math.Abs(r-tc.roll) > 1e-9 || math.Abs(p-tc.pi) > 1e-6 || math.Abs(y-tc.yaw) > 1e-9 {
			t.Errorf("q %v: rpy (%v %v %v), want (%v %v %v)", tc.q, r, p, y, tc.roll, tc.pi, tc.yaw)
		}
	}
}

func TestTokenize(t *testing.T) {
	p, err := New(testSpec(1, 32, 8, 7), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []int64
	}{
		{"", []int64{0, 0, 0, 0, 0, 0}},
		{"pick up the red cube", []int64{1, 2, 3, 4, 5, 0}},
		{"PICK...up,the  blue cube", []int64{1, 2, 3, 0, 5, 0}},
		{"pick2up the3red", []int64{1, 2, 3, 4, 0, 0}},
		{"pick pick pick pick pick pick pick pick", []int64{1, 1, 1, 1, 1, 1}},
		{"Ünïcode pick", []int64{0, 1, 0, 0, 0, 0}},
	}
	dst := make([]int64, 6)
	for _, tc := range tests {
		p.Tokenize(tc.in, dst)
		for i := range dst {
			if dst[i] != tc.want[i] {
				t.Errorf("%q -> %v, want %v", tc.in, dst, tc.want)
				break
			}
		}
	}
}

func TestProprioNormalization(t *testing.T) {
	spec := testSpec(1, 32, 8, ProprioDimRPY)
	spec.ProprioMean = []float32{0.4, 0, 0, 0, 0, 0, 0}
	spec.ProprioStd = []float32{0.1, 1, 0.5, 1, 1, 1, 0.25}
	p, err := New(spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := policy.NewInput(spec)
	obs := observation(frame("c", 32, 32, 1, 30, identity))
	obs.EEPose.Position = [3]float64{0.5, 0, 0.3}
	if err := p.Process(obs, in); err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 0, 0.6, 0, 0, 0, 2}
	for i := range want {
		if math.Abs(float64(in.Proprio[i]-want[i])) > 1e-5 {
			t.Fatalf("proprio %v, want %v", in.Proprio, want)
		}
	}
	spec.ProprioStd[2] = 0
	if _, err := New(spec, Options{}); !errors.Is(err, ErrSpec) {
		t.Errorf("zero std accepted: %v", err)
	}
}

func TestProcessErrors(t *testing.T) {
	spec := testSpec(2, 32, 8, ProprioDimRPY)
	p, err := New(spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := policy.NewInput(spec)
	good := func() *msgs.Observation {
		return observation(frame("a", 32, 32, 1, 30, identity), frame("b", 32, 32, 1, 30, identity))
	}
	tests := []struct {
		name   string
		mutate func(o *msgs.Observation)
		want   error
	}{
		{"one camera missing", func(o *msgs.Observation) { o.Cameras = o.Cameras[:1] }, ErrMissingCamera},
		{"no colour", func(o *msgs.Observation) { o.Cameras[1].Color = msgs.RGBImage{} }, ErrMissingCamera},
		{"no camera_info", func(o *msgs.Observation) { o.Cameras[0].Info = msgs.CameraInfo{} }, ErrMissingCamera},
		{"info size mismatch", func(o *msgs.Observation) { o.Cameras[0].Info.Width = 64 }, ErrSize},
		{"depth not registered", func(o *msgs.Observation) {
			o.Cameras[1].Depth = msgs.DepthImage{Width: 16, Height: 16, Meters: make([]float32, 256)}
		}, ErrSize},
		{"NaN pose", func(o *msgs.Observation) { o.EEPose.Position[1] = math.NaN() }, ErrNonFinite},
		{"Inf gripper", func(o *msgs.Observation) { o.Gripper = math.Inf(1) }, ErrNonFinite},
		{"zero quaternion", func(o *msgs.Observation) { o.EEPose.Orientation = [4]float64{} }, ErrNonFinite},
		{"NaN extrinsic", func(o *msgs.Observation) { o.Cameras[0].BaseFromCamera.Translation[0] = math.NaN() }, ErrNonFinite},
		{"zero focal", func(o *msgs.Observation) {
			o.Cameras[0].Info.K = [9]float64{}
			o.Cameras[0].Info.P = [12]float64{}
		}, ErrCalibration},
	}
	for _, tc := range tests {
		o := good()
		tc.mutate(o)
		if err := p.Process(o, in); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := p.Process(good(), policy.NewInput(testSpec(1, 32, 8, 7))); !errors.Is(err, ErrSize) {
		t.Errorf("wrong input buffers: %v", err)
	}
	for _, bad := range []policy.Spec{testSpec(0, 32, 8, 7), testSpec(1, 4, 8, 7), testSpec(1, 32, 8, 9)} {
		if _, err := New(bad, Options{}); !errors.Is(err, ErrSpec) {
			t.Errorf("spec %+v accepted: %v", bad, err)
		}
	}
}

func TestProcessZeroAllocs(t *testing.T) {
	for _, par := range []bool{false, true} {
		testZeroAllocs(t, par)
	}
}

func testZeroAllocs(t *testing.T, parallel bool) {
	spec := testSpec(3, 64, 16, ProprioDimRPY)
	p, err := New(spec, Options{Parallel: parallel})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in := policy.NewInput(spec)
	obs := observation(frame("a", 96, 80, 1, 60, identity), frame("b", 64, 64, 1, 60, identity), frame("c", 128, 96, 1, 60, identity))
	if err := p.Process(obs, in); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(5, func() {
		if err := p.Process(obs, in); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("parallel=%v: Process allocates %v per frame in steady state", parallel, n)
	}
}

// Parallel and sequential processing give identical inputs.
func TestParallelMatchesSequential(t *testing.T) {
	spec := testSpec(3, 32, 8, ProprioDimRPY)
	obs := observation(frame("a", 48, 40, 1, 30, identity), frame("b", 32, 32, 2, 30, identity), frame("c", 64, 64, 0.5, 50, identity))
	var got [2]*policy.Input
	for i, par := range []bool{false, true} {
		p, err := New(spec, Options{Parallel: par})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		got[i] = policy.NewInput(spec)
		if err := p.Process(obs, got[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range got[0].Images {
		if got[0].Images[i] != got[1].Images[i] {
			t.Fatalf("image value %d differs", i)
		}
	}
	for i := range got[0].Points {
		if got[0].Points[i] != got[1].Points[i] {
			t.Fatalf("point value %d differs", i)
		}
	}
	bad := observation(frame("a", 32, 32, 1, 30, identity), frame("b", 32, 32, 1, 30, identity), frame("c", 32, 32, 1, 30, identity))
	bad.Cameras[2].Info.Width = 7
	p, _ := New(spec, Options{Parallel: true})
	defer p.Close()
	if err := p.Process(bad, policy.NewInput(spec)); !errors.Is(err, ErrSize) {
		t.Errorf("parallel error lost: %v", err)
	}
}

// BenchmarkProcess3x224 is the node's per-frame preprocessing: three 224x224
// RGB-D cameras into a 224x224, patch-16 model.
func BenchmarkProcess3x224(b *testing.B) {
	benchProcess(b, 224, 224, false)
}

// BenchmarkProcess3x224Parallel processes the three cameras concurrently.
func BenchmarkProcess3x224Parallel(b *testing.B) {
	benchProcess(b, 224, 224, true)
}

// BenchmarkProcess3x640to224 resizes 640x480 camera frames (bilinear).
func BenchmarkProcess3x640to224(b *testing.B) {
	benchProcess(b, 640, 480, false)
}

func benchProcess(b *testing.B, w, h int, parallel bool) {
	spec := testSpec(3, 224, 16, ProprioDimRPY)
	p, err := New(spec, Options{Parallel: parallel})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	in := policy.NewInput(spec)
	obs := observation(frame("a", w, h, 1, 300, identity), frame("b", w, h, 1.5, 300, identity), frame("c", w, h, 0.8, 300, identity))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Process(obs, in); err != nil {
			b.Fatal(err)
		}
	}
}
