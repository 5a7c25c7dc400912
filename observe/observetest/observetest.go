// Package observetest builds the data contract's messages for tests of the
// assembler and its users (node, eval, dataset).
package observetest

import (
	"sync"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
)

// OpticalFrame is the optical frame the test messages of camera name use.
func OpticalFrame(name string) string { return name + "_optical" }

// CamMsgs builds colour (bgr8), depth (16UC1) and camera_info messages of
// size x size for camera name, stamped stamp, in frame OpticalFrame(name).
func CamMsgs(name string, size int, stamp time.Time) (*sensor_msgs.Image, *sensor_msgs.Image, *sensor_msgs.CameraInfo) {
	rgb := msgs.RGBImage{Width: size, Height: size, Pix: make([]uint8, size*size*3)}
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(i * 7)
	}
	dep := msgs.DepthImage{Width: size, Height: size, Meters: make([]float32, size*size)}
	for i := range dep.Meters {
		dep.Meters[i] = 0.8 + float32(i%size)*0.001
	}
	c := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: stamp, FrameId: OpticalFrame(name)}}
	d := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: stamp, FrameId: OpticalFrame(name)}}
	if err := rosconv.EncodeColor(&rgb, rosconv.EncBGR8, c); err != nil {
		panic(err)
	}
	if err := rosconv.EncodeDepth(&dep, rosconv.Enc16UC1, d); err != nil {
		panic(err)
	}
	f := float64(size)
	info := &sensor_msgs.CameraInfo{}
	rosconv.CameraInfoToROS(&msgs.CameraInfo{FrameID: OpticalFrame(name), Width: size, Height: size,
		K: [9]float64{f, 0, f/2 - 0.5, 0, f, f/2 - 0.5, 0, 0, 1},
		P: [12]float64{f, 0, f/2 - 0.5, 0, 0, f, f/2 - 0.5, 0, 0, 0, 1, 0}}, stamp, info)
	return c, d, info
}

// CameraTF places every named camera 0.5 m ahead and 1 m above base,
// looking down, stamped stamp (zero: a /tf_static message).
func CameraTF(base string, stamp time.Time, cameras ...string) *tf2_msgs.TFMessage {
	var edges []rosconv.StampedTransform
	for _, c := range cameras {
		edges = append(edges, rosconv.StampedTransform{Stamp: stamp, Parent: base, Child: OpticalFrame(c),
			Transform: msgs.Transform{Translation: [3]float64{0.5, 0, 1}, Rotation: [4]float64{1, 0, 0, 0}}})
	}
	m := rosconv.TFToROS(edges)
	return &m
}

// EEPose is an end-effector pose at (0.4, 0, 0.3), identity orientation.
func EEPose(frame string, stamp time.Time) *geometry_msgs.PoseStamped {
	m := rosconv.PoseStampedToROS(msgs.Pose{Position: [3]float64{0.4, 0, 0.3}, Orientation: [4]float64{0, 0, 0, 1}}, stamp, frame)
	return &m
}

// Clock is a manually advanced clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
