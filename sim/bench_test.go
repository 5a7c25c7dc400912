package sim

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkControlStep measures one control step: physics substeps plus
// rendering every camera (RGB-D, and labels in the "+labels" variants).
func BenchmarkControlStep(b *testing.B) {
	for _, size := range []int{128, 224} {
		for _, labels := range []bool{false, true} {
			name := fmt.Sprintf("%dx%d", size, size)
			if labels {
				name += "+labels"
			}
			b.Run(name, func(b *testing.B) {
				env, err := New(Config{Width: size, Height: size, SkipLabels: !labels})
				if err != nil {
					b.Fatal(err)
				}
				defer env.Close()
				ctx := context.Background()
				if err := env.Reset(ctx, EpisodeSpec{Task: TaskPickPlace, Split: SplitNone, Seed: 1}); err != nil {
					b.Fatal(err)
				}
				x := NewExpert(env)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					a, err := x.Action(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if err := env.Step(ctx, a); err != nil {
						b.Fatal(err)
					}
					if _, err := env.Observe(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPhysicsStep measures one control step of physics alone.
func BenchmarkPhysicsStep(b *testing.B) {
	env, err := New(Config{Width: 64, Height: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	if err := env.Reset(ctx, EpisodeSpec{Task: TaskPickPlace, Split: SplitNone, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	x := NewExpert(env)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a, err := x.Action(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := env.Step(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReset measures building, loading and settling a new episode.
func BenchmarkReset(b *testing.B) {
	env, err := New(Config{Width: 128, Height: 128})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := env.Reset(context.Background(), EpisodeSpec{Task: TaskPickPlace, Split: SplitNone, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
