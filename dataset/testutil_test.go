package dataset

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/bag/mcapbag"
)

var t0 = time.Unix(1700000000, 0).UTC()

const (
	imgW, imgH = 16, 12
	period     = 100 * time.Millisecond
)

// synth describes a synthetic recording in the data contract's layout.
type synth struct {
	episodes     int
	steps        int           // per episode
	noAction     bool          // leave out /vla3d/expert_action
	noMarkers    bool          // leave out /vla3d/episode
	labels       bool          // write /<c>/labels/image_raw
	depthJitter  time.Duration // depth stamped this much after colour
	noInfo       string        // camera without camera_info
	swapStamps   int           // step whose colour stamps are swapped with the next (out of order)
	gapBetween   time.Duration // pause between episodes
	mcap         bool
	mcapEncoding string
}

type writer interface {
	WriteMsg(topic string, t time.Time, msg any) error
	Close() error
}

// action k of every episode: constant translation, yaw increments, gripper
// closing halfway.
func synthAction(k, steps int) [7]float32 {
	g := float32(0)
	if k >= steps/2 {
		g = 1
	}
	return [7]float32{0.01, -0.002, 0.005, 0, 0, 0.02, g}
}

func quatMulXYZW(a, b [4]float64) [4]float64 {
	ax, ay, az, aw := a[0], a[1], a[2], a[3]
	bx, by, bz, bw := b[0], b[1], b[2], b[3]
	return [4]float64{
		aw*bx + ax*bw + ay*bz - az*by,
		aw*by - ax*bz + ay*bw + az*bx,
		aw*bz + ax*by - ay*bx + az*bw,
		aw*bw - ax*bx - ay*by - az*bz,
	}
}

func (s synth) write(t *testing.T, path string) {
	t.Helper()
	var w writer
	var err error
	if s.mcap {
		w, err = mcapbag.Create(path, mcapbag.WriterOptions{Encoding: s.mcapEncoding, ChunkSize: 1 << 16})
	} else {
		w, err = bag.Create(path, bag.WriterOptions{ChunkSize: 1 << 16})
	}
	if err != nil {
		t.Fatal(err)
	}
	must := func(topic string, ts time.Time, m any) {
		t.Helper()
		if err := w.WriteMsg(topic, ts, m); err != nil {
			t.Fatal(err)
		}
	}
	cams := []string{"front", "wrist"}
	stamp := t0
	for e := 0; e < s.episodes; e++ {
		if !s.noMarkers {
			b, _ := json.Marshal(map[string]any{"event": "start", "episode": e})
			must("/vla3d/episode", stamp, &std_msgs.String{Data: string(b)})
		}
		must("/instruction", stamp, &std_msgs.String{Data: fmt.Sprintf("pick up block %d", e)})
		must("/tf_static", stamp, &tf2_msgs.TFMessage{Transforms: []geometry_msgs.TransformStamped{{
			Header: std_msgs.Header{Stamp: stamp, FrameId: "base_link"}, ChildFrameId: "front_optical",
			Transform: geometry_msgs.Transform{Translation: geometry_msgs.Vector3{X: 1, Y: 0, Z: 0.5}, Rotation: geometry_msgs.Quaternion{W: 1}},
		}}})
		pos := [3]float64{0.4, 0, 0.3}
		q := [4]float64{0, 0, 0, 1}
		for k := 0; k < s.steps; k++ {
			st := stamp
			for ci, c := range cams {
				cst := st
				if k == s.swapStamps-1 || k == s.swapStamps {
					// swap colour stamps of steps swapStamps-1 and swapStamps on camera 0
					if ci == 0 && s.swapStamps > 0 {
						if k == s.swapStamps-1 {
							cst = st.Add(period)
						} else {
							cst = st.Add(-period)
						}
					}
				}
				col := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: cst, FrameId: c + "_optical"}, Width: imgW, Height: imgH,
					Encoding: "rgb8", Step: 3 * imgW, Data: make([]byte, 3*imgW*imgH)}
				for i := range col.Data {
					col.Data[i] = byte(k + 10*ci + i%3)
				}
				must("/"+c+"/color/image_raw", st, col)
				if c != s.noInfo {
					must("/"+c+"/color/camera_info", st, &sensor_msgs.CameraInfo{Header: std_msgs.Header{Stamp: st, FrameId: c + "_optical"},
						Width: imgW, Height: imgH, DistortionModel: "plumb_bob", D: make([]float64, 5),
						K: [9]float64{20, 0, 8, 0, 20, 6, 0, 0, 1}, R: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1},
						P: [12]float64{20, 0, 8, 0, 0, 20, 6, 0, 0, 0, 1, 0}})
				}
				dep := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: st.Add(s.depthJitter), FrameId: c + "_optical"}, Width: imgW, Height: imgH,
					Encoding: "32FC1", Step: 4 * imgW, Data: make([]byte, 4*imgW*imgH)}
				for i := 0; i < imgW*imgH; i++ {
					binary.LittleEndian.PutUint32(dep.Data[4*i:], math.Float32bits(1+0.01*float32(k)))
				}
				must("/"+c+"/depth/image_raw", st.Add(s.depthJitter), dep)
				if s.labels {
					lab := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: st, FrameId: c + "_optical"}, Width: imgW, Height: imgH,
						Encoding: "mono16", Step: 2 * imgW, Data: make([]byte, 2*imgW*imgH)}
					for i := 0; i < imgW*imgH; i++ {
						binary.LittleEndian.PutUint16(lab.Data[2*i:], uint16(i%3))
					}
					must("/"+c+"/labels/image_raw", st, lab)
				}
			}
			must("/ee_pose", st, &geometry_msgs.PoseStamped{Header: std_msgs.Header{Stamp: st, FrameId: "base_link"},
				Pose: geometry_msgs.Pose{Position: geometry_msgs.Point{X: pos[0], Y: pos[1], Z: pos[2]},
					Orientation: geometry_msgs.Quaternion{X: q[0], Y: q[1], Z: q[2], W: q[3]}}})
			must("/tf", st, &tf2_msgs.TFMessage{Transforms: []geometry_msgs.TransformStamped{{
				Header: std_msgs.Header{Stamp: st, FrameId: "base_link"}, ChildFrameId: "wrist_optical",
				Transform: geometry_msgs.Transform{Translation: geometry_msgs.Vector3{X: pos[0], Y: pos[1], Z: pos[2] + 0.1},
					Rotation: geometry_msgs.Quaternion{X: q[0], Y: q[1], Z: q[2], W: q[3]}},
			}}})
			a := synthAction(k, s.steps)
			if !s.noAction {
				must("/vla3d/expert_action", st, &std_msgs.Float32MultiArray{Data: a[:]})
			}
			// Execute the action exactly: the next pose is what the
			// derived action must recover.
			for i := range 3 {
				pos[i] += float64(a[i])
			}
			yaw := float64(a[5])
			q = quatMulXYZW([4]float64{0, 0, math.Sin(yaw / 2), math.Cos(yaw / 2)}, q)
			stamp = stamp.Add(period)
		}
		if !s.noMarkers {
			b, _ := json.Marshal(map[string]any{"event": "end", "episode": e})
			must("/vla3d/episode", stamp.Add(-period/2), &std_msgs.String{Data: string(b)})
		}
		stamp = stamp.Add(s.gapBetween)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
