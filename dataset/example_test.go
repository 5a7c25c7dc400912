package dataset_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/dataset/synth"
	"github.com/vla3d/vla3d/policy"
)

// Example shows the training-side flow: index recordings, split by episode,
// build the preprocessed cache once, then read random samples each epoch.
func Example() {
	dir, err := os.MkdirTemp("", "vla3d-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	// Three recordings with two episodes of 6 steps each.
	for i := range 3 {
		rec := synth.Config{Episodes: 2, Steps: 6, GapBetween: time.Second}
		if err := rec.Write(filepath.Join(dir, fmt.Sprintf("demo%d.bag", i))); err != nil {
			panic(err)
		}
	}
	ctx := context.Background()
	d, err := dataset.Open(ctx, []string{dir}, dataset.DefaultConfig())
	if err != nil {
		panic(err)
	}
	train, val := d.Split(0.2, 42)
	fmt.Println("episodes:", d.Len(), "train:", train.Len(), "val:", val.Len())

	spec := policy.Spec{Cameras: 2, ImageWidth: 8, ImageHeight: 8, PatchSize: 4, ActionDim: 7, Horizon: 4,
		ProprioDim: 7, InstructionLen: 6}
	cache, err := train.Cache(ctx, dataset.CacheOptions{Dir: filepath.Join(dir, "cache"), Spec: spec})
	if err != nil {
		panic(err)
	}
	defer cache.Close()
	fmt.Println("cached steps:", cache.Len(), "decoded:", cache.Decoded)

	rec := cache.NewRecord()
	chunk, valid := make([]float32, spec.Horizon*7), make([]float32, spec.Horizon)
	for _, i := range cache.Order(7, 0)[:1] {
		if err := cache.Read(i, rec, nil); err != nil {
			panic(err)
		}
		if err := cache.ActionChunk(i, spec.Horizon, chunk, valid); err != nil {
			panic(err)
		}
	}
	again, err := train.Cache(ctx, dataset.CacheOptions{Dir: filepath.Join(dir, "cache"), Spec: spec})
	if err != nil {
		panic(err)
	}
	defer again.Close()
	fmt.Println("second epoch decoded:", again.Decoded)
	// Output:
	// episodes: 6 train: 5 val: 1
	// cached steps: 30 decoded: 30
	// second epoch decoded: 0
}
