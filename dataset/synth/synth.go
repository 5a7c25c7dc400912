// Package synth writes synthetic recordings in the vla3d data contract's
// layout (cameras' colour, depth, calibration and labels, tf, end-effector
// pose, instruction, expert actions and episode markers) whose content is
// known in closed form, for tests and benchmarks of the readers, the
// dataset layer and the evaluator.
package synth

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/vla3d/vla3d/contract"
	"math"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/bag/mcapbag"
	"github.com/vla3d/vla3d/perception"
)

// T0 is the stamp of the first message.
var T0 = time.Unix(1700000000, 0).UTC()

// Period is the control period (10 Hz).
const Period = 100 * time.Millisecond

// Config describes a synthetic recording. Step k of every episode is stamped
// T0 + k*Period (plus earlier episodes and gaps); the end effector starts at
// (0.4, 0, 0.3) and executes Action(k) exactly (perception.ApplyDelta), so
// the action derived from consecutive poses equals the recorded one.
type Config struct {
	Episodes    int
	Steps       int      // per episode
	Cameras     []string // default "front" (static) and "wrist" (moving, via /tf)
	Width       int      // image size, default 16x12
	Height      int
	NoAction    bool          // leave out /vla3d/expert_action
	NoMarkers   bool          // leave out /vla3d/episode
	Labels      bool          // write /<c>/labels/image_raw
	DepthJitter time.Duration // depth stamped this much after colour
	NoInfo      string        // camera without camera_info
	// ColorEncoding labels the 3-byte colour pixels (default "rgb8"); any
	// other name is written as is, to exercise unknown encodings.
	ColorEncoding string
	SwapStamps    int           // colour stamps of camera 0 at steps SwapStamps-1 and SwapStamps are swapped
	GapBetween    time.Duration // pause between episodes
	// MCAP writes an MCAP file (Encoding "ros1" or "cdr") instead of a bag.
	MCAP        bool
	Encoding    string
	Compression string // bag: "" or "lz4"; MCAP: "lz4" (default), "zstd", "none"
}

type writer interface {
	WriteMsg(topic string, t time.Time, msg any) error
	Close() error
}

// Action is the expert action of step k of an episode of steps steps:
// constant translation, yaw increments, gripper closing halfway.
func Action(k, steps int) [7]float32 {
	g := float32(0)
	if k >= steps/2 {
		g = 1
	}
	return [7]float32{0.01, -0.002, 0.005, 0, 0, 0.02, g}
}

// Write writes the recording to path.
func (s Config) Write(path string) (err error) {
	topics := contract.DefaultTopics()
	var w writer
	if s.MCAP {
		w, err = mcapbag.Create(path, mcapbag.WriterOptions{Encoding: s.Encoding, Compression: s.Compression, ChunkSize: 1 << 20})
	} else {
		w, err = bag.Create(path, bag.WriterOptions{Compression: s.Compression})
	}
	if err != nil {
		return err
	}
	defer func() {
		if cerr := w.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	var werr error
	must := func(topic string, ts time.Time, m any) {
		if werr == nil {
			werr = w.WriteMsg(topic, ts, m)
		}
	}
	cams := s.Cameras
	if len(cams) == 0 {
		cams = []string{"front", "wrist"}
	}
	imgW, imgH := uint32(s.Width), uint32(s.Height)
	if s.Width <= 0 || s.Height <= 0 {
		imgW, imgH = 16, 12
	}
	fx, cx, cy := float64(imgW)*1.25, float64(imgW)/2, float64(imgH)/2
	colorEnc := s.ColorEncoding
	if colorEnc == "" {
		colorEnc = "rgb8"
	}
	stamp := T0
	for e := 0; e < s.Episodes; e++ {
		if werr != nil {
			return werr
		}
		if !s.NoMarkers {
			b, _ := json.Marshal(map[string]any{"event": "start", "episode": e})
			must(topics.Episode, stamp, &std_msgs.String{Data: string(b)})
		}
		must(topics.Instruction, stamp, &std_msgs.String{Data: fmt.Sprintf("pick up block %d", e)})
		// Every camera but "wrist" is fixed: camera i at (1, 0.3 i, 0.5).
		var static []geometry_msgs.TransformStamped
		for ci, c := range cams {
			if c != "wrist" {
				static = append(static, geometry_msgs.TransformStamped{
					Header: std_msgs.Header{Stamp: stamp, FrameId: contract.BaseFrame}, ChildFrameId: c + "_optical",
					Transform: geometry_msgs.Transform{Translation: geometry_msgs.Vector3{X: 1, Y: 0.3 * float64(ci), Z: 0.5}, Rotation: geometry_msgs.Quaternion{W: 1}},
				})
			}
		}
		must(topics.TFStatic, stamp, &tf2_msgs.TFMessage{Transforms: static})
		ee := perception.Pose{Position: perception.VecFromArray([3]float64{0.4, 0, 0.3}), Orientation: perception.IdentityQuat()}
		for k := 0; k < s.Steps; k++ {
			st := stamp
			for ci, c := range cams {
				cst := st
				if ci == 0 && s.SwapStamps > 0 {
					switch k {
					case s.SwapStamps - 1:
						cst = st.Add(Period)
					case s.SwapStamps:
						cst = st.Add(-Period)
					}
				}
				col := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: cst, FrameId: c + "_optical"}, Width: imgW, Height: imgH,
					Encoding: colorEnc, Step: 3 * imgW, Data: make([]byte, 3*imgW*imgH)}
				for i := range col.Data {
					col.Data[i] = byte(k + 10*ci + i%3)
				}
				must(contract.ColorTopic(c), st, col)
				if c != s.NoInfo {
					must(contract.ColorInfoTopic(c), st, &sensor_msgs.CameraInfo{Header: std_msgs.Header{Stamp: st, FrameId: c + "_optical"},
						Width: imgW, Height: imgH, DistortionModel: "plumb_bob", D: make([]float64, 5),
						K: [9]float64{fx, 0, cx, 0, fx, cy, 0, 0, 1}, R: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1},
						P: [12]float64{fx, 0, cx, 0, 0, fx, cy, 0, 0, 0, 1, 0}})
				}
				dep := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: st.Add(s.DepthJitter), FrameId: c + "_optical"}, Width: imgW, Height: imgH,
					Encoding: "32FC1", Step: 4 * imgW, Data: make([]byte, 4*imgW*imgH)}
				for i := 0; i < int(imgW*imgH); i++ {
					binary.LittleEndian.PutUint32(dep.Data[4*i:], math.Float32bits(1+0.01*float32(k)))
				}
				must(contract.DepthTopic(c), st.Add(s.DepthJitter), dep)
				if s.Labels {
					lab := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: st, FrameId: c + "_optical"}, Width: imgW, Height: imgH,
						Encoding: "mono16", Step: 2 * imgW, Data: make([]byte, 2*imgW*imgH)}
					for i := 0; i < int(imgW*imgH); i++ {
						binary.LittleEndian.PutUint16(lab.Data[2*i:], uint16(i%3))
					}
					must(contract.LabelsTopic(c), st, lab)
				}
			}
			pos, q := ee.Position, ee.Orientation
			must(topics.EEPose, st, &geometry_msgs.PoseStamped{Header: std_msgs.Header{Stamp: st, FrameId: contract.BaseFrame},
				Pose: geometry_msgs.Pose{Position: geometry_msgs.Point{X: pos.X, Y: pos.Y, Z: pos.Z},
					Orientation: geometry_msgs.Quaternion{X: q.X, Y: q.Y, Z: q.Z, W: q.W}}})
			must(topics.TF, st, &tf2_msgs.TFMessage{Transforms: []geometry_msgs.TransformStamped{{
				Header: std_msgs.Header{Stamp: st, FrameId: contract.BaseFrame}, ChildFrameId: "wrist_optical",
				Transform: geometry_msgs.Transform{Translation: geometry_msgs.Vector3{X: pos.X, Y: pos.Y, Z: pos.Z + 0.1},
					Rotation: geometry_msgs.Quaternion{X: q.X, Y: q.Y, Z: q.Z, W: q.W}},
			}}})
			a := Action(k, s.Steps)
			if !s.NoAction {
				must(topics.ExpertAction, st, &std_msgs.Float32MultiArray{Data: a[:]})
			}
			// Execute the action exactly: the next pose is what the
			// derived action must recover.
			ee = perception.ApplyDelta(ee, perception.DeltaFromAction(a[:]))
			stamp = stamp.Add(Period)
		}
		if !s.NoMarkers {
			b, _ := json.Marshal(map[string]any{"event": "end", "episode": e})
			must(topics.Episode, stamp.Add(-Period/2), &std_msgs.String{Data: string(b)})
		}
		stamp = stamp.Add(s.GapBetween)
	}
	return werr
}
