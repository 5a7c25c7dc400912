package training

import (
	"fmt"
	"math/rand/v2"
)

// Augment perturbs a training batch's observations the way the simulator's
// perturbation splits perturb a scene (sim/perturb.go) and a real camera
// does: the light's intensity and tint per camera (split "light"), pixel
// noise and depth noise (split "noise"). It changes only the training
// batch: validation, export and inference see observations as they are.
// Viewpoint, robot and layout changes need a new render (they move the
// depth-derived points with the pixels), so they are left to the
// recordings.
type Augment struct {
	// Prob is the chance that a sample is perturbed at all, so clean
	// observations stay well represented. 0 turns augmentation off.
	Prob float64
	// (optional) Gain: each camera's brightness is scaled by a factor drawn
	// uniformly from [1-Gain, 1+Gain].
	Gain float64
	// (optional) Tint: each colour channel of a camera is scaled by a
	// factor drawn from [1-Tint, 1+Tint].
	Tint float64
	// (optional) RGBNoise is the standard deviation of per-pixel Gaussian
	// noise, in [0,1] intensity units.
	RGBNoise float64
	// (optional) PointNoise is the standard deviation, in metres, of
	// Gaussian noise added to each token's 3D point (depth noise averaged
	// over a patch).
	PointNoise float64
}

// DefaultAugment matches the evaluation's perturbations at severity 0.5:
// light gain [0.65, 1.25] and tint ±15% (augmented ±30% and ±10%), pixel
// noise 10/255 (augmented 8/255), depth noise 5 mm a pixel (2 mm a token).
func DefaultAugment() Augment {
	return Augment{Prob: 0.5, Gain: 0.3, Tint: 0.1, RGBNoise: 8.0 / 255, PointNoise: 0.002}
}

// Validate checks the augmentation's ranges.
func (a Augment) Validate() error {
	switch {
	case a.Prob < 0 || a.Prob > 1:
		return fmt.Errorf("augment: probability %v outside [0, 1]", a.Prob)
	case a.Gain < 0 || a.Gain >= 1:
		return fmt.Errorf("augment: gain %v outside [0, 1)", a.Gain)
	case a.Tint < 0 || a.Tint >= 1:
		return fmt.Errorf("augment: tint %v outside [0, 1)", a.Tint)
	case a.RGBNoise < 0 || a.PointNoise < 0:
		return fmt.Errorf("augment: negative noise (rgb %v, points %v)", a.RGBNoise, a.PointNoise)
	}
	return nil
}

// Apply perturbs b in place (the batch holds copies of the samples'
// observations, so the dataset is untouched), drawing from rng so a resumed
// run replays the same perturbations for the same step. Images stay in
// [0, 1]; points without valid depth are left alone.
func (a Augment) Apply(b *Batch, l Layout, rng *rand.Rand) {
	if a.Prob <= 0 {
		return
	}
	plane := l.ImageH * l.ImageW
	perImage := 3 * plane
	perSample := l.Cameras * perImage
	tokens := l.Cameras * l.Patches
	for s := range b.B {
		if rng.Float64() >= a.Prob {
			continue
		}
		for v := range l.Cameras {
			gain := 1 + a.Gain*(2*rng.Float64()-1)
			for c := range 3 {
				scale := float32(gain * (1 + a.Tint*(2*rng.Float64()-1)))
				px := b.Images[s*perSample+v*perImage+c*plane:][:plane]
				for i, x := range px {
					y := x*scale + float32(a.RGBNoise*rng.NormFloat64())
					px[i] = min(1, max(0, y))
				}
			}
		}
		if a.PointNoise > 0 {
			for j := range tokens {
				if b.PointValid[s*tokens+j] == 0 {
					continue
				}
				p := b.Points[(s*tokens+j)*3:][:3]
				for k := range p {
					p[k] += float32(a.PointNoise * rng.NormFloat64())
				}
			}
		}
	}
}
