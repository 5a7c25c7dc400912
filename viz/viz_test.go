package viz

import (
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
)

// testFrame is a 64x48 camera 1 m above (0.5, 0, 0) looking down.
func testFrame(t testing.TB) msgs.CameraFrame {
	t.Helper()
	baseFromCam, err := perception.LookAt([3]float64{0.5, 0, 1}, [3]float64{0.5, 0, 0}, [3]float64{1, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	w, h := 64, 48
	f := msgs.CameraFrame{Name: "front", Stamp: time.Unix(1, 0),
		Color: msgs.RGBImage{Width: w, Height: h, Pix: make([]uint8, 3*w*h)},
		Info: msgs.CameraInfo{FrameID: "front_optical", Width: w, Height: h,
			K: [9]float64{50, 0, 31.5, 0, 50, 23.5, 0, 0, 1}, P: [12]float64{50, 0, 31.5, 0, 0, 50, 23.5, 0, 0, 0, 1, 0}},
		BaseFromCamera: msgs.Transform{Translation: baseFromCam.T, Rotation: baseFromCam.Quaternion()}}
	for i := range f.Color.Pix {
		f.Color.Pix[i] = 90
	}
	return f
}

// A view projects exactly as the camera model does: Pinhole.Project of the
// point in the optical frame.
func TestViewProjectMatchesCameraModel(t *testing.T) {
	f := testFrame(t)
	v, err := NewView(&f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][3]float32{{0.5, 0, 0}, {0.55, 0.1, 0.02}, {0.3, -0.1, 0.1}} {
		x, y, ok := v.Project(p)
		cam := v.CamFromBase.Apply([3]float64{float64(p[0]), float64(p[1]), float64(p[2])})
		u, w, ok2 := v.Camera.Project(cam)
		if ok != (ok2 && v.Camera.InImage(u, w)) || math.Abs(x-u) > 1e-4 || math.Abs(y-w) > 1e-4 {
			t.Errorf("%v: view (%v, %v, %v), camera model (%v, %v, %v)", p, x, y, ok, u, w, ok2)
		}
	}
	// Behind the camera: not drawn.
	if _, _, ok := v.Project([3]float32{0.5, 0, 2}); ok {
		t.Error("a point behind the camera projected")
	}
}

// The annotated pixel of an instance is where the camera model puts it, in
// the instance's confidence colour.
func TestAnnotatedPixelIsTheProjection(t *testing.T) {
	f := testFrame(t)
	obs := &msgs.Observation{Cameras: []msgs.CameraFrame{f}, EEPose: msgs.Pose{Position: [3]float64{0.4, 0, 0.3}}}
	pt := [3]float32{0.55, 0.05, 0.02}
	p := &policy.Perception{Points: pt[:], Scores: []float32{0.9}}
	r := NewRecorder(RecorderConf{})
	if err := r.Add(obs, p, nil); err != nil {
		t.Fatal(err)
	}
	v, _ := NewView(&f)
	x, y, ok := v.Project(pt)
	if !ok {
		t.Fatal("test point not in view")
	}
	img := r.Frames("test")[0]
	got := img.RGBAAt(int(x), int(y))
	if got != confidenceColor(0.9) {
		t.Fatalf("pixel (%d, %d) = %v, want the instance colour %v", int(x), int(y), got, confidenceColor(0.9))
	}
	if w, h := img.Rect.Dx(), img.Rect.Dy(); w != 64 || h != 48+captionHeight {
		t.Fatalf("frame %dx%d", w, h)
	}
}

func TestWritePictures(t *testing.T) {
	f := testFrame(t)
	r := NewRecorder(RecorderConf{Every: 2})
	for k := range 5 {
		obs := &msgs.Observation{Cameras: []msgs.CameraFrame{f, f}, EEPose: msgs.Pose{Position: [3]float64{0.4 + 0.01*float64(k), 0, 0.3}}}
		p := &policy.Perception{Points: []float32{0.5, 0, 0.02, float32(math.NaN()), 0, 0}, Scores: []float32{0.8, 0.9},
			Completion: []float32{0.5, 0.01, 0.03}}
		plan := []msgs.Pose{{Position: [3]float64{0.45, 0, 0.2}}, {Position: [3]float64{0.5, 0, 0.1}}}
		if err := r.Add(obs, p, plan); err != nil {
			t.Fatal(err)
		}
	}
	r.SetTruth("red_block", [3]float64{0.5, 0, 0.02})
	dir := t.TempDir()
	gp, pp := filepath.Join(dir, "ep.gif"), filepath.Join(dir, "ep_top.png")
	if err := r.WriteGIF(gp, "success: in bowl", 20); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteTopDown(pp, "episode 0: success"); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(gp)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	g, err := gif.DecodeAll(fh)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != 3 || g.Config.Width != 128 || g.Config.Height != 48+captionHeight {
		t.Fatalf("gif: %d frames %dx%d", len(g.Image), g.Config.Width, g.Config.Height)
	}
	ph, err := os.Open(pp)
	if err != nil {
		t.Fatal(err)
	}
	defer ph.Close()
	img, err := png.Decode(ph)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() < 100 || img.Bounds().Dy() < 100 {
		t.Fatalf("top-down plot %v", img.Bounds())
	}
	if r.Steps() != 5 || len(r.predicted) != 5 {
		t.Fatalf("steps %d, predicted %d (the NaN probe must be left out)", r.Steps(), len(r.predicted))
	}
}
