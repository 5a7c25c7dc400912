package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/vla3d/vla3d/msgs"
)

// JointNames are the names of Observation.JointPositions (and /joint_states).
func JointNames() []string { return []string{"finger_left", "finger_right"} }

// Stamp is the simulated time of the current state.
func (e *Env) Stamp() time.Time {
	return e.cfg.Epoch.Add(time.Duration((e.model.Time() - e.t0) * float64(time.Second)))
}

// Observe renders every camera and assembles the observation: colour,
// metric depth (with the split's sensor noise), instance labels,
// calibration, base <- optical extrinsics, end-effector pose and gripper.
func (e *Env) Observe(ctx context.Context) (*msgs.Observation, error) {
	if e.model == nil {
		return nil, errors.New("sim: Observe before Reset")
	}
	st := e.State()
	stamp := e.Stamp()
	obs := &msgs.Observation{
		Stamp:          stamp,
		BaseFrame:      e.cfg.BaseFrame,
		EEPose:         msgs.Pose{Position: st.EEPos, Orientation: st.EEQuat.Array()},
		Gripper:        st.Gripper,
		JointPositions: []float64{st.FingerQ[0], st.FingerQ[1]},
		Instruction:    e.scene.Instruction,
	}
	for i, c := range e.scene.Cameras {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := e.frames[i]
		if err := e.model.Render(e.camIDs[i], f, !e.cfg.SkipLabels); err != nil {
			return nil, fmt.Errorf("sim: camera %s: %w", c.Name, err)
		}
		pos, mat := e.model.CameraPose(e.camIDs[i])
		cf := msgs.CameraFrame{
			Name:           c.Name,
			Stamp:          stamp,
			Color:          msgs.RGBImage{Width: f.Width, Height: f.Height, Pix: append([]uint8(nil), f.RGB...)},
			Depth:          msgs.DepthImage{Width: f.Width, Height: f.Height, Meters: append([]float32(nil), f.Depth...)},
			Info:           CameraInfo(OpticalFrameID(c.Name), f.Width, f.Height, e.model.CameraFovy(e.camIDs[i])),
			BaseFromCamera: BaseFromOptical(pos, mat),
		}
		if !e.cfg.SkipLabels {
			ids := make([]uint16, len(f.Geoms))
			for k, g := range f.Geoms {
				if g >= 0 && int(g) < len(e.geomLabel) {
					ids[k] = e.geomLabel[g]
				}
			}
			cf.Labels = msgs.LabelImage{Width: f.Width, Height: f.Height, IDs: ids}
		}
		e.addNoise(&cf)
		obs.Cameras = append(obs.Cameras, cf)
	}
	return obs, nil
}

// addNoise applies the scene's sensor noise (Noise split) to one frame.
func (e *Env) addNoise(cf *msgs.CameraFrame) {
	n := e.scene.Noise
	if n.RGBStd > 0 {
		for i, v := range cf.Color.Pix {
			x := float64(v) + e.noiseRNG.NormFloat64()*n.RGBStd
			cf.Color.Pix[i] = uint8(math.Max(0, math.Min(255, math.Round(x))))
		}
	}
	if n.DepthStd > 0 || n.DepthDropout > 0 {
		for i, z := range cf.Depth.Meters {
			if n.DepthDropout > 0 && e.noiseRNG.Float64() < n.DepthDropout {
				cf.Depth.Meters[i] = float32(math.NaN())
				continue
			}
			cf.Depth.Meters[i] = z + float32(e.noiseRNG.NormFloat64()*n.DepthStd)
		}
	}
}
