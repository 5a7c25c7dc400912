package dataset

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vla3d/vla3d/dataset/synth"
	"github.com/vla3d/vla3d/policy"
)

// benchRecording writes 3 cameras of 224x224 RGB-D at 10 Hz for 2 s.
func benchRecording(b *testing.B) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "b.bag")
	if err := (synth.Config{Episodes: 1, Steps: 20, Cameras: []string{"front", "left", "wrist"}, Width: 224, Height: 224}).Write(p); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkReadEpisode: bag -> synchronized, decoded observations (the
// per-epoch cost the cache removes).
func BenchmarkReadEpisode(b *testing.B) {
	p := benchRecording(b)
	src, err := OpenSource(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	cfg := DefaultConfig()
	spans, err := Spans(context.Background(), src, cfg)
	if err != nil {
		b.Fatal(err)
	}
	steps := 0
	b.ReportAllocs()
	for b.Loop() {
		steps = 0
		if _, err := ReadEpisode(context.Background(), src, spans[0], cfg, func(*Step) error { steps++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(steps*b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkCacheRead: one preprocessed record (3 views at 96x96) from the
// on-disk cache, what every epoch after the first pays.
func BenchmarkCacheRead(b *testing.B) {
	p := benchRecording(b)
	d, err := Open(context.Background(), []string{p}, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	spec := policy.Spec{Cameras: 3, ImageWidth: 96, ImageHeight: 96, PatchSize: 16, ActionDim: 7, Horizon: 4, ProprioDim: 7, InstructionLen: 16}
	c, err := d.Cache(context.Background(), CacheOptions{Dir: b.TempDir(), Spec: spec})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	rec := c.NewRecord()
	buf := make([]byte, c.RecordSize())
	b.SetBytes(int64(c.RecordSize()))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := c.Read(i%c.Len(), rec, buf); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
