package eval

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/dataset/synth"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/policy/ort"
)

// BenchmarkReplay: offline replay of 3 cameras of 224x224 RGB-D at 10 Hz
// through the node path into a 96x96 model; reports replayed steps per second
// and the speed-up over real time.
func BenchmarkReplay(b *testing.B) {
	requireORT(b)
	dir := b.TempDir()
	const steps = 20
	if err := (synth.Config{Episodes: 1, Steps: steps, Cameras: []string{"front", "left", "wrist"}, Width: 224, Height: 224}).Write(filepath.Join(dir, "r.bag")); err != nil {
		b.Fatal(err)
	}
	s := evalSpec()
	s.Cameras, s.ImageWidth, s.ImageHeight, s.PatchSize = 3, 96, 96, 16
	pol, err := ort.Load(constantModel(b, s), ort.Options{Providers: []string{ort.ProviderCPU}, IntraOpThreads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer pol.Close()
	cfg := node.DefaultConfig()
	cfg.Cameras = []node.CameraConfig{node.CameraTopics("front"), node.CameraTopics("left"), node.CameraTopics("wrist")}
	opts := Options{Node: cfg, Episodes: dataset.DefaultConfig()}
	var speed float64
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Run(context.Background(), []string{dir}, pol, opts)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Overall.N != steps {
			b.Fatalf("scored %d steps", rep.Overall.N)
		}
		speed = rep.Speedup
	}
	b.ReportMetric(float64(steps*b.N)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(speed, "x_realtime")
}
