package node

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/policy"
)

// linePolicy is a deterministic test double of policy.Policy: every step of
// its chunk moves the end effector by Step along x, with the gripper at the
// mean of the normalized proprio's last value (so inputs reach it), and it
// can be told to fail, return NaN or sleep.
type linePolicy struct {
	spec  policy.Spec
	Step  float32
	Delay time.Duration

	mu    sync.Mutex
	calls int
	fail  error
	nan   bool
}

func newLinePolicy(cameras, size int) *linePolicy {
	return &linePolicy{Step: 0.001, spec: policy.Spec{
		Cameras: cameras, ImageWidth: size, ImageHeight: size, PatchSize: 16, ActionDim: msgs.EEActionDim,
		Horizon: 8, ProprioDim: 7, InstructionLen: 8, ControlHz: 20, ActionSpace: "ee_delta",
		Vocabulary: []string{"pick", "cube"},
	}}
}

func (p *linePolicy) Spec() policy.Spec { return p.spec }
func (p *linePolicy) Close() error      { return nil }

func (p *linePolicy) set(fail error, nan bool) {
	p.mu.Lock()
	p.fail, p.nan = fail, nan
	p.mu.Unlock()
}

func (p *linePolicy) Predict(ctx context.Context, in *policy.Input, out *msgs.ActionChunk) error {
	p.mu.Lock()
	p.calls++
	fail, nan := p.fail, p.nan
	p.mu.Unlock()
	if p.Delay > 0 {
		select {
		case <-time.After(p.Delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		return fail
	}
	h, d := p.spec.Horizon, p.spec.ActionDim
	out.Horizon, out.Dim = h, d
	out.Period = time.Duration(float64(time.Second) / p.spec.ControlHz)
	if cap(out.Values) < h*d {
		out.Values = make([]float32, h*d)
	}
	out.Values = out.Values[:h*d]
	clear(out.Values)
	for k := range h {
		a := out.Step(k)
		a[msgs.ActionDX] = p.Step
		a[msgs.ActionGripper] = in.Proprio[6]
		if nan {
			a[msgs.ActionDY] = float32(math.NaN())
		}
	}
	return nil
}

var errPolicy = errors.New("test policy failure")

// testConfig is a valid node config for n cameras named c0..c{n-1}.
func testConfig(n int) Config {
	cfg := DefaultConfig()
	cfg.ControlHz = 20
	cfg.Cameras = nil
	for i := range n {
		cam := CameraTopics("c" + string(rune('0'+i)))
		cam.OpticalFrame = cam.Name + "_optical"
		cfg.Cameras = append(cfg.Cameras, cam)
	}
	return cfg
}

// camMsgs builds colour, depth and camera_info messages of size x size.
func camMsgs(name string, size int, stamp time.Time) (*sensor_msgs.Image, *sensor_msgs.Image, *sensor_msgs.CameraInfo) {
	rgb := msgs.RGBImage{Width: size, Height: size, Pix: make([]uint8, size*size*3)}
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(i * 7)
	}
	dep := msgs.DepthImage{Width: size, Height: size, Meters: make([]float32, size*size)}
	for i := range dep.Meters {
		dep.Meters[i] = 0.8 + float32(i%size)*0.001
	}
	c := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: stamp, FrameId: name + "_optical"}}
	d := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: stamp, FrameId: name + "_optical"}}
	if err := rosconv.EncodeColor(&rgb, rosconv.EncBGR8, c); err != nil {
		panic(err)
	}
	if err := rosconv.EncodeDepth(&dep, rosconv.Enc16UC1, d); err != nil {
		panic(err)
	}
	f := float64(size)
	info := &sensor_msgs.CameraInfo{}
	rosconv.CameraInfoToROS(&msgs.CameraInfo{FrameID: name + "_optical", Width: size, Height: size,
		K: [9]float64{f, 0, f/2 - 0.5, 0, f, f/2 - 0.5, 0, 0, 1},
		P: [12]float64{f, 0, f/2 - 0.5, 0, 0, f, f/2 - 0.5, 0, 0, 0, 1, 0}}, stamp, info)
	return c, d, info
}

// staticTF builds /tf_static placing every camera 1 m above the base looking down.
func staticTF(cfg *Config) *tf2_msgs.TFMessage { return stampedTF(cfg, time.Time{}) }

// stampedTF is staticTF's tree stamped at stamp (a /tf message).
func stampedTF(cfg *Config, stamp time.Time) *tf2_msgs.TFMessage {
	var edges []rosconv.StampedTransform
	for _, c := range cfg.Cameras {
		edges = append(edges, rosconv.StampedTransform{Stamp: stamp, Parent: cfg.BaseFrame, Child: c.Name + "_optical",
			Transform: msgs.Transform{Translation: [3]float64{0.5, 0, 1}, Rotation: [4]float64{1, 0, 0, 0}}})
	}
	m := rosconv.TFToROS(edges)
	return &m
}

func eePose(frame string, stamp time.Time) *geometry_msgs.PoseStamped {
	m := rosconv.PoseStampedToROS(msgs.Pose{Position: [3]float64{0.4, 0, 0.3}, Orientation: [4]float64{0, 0, 0, 1}}, stamp, frame)
	return &m
}

// fakeClock is a manually advanced clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
