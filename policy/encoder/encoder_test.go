package encoder_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/vla3d/vla3d/policy/encoder"
	"github.com/vla3d/vla3d/policy/encoder/encodertest"
	"github.com/vla3d/vla3d/policy/ort/orttest"
)

// requireORT skips when the ONNX Runtime library is truly absent.
func requireORT(t testing.TB) {
	t.Helper()
	orttest.RequireLibrary(t)
}

func export(t testing.TB, c encodertest.Config) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "encoder.onnx")
	if err := c.Export(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func randomImages(views int, c encodertest.Config, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, views*3*c.Height*c.Width)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

// TestEncodeMatchesReference: ONNX Runtime's output equals the float64
// reference of the same frozen projection for every output layout and
// normalisation, view by view.
func TestEncodeMatchesReference(t *testing.T) {
	requireORT(t)
	for _, tc := range []struct {
		name      string
		cfg       encodertest.Config
		normalize string
	}{
		{"tokens_dynamic_batch", encodertest.Config{Height: 32, Width: 48, Patch: 8, FeatureDim: 12, Seed: 1}, encoder.NormalizeNone},
		{"feature_map_fixed_batch", encodertest.Config{Height: 32, Width: 32, Patch: 16, FeatureDim: 10, FeatureMap: true, FixedBatch: true, Seed: 2}, encoder.NormalizeNone},
		{"imagenet", encodertest.Config{Height: 16, Width: 32, Patch: 8, FeatureDim: 6, Seed: 3}, encoder.NormalizeImageNet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			e, err := encoder.Load(export(t, c), encoder.Options{Normalize: tc.normalize, Patches: c.Patches(), ImageHeight: c.Height, ImageWidth: c.Width})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := e.Close(); err != nil {
					t.Error(err)
				}
			}()
			if e.Patches() != c.Patches() || e.FeatureDim() != c.FeatureDim {
				t.Fatalf("encoder reports N=%d Dv=%d, want %d, %d", e.Patches(), e.FeatureDim(), c.Patches(), c.FeatureDim)
			}
			const views = 3
			images := randomImages(views, c, 7)
			dst := make([]float32, views*c.Patches()*c.FeatureDim)
			if err := e.Encode(images, dst); err != nil {
				t.Fatal(err)
			}
			view, tok := 3*c.Height*c.Width, c.Patches()*c.FeatureDim
			for v := range views {
				img := append([]float32(nil), images[v*view:(v+1)*view]...)
				if tc.normalize == encoder.NormalizeImageNet {
					normalizeImageNet64(img)
				}
				want := c.Reference(img)
				for i, w := range want {
					if g := float64(dst[v*tok+i]); math.Abs(g-w) > 1e-4 {
						t.Fatalf("view %d value %d: got %g, want %g", v, i, g, w)
					}
				}
			}
		})
	}
}

// normalizeImageNet64 normalises a [3,H,W] view in float64.
func normalizeImageNet64(img []float32) {
	mean := [3]float64{0.485, 0.456, 0.406}
	std := [3]float64{0.229, 0.224, 0.225}
	hw := len(img) / 3
	for i := range img {
		c := i / hw
		img[i] = float32((float64(img[i]) - mean[c]) / std[c])
	}
}

// TestEncodeMatchesGoMLX: the exported file and the GoMLX graph it was
// traced from agree (the exporter's parity on the encoder itself).
func TestEncodeMatchesGoMLX(t *testing.T) {
	requireORT(t)
	c := encodertest.Config{Height: 32, Width: 32, Patch: 8, FeatureDim: 8, FeatureMap: true, Seed: 4}
	e, err := encoder.Load(export(t, c), encoder.Options{Patches: c.Patches()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	images := randomImages(1, c, 9)
	dst := make([]float32, c.Patches()*c.FeatureDim)
	if err := e.Encode(images, dst); err != nil {
		t.Fatal(err)
	}
	be, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	exec, err := NewExec(be, func(x *Node) *Node { return c.Build(x) })
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(images, 1, 3, c.Height, c.Width))
	if err != nil {
		t.Fatal(err)
	}
	fm := tensors.MustCopyFlatData[float32](out[0]) // [1,Dv,h,w]
	n := c.Patches()
	for ch := range c.FeatureDim {
		for tk := range n {
			if g, w := dst[tk*c.FeatureDim+ch], fm[ch*n+tk]; math.Abs(float64(g-w)) > 1e-5 {
				t.Fatalf("token %d channel %d: ORT %g, GoMLX %g", tk, ch, g, w)
			}
		}
	}
}

// TestContractViolations: files that break the contract, or disagree with
// the policy, are refused with errors naming the problem.
func TestContractViolations(t *testing.T) {
	requireORT(t)
	base := encodertest.Config{Height: 32, Width: 32, Patch: 16, FeatureDim: 4, Seed: 5}
	good := export(t, base)
	corrupt := filepath.Join(t.TempDir(), "corrupt.onnx")
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corrupt, b[:len(b)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("this is not an onnx model"), 0o644); err != nil {
		t.Fatal(err)
	}
	renamed := func(in, out string) string {
		c := base
		c.InputName, c.OutputName = in, out
		return export(t, c)
	}
	for _, tc := range []struct {
		name string
		path string
		opts encoder.Options
		want []string
	}{
		{"patch_count", good, encoder.Options{Patches: 16}, []string{"4 patch tokens", "16 patches per view"}},
		{"feature_dim", good, encoder.Options{FeatureDim: 7}, []string{"feature dim is 4", "policy has 7"}},
		{"image_size", good, encoder.Options{ImageHeight: 64}, []string{"image height is 32", "policy has 64"}},
		{"input_name", renamed("pixels", ""), encoder.Options{}, []string{`want exactly one input "image"`, `"pixels"`}},
		{"output_name", renamed("", "tokens"), encoder.Options{}, []string{`no output "features"`, `"tokens"`}},
		{"normalize", good, encoder.Options{Normalize: "clip"}, []string{`unknown normalisation "clip"`}},
		{"corrupt", corrupt, encoder.Options{}, []string{"not a loadable ONNX model"}},
		{"garbage", garbage, encoder.Options{}, []string{"not a loadable ONNX model"}},
		{"missing", filepath.Join(t.TempDir(), "nope.onnx"), encoder.Options{}, []string{"no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := encoder.Load(tc.path, tc.opts)
			if err == nil {
				e.Close()
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestEncodeSizeErrors: buffers of the wrong size are refused, and a
// closed encoder says so.
func TestEncodeSizeErrors(t *testing.T) {
	requireORT(t)
	c := encodertest.Config{Height: 16, Width: 16, Patch: 8, FeatureDim: 3, Seed: 6}
	e, err := encoder.Load(export(t, c), encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := randomImages(2, c, 1)
	if err := e.Encode(img[:len(img)-1], make([]float32, 2*4*3)); err == nil || !strings.Contains(err.Error(), "whole number") {
		t.Errorf("ragged images: %v", err)
	}
	if err := e.Encode(img, make([]float32, 4*3)); err == nil || !strings.Contains(err.Error(), "destination has 12 values") {
		t.Errorf("short destination: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Encode(img, make([]float32, 2*4*3)); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("closed: %v", err)
	}
}

// TestEncodeNoAllocs: steady-state Encode allocates nothing.
func TestEncodeNoAllocs(t *testing.T) {
	requireORT(t)
	c := encodertest.Config{Height: 32, Width: 32, Patch: 16, FeatureDim: 8, Seed: 7}
	e, err := encoder.Load(export(t, c), encoder.Options{Normalize: encoder.NormalizeImageNet})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	img := randomImages(3, c, 2)
	dst := make([]float32, 3*c.Patches()*c.FeatureDim)
	if n := testing.AllocsPerRun(20, func() {
		if err := e.Encode(img, dst); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Encode allocates %v times per call", n)
	}
}

// BenchmarkEncode: three 96x96 views through a patch-16, Dv=64 encoder.
func BenchmarkEncode(b *testing.B) {
	requireORT(b)
	c := encodertest.Config{Height: 96, Width: 96, Patch: 16, FeatureDim: 64, Seed: 8}
	e, err := encoder.Load(export(b, c), encoder.Options{IntraOpThreads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	img := randomImages(3, c, 3)
	dst := make([]float32, 3*c.Patches()*c.FeatureDim)
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Encode(img, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzLoad: arbitrary bytes as an encoder file never crash Load; they load
// only if they are a model meeting the contract.
func FuzzLoad(f *testing.F) {
	requireORT(f)
	c := encodertest.Config{Height: 16, Width: 16, Patch: 8, FeatureDim: 2, Seed: 9}
	p := filepath.Join(f.TempDir(), "seed.onnx")
	if err := c.Export(p); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0x08, 0x08, 0x12, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "m.onnx")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := encoder.Load(p, encoder.Options{Patches: c.Patches()})
		if err != nil {
			return
		}
		defer e.Close()
		img := randomImages(1, c, 4)
		if err := e.Encode(img, make([]float32, e.Patches()*e.FeatureDim())); err != nil {
			t.Fatalf("loaded model fails to encode: %v", err)
		}
	})
}
