package training

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy/onnx"
	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

// redDetector is a deterministic one-instance "detector" graph: pixels with
// R > 0.5, G < 0.3, B < 0.3 form the mask; the box is the mask's tight
// box in pixel-edge coordinates, normalized; the score is 1 when any pixel
// is red. The mask is output at half resolution (every other pixel) so the
// detector's mask resize is exercised.
func redDetector(_ *mlctx.Context, in []*Node) []*Node {
	img := in[0] // [B,3,H,W]
	dims := img.Shape().Dimensions
	h, w := dims[2], dims[3]
	r := SliceAxis(img, 1, AxisElem(0))
	gc := SliceAxis(img, 1, AxisElem(1))
	b := SliceAxis(img, 1, AxisElem(2))
	m := ConvertDType(LogicalAnd(GreaterThan(r, Scalar(img.Graph(), dtypes.Float32, 0.5)),
		LogicalAnd(LessThan(gc, Scalar(img.Graph(), dtypes.Float32, 0.3)), LessThan(b, Scalar(img.Graph(), dtypes.Float32, 0.3)))), dtypes.Float32) // [B,1,H,W]
	g := img.Graph()
	xs := Iota(g, shapesOf(1, 1, h, w), 3)
	ys := Iota(g, shapesOf(1, 1, h, w), 2)
	big := Scalar(g, dtypes.Float32, 1e6)
	notM := OneMinus(m)
	x1 := ReduceMin(Add(Mul(xs, m), Mul(big, notM)), 1, 2, 3)
	y1 := ReduceMin(Add(Mul(ys, m), Mul(big, notM)), 1, 2, 3)
	x2 := ReduceMax(Mul(AddScalar(xs, 1), m), 1, 2, 3)
	y2 := ReduceMax(Mul(AddScalar(ys, 1), m), 1, 2, 3)
	boxes := Stack([]*Node{DivScalar(x1, float64(w)), DivScalar(y1, float64(h)), DivScalar(x2, float64(w)), DivScalar(y2, float64(h))}, 1) // [B,4]
	boxes = InsertAxes(boxes, 1)                                                                                                           // [B,1,4]
	scores := Reshape(ReduceMax(m, 1, 2, 3), -1, 1)                                                                                        // [B,1]
	masks := Slice(m, AxisRange(), AxisRange(), AxisRange().Stride(2), AxisRange().Stride(2))                                              // [B,1,H/2,W/2]
	return []*Node{boxes, scores, masks}
}

func ortLibrary(t *testing.T) string {
	t.Helper()
	return orttest.RequireLibrary(t)
}

func exportDetector(t *testing.T, path string, inputName string, outputs []string, h, w int) {
	t.Helper()
	err := onnx.WriteFile(path, mlctx.New(), []onnx.Input{{Name: inputName, DType: dtypes.Float32, Dims: []int{3, h, w}}},
		outputs, redDetector, onnx.Options{GraphName: "red_detector"})
	if err != nil {
		t.Fatal(err)
	}
}

// redSquareImage is a grey [3,H,W] image with a red rectangle over
// columns [x0,x1) and rows [y0,y1).
func redSquareImage(w, h, x0, y0, x1, y1 int) []float32 {
	img := make([]float32, 3*w*h)
	for i := range img {
		img[i] = 0.45
	}
	for r := y0; r < y1; r++ {
		for c := x0; c < x1; c++ {
			img[r*w+c], img[w*h+r*w+c], img[2*w*h+r*w+c] = 0.9, 0.1, 0.1
		}
	}
	return img
}

// The GoMLX red detector, exported with the project's exporter, runs
// through ONNXDetector on a synthetic image: one detection with the red
// square's box, score 1, and its mask at the view scale.
func TestONNXDetector(t *testing.T) {
	lib := ortLibrary(t)
	const w, h = 32, 32
	path := filepath.Join(t.TempDir(), "red.onnx")
	exportDetector(t, path, DetectorInputImage, []string{DetectorOutputBoxes, DetectorOutputScores, DetectorOutputMasks}, h, w)
	det, err := LoadONNXDetector(path, ONNXDetectorOptions{LibraryPath: lib})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := det.Close(); err != nil {
			t.Error(err)
		}
	}()
	ctx := context.Background()
	// Square over columns 8..19, rows 4..15 (even starts and even sizes so
	// the half-resolution mask resizes back to it exactly inside).
	dets, err := det.Detect(ctx, DetectorView{Image: redSquareImage(w, h, 8, 4, 20, 16), Width: w, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != 1 {
		t.Fatalf("%d detections, want 1", len(dets))
	}
	d := dets[0]
	want := [4]float32{8.0 / w, 4.0 / h, 20.0 / w, 16.0 / h}
	for k := range 4 {
		if math.Abs(float64(d.Box[k]-want[k])) > 1e-6 {
			t.Fatalf("box %v, want %v", d.Box, want)
		}
	}
	if d.Score != 1 || d.ID != 0 {
		t.Fatalf("score %v id %d", d.Score, d.ID)
	}
	// The mask is sampled every other pixel and resized back bilinearly:
	// every pixel strictly inside the square is set, none far outside it.
	for r := range h {
		for c := range w {
			inside := c >= 9 && c < 19 && r >= 5 && r < 15
			outside := c < 6 || c >= 22 || r < 2 || r >= 18
			if got := d.Mask[r*w+c]; (inside && got != 1) || (outside && got != 0) {
				t.Fatalf("mask at (%d,%d) = %d", c, r, got)
			}
		}
	}
	// No red: the score is 0, below the threshold.
	if dets, err = det.Detect(ctx, DetectorView{Image: redSquareImage(w, h, 0, 0, 0, 0), Width: w, Height: h}); err != nil || len(dets) != 0 {
		t.Fatalf("blank image: %d detections, %v", len(dets), err)
	}
	// A view of another size is resized to the model's fixed 32x32 input.
	dets, err = det.Detect(ctx, DetectorView{Image: redSquareImage(64, 64, 16, 8, 40, 32), Width: 64, Height: 64})
	if err != nil || len(dets) != 1 {
		t.Fatalf("64x64 view: %d detections, %v", len(dets), err)
	}
	for k := range 4 {
		if math.Abs(float64(dets[0].Box[k]-want[k])) > 1.0/w {
			t.Fatalf("64x64 box %v, want %v", dets[0].Box, want)
		}
	}
	if _, err := det.Detect(ctx, DetectorView{Image: make([]float32, 5), Width: w, Height: h}); err == nil {
		t.Fatal("bad image size accepted")
	}
}

// Models breaking the I/O contract are refused with a message naming it.
func TestONNXDetectorContract(t *testing.T) {
	lib := ortLibrary(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, input string
		outputs     []string
	}{
		{"wrong input name", "rgb", []string{DetectorOutputBoxes, DetectorOutputScores, DetectorOutputMasks}},
		{"missing masks", DetectorInputImage, []string{DetectorOutputBoxes, DetectorOutputScores, "logits"}},
		{"outputs swapped", DetectorInputImage, []string{DetectorOutputScores, DetectorOutputBoxes, DetectorOutputMasks}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".onnx")
			exportDetector(t, path, tc.input, tc.outputs, 8, 8)
			d, err := LoadONNXDetector(path, ONNXDetectorOptions{LibraryPath: lib})
			if err == nil {
				d.Close()
				t.Fatal("contract violation accepted")
			}
			if !strings.Contains(err.Error(), "want input \"image\"") {
				t.Fatalf("error does not state the contract: %v", err)
			}
			t.Log(err)
		})
	}
	if _, err := LoadONNXDetector(filepath.Join(dir, "absent.onnx"), ONNXDetectorOptions{LibraryPath: lib}); err == nil {
		t.Fatal("absent model accepted")
	}
}

// Detections without identities are associated across views by their 3D
// centroids: the same sphere seen by two cameras gets one id, a second
// sphere another; the labels then match those of the recorded ids.
func TestDetectionAssembler(t *testing.T) {
	l := Layout{Cameras: 2, ImageW: 48, ImageH: 48, MaxInstances: 4, MaskW: 12, MaskH: 12, Completion: 10}
	intr := make([]float32, 8)
	ext := make([]float32, 24)
	for c := range 2 {
		f := float32(1.5 * 48)
		copy(intr[4*c:], []float32{f, f, 24, 24})
		ang := 0.6 * float64(c)
		copy(ext[12*c:], lookAtF32([3]float64{0.55 + 0.6*math.Cos(ang), 0.6 * math.Sin(ang), 0.35}, [3]float64{0.55, 0, 0.05}))
	}
	scene := []sphere{{[3]float64{0.55, -0.06, 0.05}, 0.04, 3}, {[3]float64{0.55, 0.08, 0.05}, 0.035, 7}}
	ids, depth := renderSpheres(t, l, intr, ext, scene)
	ctx := context.Background()
	rec := RecordedLabels{MinPixels: 2}
	dets := make([][]Detection, 2)
	for v := range 2 {
		ds, err := rec.Detect(ctx, DetectorView{Width: 48, Height: 48, Labels: ids[v*48*48 : (v+1)*48*48]})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2 {
			t.Fatalf("view %d: %d recorded detections", v, len(ds))
		}
		for k := range ds {
			ds[k].ID = 0 // forget identities: the assembler must recover them
			ds[k].Score = 0.9 - 0.1*float32(k)
		}
		dets[v] = ds
	}
	asm := DetectionAssembler{Layout: l}
	got := make([]uint16, len(ids))
	if err := asm.IDs(dets, depth, intr, ext, got); err != nil {
		t.Fatal(err)
	}
	// Same partition as the recorded ids, up to renaming.
	rename := map[uint16]uint16{}
	for i, id := range ids {
		if g, ok := rename[id]; ok && g != got[i] {
			t.Fatalf("pixel %d: recorded %d maps to both %d and %d", i, id, g, got[i])
		}
		rename[id] = got[i]
	}
	if len(rename) != 3 || rename[0] != 0 || rename[3] == rename[7] {
		t.Fatalf("renaming %v", rename)
	}
	// Pseudo labels from assembled ids equal those from recorded ids.
	p := PseudoLabeler{Layout: l, MinPixels: 2}
	a, b := NewInstanceLabels(l), NewInstanceLabels(l)
	if err := p.Label(ids, depth, intr, ext, &a); err != nil {
		t.Fatal(err)
	}
	if err := p.Label(got, depth, intr, ext, &b); err != nil {
		t.Fatal(err)
	}
	if a.Count != 2 || b.Count != a.Count {
		t.Fatalf("counts %d vs %d", a.Count, b.Count)
	}
	for i := range a.Centroids {
		if a.Centroids[i] != b.Centroids[i] {
			t.Fatalf("centroids %v vs %v", a.Centroids, b.Centroids)
		}
	}
	if err := asm.IDs(dets[:1], depth, intr, ext, got); err == nil {
		t.Fatal("missing view accepted")
	}
}

func TestRecordedLabels(t *testing.T) {
	ids := []uint16{
		0, 4, 4, 0,
		0, 4, 4, 9,
		2, 0, 0, 9,
		0, 0, 0, 0,
	}
	ds, err := RecordedLabels{Ignore: []uint16{9}, MinPixels: 2}.Detect(context.Background(), DetectorView{Width: 4, Height: 4, Labels: ids})
	if err != nil {
		t.Fatal(err)
	}
	// id 2 has one pixel (< MinPixels), 9 is ignored.
	if len(ds) != 1 || ds[0].ID != 4 || ds[0].Score != 1 || ds[0].Box != [4]float32{0.25, 0, 0.75, 0.5} {
		t.Fatalf("detections %+v", ds)
	}
	if ds, err := (RecordedLabels{}).Detect(context.Background(), DetectorView{Width: 4, Height: 4}); err != nil || ds != nil {
		t.Fatalf("no labels: %v %v", ds, err)
	}
	if _, err := (RecordedLabels{}).Detect(context.Background(), DetectorView{Width: 4, Height: 4, Labels: ids[:3]}); err == nil {
		t.Fatal("bad size accepted")
	}
}

func TestResizeBilinear(t *testing.T) {
	// 2x1 -> 4x1 with align_corners=false: centres at 0.25, 0.75 of the
	// source pixels' span: x = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
	dst := make([]float32, 4)
	resizeBilinear([]float32{0, 1}, 2, 1, dst, 4, 1)
	want := []float32{0, 0.25, 0.75, 1}
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
			t.Fatalf("got %v, want %v", dst, want)
		}
	}
	// Identity size is a copy.
	src := []float32{1, 2, 3, 4, 5, 6}
	out := make([]float32, 6)
	resizeBilinear(src, 3, 2, out, 3, 2)
	for i := range src {
		if out[i] != src[i] {
			t.Fatalf("identity resize %v", out)
		}
	}
}

// With MaskLogits the mask output goes through a sigmoid: the red
// detector's 0/1 mask becomes 0.5/0.73, so a 0.6 threshold keeps exactly
// the red pixels.
func TestONNXDetectorMaskLogits(t *testing.T) {
	lib := ortLibrary(t)
	const w, h = 16, 16
	path := filepath.Join(t.TempDir(), "red.onnx")
	exportDetector(t, path, DetectorInputImage, []string{DetectorOutputBoxes, DetectorOutputScores, DetectorOutputMasks}, h, w)
	det, err := LoadONNXDetector(path, ONNXDetectorOptions{LibraryPath: lib, MaskLogits: true, MaskThreshold: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	dets, err := det.Detect(context.Background(), DetectorView{Image: redSquareImage(w, h, 4, 4, 8, 8), Width: w, Height: h})
	if err != nil || len(dets) != 1 {
		t.Fatalf("%d detections, %v", len(dets), err)
	}
	on := 0
	for _, m := range dets[0].Mask {
		on += int(m)
	}
	if on == 0 || on > 6*6 {
		t.Fatalf("%d mask pixels for a 4x4 square", on)
	}
	if err := det.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := det.Detect(context.Background(), DetectorView{Image: redSquareImage(w, h, 0, 0, 0, 0), Width: w, Height: h}); err == nil {
		t.Fatal("closed detector ran")
	}
}

// FuzzRecordedLabels: any label image (outside bytes) gives detections
// whose masks, boxes and ids agree with it, and never panics.
func FuzzRecordedLabels(f *testing.F) {
	f.Add([]byte{0, 0, 4, 0, 4, 0, 9, 0}, uint8(2))
	f.Add([]byte{1, 0, 1, 0, 1, 0, 1, 0, 2, 0, 2, 0, 2, 0, 2, 0, 3, 0}, uint8(3))
	f.Fuzz(func(t *testing.T, raw []byte, wb uint8) {
		w := int(wb%8) + 1
		n := len(raw) / 2
		h := n / w
		if h == 0 {
			return
		}
		ids := make([]uint16, w*h)
		for i := range ids {
			ids[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
		}
		ds, err := RecordedLabels{Ignore: []uint16{9}, MinPixels: 1}.Detect(context.Background(), DetectorView{Width: w, Height: h, Labels: ids})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.ID == 0 || d.ID == 9 {
				t.Fatalf("detection of id %d", d.ID)
			}
			for i, m := range d.Mask {
				if (m == 1) != (ids[i] == d.ID) {
					t.Fatalf("mask of %d disagrees at %d", d.ID, i)
				}
				if m == 1 {
					x, y := float32(i%w)/float32(w), float32(i/w)/float32(h)
					if x < d.Box[0] || y < d.Box[1] || x >= d.Box[2] || y >= d.Box[3] {
						t.Fatalf("pixel %d outside box %v", i, d.Box)
					}
				}
			}
		}
	})
}

func BenchmarkONNXDetector(b *testing.B) {
	lib, err := ort.ResolveLibrary("")
	if _, serr := os.Stat(lib); err != nil || serr != nil {
		b.Skip("ONNX Runtime library absent")
	}
	const w, h = 96, 96
	path := filepath.Join(b.TempDir(), "red.onnx")
	if err := onnx.WriteFile(path, mlctx.New(), []onnx.Input{{Name: DetectorInputImage, DType: dtypes.Float32, Dims: []int{3, h, w}}},
		[]string{DetectorOutputBoxes, DetectorOutputScores, DetectorOutputMasks}, redDetector, onnx.Options{}); err != nil {
		b.Fatal(err)
	}
	det, err := LoadONNXDetector(path, ONNXDetectorOptions{LibraryPath: lib})
	if err != nil {
		b.Fatal(err)
	}
	defer det.Close()
	view := DetectorView{Image: redSquareImage(w, h, 20, 30, 50, 60), Width: w, Height: h}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := det.Detect(context.Background(), view); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetectionAssembler(b *testing.B) {
	l := Layout{Cameras: 2, ImageW: 96, ImageH: 96, MaxInstances: 4, MaskW: 24, MaskH: 24}
	intr := []float32{144, 144, 48, 48, 144, 144, 48, 48}
	ext := append(lookAtF32([3]float64{1.15, 0, 0.35}, [3]float64{0.55, 0, 0.05}), lookAtF32([3]float64{1.05, 0.34, 0.35}, [3]float64{0.55, 0, 0.05})...)
	scene := []sphere{{[3]float64{0.55, -0.06, 0.05}, 0.04, 3}, {[3]float64{0.55, 0.08, 0.05}, 0.035, 7}}
	ids, depth := renderSpheres(b, l, intr, ext, scene)
	dets := make([][]Detection, 2)
	for v := range 2 {
		ds, err := RecordedLabels{}.Detect(context.Background(), DetectorView{Width: 96, Height: 96, Labels: ids[v*96*96 : (v+1)*96*96]})
		if err != nil {
			b.Fatal(err)
		}
		for k := range ds {
			ds[k].ID = 0
		}
		dets[v] = ds
	}
	asm := DetectionAssembler{Layout: l}
	out := make([]uint16, len(ids))
	b.ReportAllocs()
	for b.Loop() {
		if err := asm.IDs(dets, depth, intr, ext, out); err != nil {
			b.Fatal(err)
		}
	}
}
