package training

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func augmentBatch(l Layout, b int) *Batch {
	rng := rand.New(rand.NewPCG(3, 4))
	out := &Batch{B: b}
	for range b * l.Cameras * 3 * l.ImageH * l.ImageW {
		out.Images = append(out.Images, rng.Float32())
	}
	for j := range b * l.Cameras * l.Patches {
		out.PointValid = append(out.PointValid, float32(min(1, j%3))) // every third token without valid depth
		out.Points = append(out.Points, rng.Float32(), rng.Float32(), rng.Float32())
	}
	return out
}

func TestAugment(t *testing.T) {
	l := Layout{Cameras: 2, ImageH: 4, ImageW: 4, Patches: 3}
	tests := []struct {
		name           string
		aug            Augment
		images, points bool // whether they change
		wantErr        bool
	}{
		{"off", Augment{}, false, false, false},
		{"probability 0 with strengths", Augment{Gain: 0.3, RGBNoise: 0.1, PointNoise: 0.01}, false, false, false},
		{"default", DefaultAugment(), true, true, false},
		{"light only", Augment{Prob: 1, Gain: 0.3, Tint: 0.1}, true, false, false},
		{"points only", Augment{Prob: 1, PointNoise: 0.01}, false, true, false},
		{"probability above 1", Augment{Prob: 1.5}, false, false, true},
		{"gain 1 would black out", Augment{Prob: 1, Gain: 1}, false, false, true},
		{"negative noise", Augment{Prob: 1, RGBNoise: -1}, false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.aug.Validate(); (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			b := augmentBatch(l, 4)
			orig := augmentBatch(l, 4)
			tc.aug.Apply(b, l, rand.New(rand.NewPCG(1, 2)))
			if got := !slices.Equal(b.Images, orig.Images); got != tc.images {
				t.Errorf("images changed = %v, want %v", got, tc.images)
			}
			if got := !slices.Equal(b.Points, orig.Points); got != tc.points {
				t.Errorf("points changed = %v, want %v", got, tc.points)
			}
			for i, x := range b.Images {
				if x < 0 || x > 1 {
					t.Fatalf("image value %d = %v outside [0, 1]", i, x)
				}
			}
			for j, v := range b.PointValid {
				if v == 0 && !slices.Equal(b.Points[3*j:3*j+3], orig.Points[3*j:3*j+3]) {
					t.Fatalf("token %d without valid depth moved", j)
				}
			}
		})
	}
}

// A resumed run draws the same perturbations for the same step: Apply is a
// function of the batch and the rng's state.
func TestAugmentReplays(t *testing.T) {
	l := Layout{Cameras: 3, ImageH: 8, ImageW: 8, Patches: 4}
	a, b := augmentBatch(l, 3), augmentBatch(l, 3)
	DefaultAugment().Apply(a, l, rand.New(rand.NewPCG(9, 9)))
	DefaultAugment().Apply(b, l, rand.New(rand.NewPCG(9, 9)))
	if !slices.Equal(a.Images, b.Images) || !slices.Equal(a.Points, b.Points) {
		t.Fatal("same rng state, different perturbations")
	}
}

func BenchmarkAugment(b *testing.B) {
	l := Layout{Cameras: 3, ImageH: 96, ImageW: 96, Patches: 36}
	batch := augmentBatch(l, 8)
	a := DefaultAugment()
	a.Prob = 1
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		a.Apply(batch, l, rng)
	}
}
