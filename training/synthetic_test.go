package training

import (
	"math"
	"math/rand/v2"

	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
)

// tinyModel is the smallest valid model: fast enough for the pure-Go backend
// inside unit tests.
func tinyModel(row string) model.Config {
	c := model.DefaultConfig()
	c.Cameras, c.ImageHeight, c.ImageWidth, c.PatchSize = 2, 32, 32, 16
	c.Width, c.Heads, c.MLPRatio = 24, 2, 2
	c.BaseLayers, c.FusionLayers, c.InstanceLayers, c.PredictorLayers, c.ExpertLayers = 1, 1, 1, 1, 1
	c.Probes, c.KeepInstances, c.DeformKeys, c.MaskDim = 6, 4, 2, 8
	c.CompletionInstances, c.CompletionPerInst, c.RouteK = 2, 2, 2
	c.InstructionLen, c.VocabSize, c.Horizon = 4, 16, 4
	c.FourierBands, c.EEBands = 2, 2
	c.FlowSteps = 2
	c, err := c.Row(row)
	if err != nil {
		panic(err)
	}
	return c
}

// syntheticSamples makes n geometrically consistent samples with random
// targets: two cameras looking at the workspace, instances with boxes,
// masks and centroids inside it.
func syntheticSamples(l Layout, cfg model.Config, n int, seed uint64) []*Sample {
	r := rand.New(rand.NewPCG(seed, 3))
	spec := l.Spec()
	var out []*Sample
	for range n {
		in := policy.NewInput(spec)
		for i := range in.Images {
			in.Images[i] = r.Float32()
		}
		for i := range l.Cameras * l.Patches {
			for a := range 3 {
				in.Points[3*i+a] = float32(cfg.WorkspaceMin[a] + r.Float64()*(cfg.WorkspaceMax[a]-cfg.WorkspaceMin[a]))
			}
			in.PointValid[i] = 1
		}
		for c := range l.Cameras {
			ang := math.Pi * float64(c) / float64(l.Cameras)
			eye := [3]float64{0.55 + 0.8*math.Cos(ang), 0.8 * math.Sin(ang), 0.7}
			copy(in.CamFromBase[12*c:], lookAtF32(eye, [3]float64{0.55, 0, 0.1}))
			f := float32(l.ImageW)
			copy(in.Intrinsics[4*c:], []float32{f, f, f / 2, float32(l.ImageH) / 2})
		}
		for i := range in.Proprio {
			in.Proprio[i] = float32(r.NormFloat64() * 0.3)
		}
		for i := range in.Instruction {
			if i < 2 {
				in.Instruction[i] = int64(1 + r.IntN(cfg.VocabSize-1))
			}
		}
		s := &Sample{Input: in, Actions: make([]float32, l.Horizon*l.ActionDim), ActionValid: make([]float32, l.Horizon)}
		for i := range s.Actions {
			s.Actions[i] = float32(r.NormFloat64() * 0.5)
		}
		for i := range s.ActionValid {
			s.ActionValid[i] = 1
		}
		s.Labels = NewInstanceLabels(l)
		s.Labels.Count = 1 + r.IntN(min(3, l.MaxInstances))
		for g := range s.Labels.Count {
			for a := range 3 {
				s.Labels.Centroids[3*g+a] = float32(cfg.WorkspaceMin[a] + r.Float64()*(cfg.WorkspaceMax[a]-cfg.WorkspaceMin[a]))
			}
			for v := range l.Cameras {
				if r.Float64() < 0.2 {
					continue // occluded in this view
				}
				cx, cy := 0.2+0.6*r.Float64(), 0.2+0.6*r.Float64()
				w, h := 0.1+0.2*r.Float64(), 0.1+0.2*r.Float64()
				copy(s.Labels.Boxes[(g*l.Cameras+v)*4:], []float32{float32(cx), float32(cy), float32(w), float32(h)})
				s.Labels.BoxValid[g*l.Cameras+v] = 1
				m := s.Labels.Masks[(g*l.Cameras+v)*l.MaskH*l.MaskW:]
				for y := range l.MaskH {
					for x := range l.MaskW {
						u, vv := (float64(x)+0.5)/float64(l.MaskW), (float64(y)+0.5)/float64(l.MaskH)
						if math.Abs(u-cx) < w/2 && math.Abs(vv-cy) < h/2 {
							m[y*l.MaskW+x] = 1
						}
					}
				}
			}
		}
		s.CompletionCoords = make([]float32, l.Completion*3)
		s.CompletionValid = make([]float32, l.Completion)
		for i := range l.Completion {
			for a := range 3 {
				s.CompletionCoords[3*i+a] = float32(cfg.WorkspaceMin[a] + r.Float64()*(cfg.WorkspaceMax[a]-cfg.WorkspaceMin[a]))
			}
			s.CompletionValid[i] = 1
		}
		out = append(out, s)
	}
	return out
}

func lookAtF32(eye, target [3]float64) []float32 {
	baseFromCam, err := perception.LookAt(eye, target, [3]float64{0, 0, 1})
	if err != nil {
		panic(err)
	}
	m := baseFromCam.Inverse().Matrix3x4()
	return m[:]
}
