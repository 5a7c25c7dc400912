package training

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vla3d/vla3d/dataset/synth"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy/model"
)

// writeSynthBag records one synthetic episode with instance-id images: ids
// 1 and 2 alternate with background every pixel (i mod 3) on a flat depth of
// about 1 m, so with a width divisible by 3 each instance is a set of pixel
// columns.
func writeSynthBag(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	rec := synth.Config{Episodes: 1, Steps: 4, Cameras: []string{"front", "side"}, Width: size, Height: size, Labels: true}
	if err := rec.Write(filepath.Join(dir, "demo.bag")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// LoadBags on real bag files: every sample gets completion coordinates from
// its masks, and the Detector path with RecordedLabels gives the same pseudo
// labels as reading the ids directly. At 32x32 the columns' points are
// 2.5 cm apart vertically, so DBSCAN runs with a 6 cm radius.
func TestLoadBagsCompletionAndDetector(t *testing.T) {
	dir := writeSynthBag(t, 32)
	cfg := tinyModel("C")
	l := LayoutFor(cfg, 3)
	opts := BagOptions{Paths: []string{dir}, CacheDir: filepath.Join(dir, "cache"), Layout: l, Spec: cfg.Spec(),
		MinPixels: 4, CompletionPerInstance: cfg.CompletionPerInst, Completion: perception.CompletionConfig{Eps: 0.06}}
	ctx := context.Background()
	direct, err := LoadBags(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if direct.Len() == 0 {
		t.Fatal("no samples")
	}
	for i, s := range direct.Samples {
		if err := s.Check(l); err != nil {
			t.Fatal(err)
		}
		// The recorder's labels hold two instances (ids 1 and 2), both
		// queried: valid flags for 2 instances x CompletionPerInst queries.
		if s.Labels.Count != 2 || s.CompletionCoords == nil {
			t.Fatalf("sample %d: %d instances, completion %v", i, s.Labels.Count, s.CompletionCoords)
		}
		n := 0
		for _, v := range s.CompletionValid {
			n += int(v)
		}
		if n != 2*cfg.CompletionPerInst {
			t.Fatalf("sample %d: %d valid completion queries, want %d: %v", i, n, 2*cfg.CompletionPerInst, s.CompletionValid)
		}
	}
	opts.Detector = RecordedLabels{MinPixels: 4}
	detected, err := LoadBags(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range direct.Samples {
		a, b := direct.Samples[i], detected.Samples[i]
		if a.Labels.Count != b.Labels.Count || !slices.Equal(a.Labels.Centroids, b.Labels.Centroids) ||
			!slices.Equal(a.Labels.Boxes, b.Labels.Boxes) || !slices.Equal(a.CompletionCoords, b.CompletionCoords) {
			t.Fatalf("sample %d: detector path differs from recorded ids", i)
		}
	}
	// Completion off: no coordinates, the model derives them.
	opts.Detector, opts.CompletionPerInstance = nil, 0
	off, err := LoadBags(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if off.Samples[0].CompletionCoords != nil {
		t.Fatal("completion coordinates without CompletionPerInstance")
	}
}

// Recordings whose masks leave nothing after denoising (at 32x32 the
// alternating pixels are 2.5 cm apart, all DBSCAN noise) fall back to the
// model's derived completion coordinates.
func TestLoadBagsCompletionFallback(t *testing.T) {
	dir := writeSynthBag(t, 32)
	cfg := tinyModel("C")
	l := LayoutFor(cfg, 3)
	data, err := LoadBags(context.Background(), BagOptions{Paths: []string{dir}, CacheDir: filepath.Join(dir, "cache"), Layout: l,
		Spec: cfg.Spec(), MinPixels: 4, CompletionPerInstance: cfg.CompletionPerInst})
	if err != nil {
		t.Fatal(err)
	}
	if data.Samples[0].Labels.Count != 2 || data.Samples[0].CompletionCoords != nil {
		t.Fatalf("%d instances, completion %v", data.Samples[0].Labels.Count, data.Samples[0].CompletionCoords)
	}
	if src, err := ResolveCompletionSource(CompletionFromLabels, data); err != nil || src != model.CompletionDerived {
		t.Fatalf("source %q, %v", src, err)
	}
}
