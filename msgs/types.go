// Package msgs holds the plain Go types that cross package boundaries in vla3d
// (observations, camera frames, action chunks) and their conversion to and from
// the standard ROS 1 messages (sensor_msgs, geometry_msgs, trajectory_msgs).
//
// Conventions (REP 103/105): SI units (metres, radians, seconds), right-handed
// frames; camera optical frames are z forward, x right, y down. Quaternions are
// stored x, y, z, w as in geometry_msgs.
package msgs

import "time"

// RGBImage is a decoded colour image: 8-bit RGB, row-major, tightly packed
// (len(Pix) == Width*Height*3).
type RGBImage struct {
	Width, Height int
	Pix           []uint8
}

// DepthImage is metric depth along the optical axis, row-major
// (len(Meters) == Width*Height). Invalid pixels are NaN; nothing is guessed.
type DepthImage struct {
	Width, Height int
	Meters        []float32
}

// LabelImage is a per-pixel instance id image (0 = background), used as pseudo
// ground truth for the instance module (the simulator's segmentation).
type LabelImage struct {
	Width, Height int
	IDs           []uint16
}

// CameraInfo carries the calibration fields of sensor_msgs/CameraInfo.
type CameraInfo struct {
	FrameID         string
	Width, Height   int
	DistortionModel string // "plumb_bob", "rational_polynomial", "equidistant" or "" (none)
	D               []float64
	K               [9]float64  // row-major 3x3 intrinsics
	R               [9]float64  // rectification rotation
	P               [12]float64 // row-major 3x4 projection
}

// Transform is a rigid transform (geometry_msgs/Transform): it maps points
// expressed in the child frame into the parent frame.
type Transform struct {
	Translation [3]float64
	Rotation    [4]float64 // quaternion x, y, z, w
}

// Pose is a position and orientation in a named frame (geometry_msgs/Pose).
type Pose struct {
	Position    [3]float64
	Orientation [4]float64 // quaternion x, y, z, w
}

// CameraFrame is one camera's synchronized colour, depth and calibration.
type CameraFrame struct {
	Name  string
	Stamp time.Time
	Color RGBImage
	Depth DepthImage
	Info  CameraInfo
	// BaseFromCamera maps points in the camera's optical frame to the robot base frame.
	BaseFromCamera Transform
	// Labels is optional per-pixel instance segmentation (nil Pix when absent).
	Labels LabelImage
}

// Observation is everything the policy sees at one control step.
type Observation struct {
	Stamp          time.Time
	BaseFrame      string
	Cameras        []CameraFrame
	EEPose         Pose // end effector in BaseFrame
	Gripper        float64
	JointPositions []float64
	Instruction    string
}

// Action dimensions of the default end-effector action space: delta position
// (metres), delta orientation as roll/pitch/yaw increments (radians), and the
// gripper command (0 = open, 1 = closed).
const (
	ActionDX = iota
	ActionDY
	ActionDZ
	ActionDRoll
	ActionDPitch
	ActionDYaw
	ActionGripper
	EEActionDim
)

// ActionChunk is H future actions of Dim values each, row-major in Values
// (len(Values) == Horizon*Dim), the first one meant for Stamp and the rest
// spaced by Period.
type ActionChunk struct {
	Stamp   time.Time
	Period  time.Duration
	Horizon int
	Dim     int
	Values  []float32
}

// Step returns action i of the chunk (a view into Values, not a copy).
func (c *ActionChunk) Step(i int) []float32 {
	return c.Values[i*c.Dim : (i+1)*c.Dim]
}
