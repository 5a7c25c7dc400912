package sim

import "github.com/vla3d/vla3d/contract"

// Shape is an object's collision/visual primitive.
type Shape int

// Object shapes.
const (
	ShapeBox      Shape = iota // Size = half extents
	ShapeCylinder              // Size[0] = radius, Size[2] = half height
	ShapeBowl                  // Size[0] = inner radius, Size[2] = wall height; static
)

// Stable instance ids written into the segmentation labels (0 = background:
// table, walls, floor). They do not depend on the MuJoCo model layout.
const (
	LabelRobot = contract.LabelRobot // hand and fingers
)

// Object is one movable (or static, for the bowl) item on the table.
type Object struct {
	Name    string
	Label   uint16 // instance id in LabelImage
	Shape   Shape
	Size    Vec3
	RGBA    [4]float64
	Pos     Vec3 // centre in the base frame
	Yaw     float64
	Movable bool
	Mass    float64
}

// Radius is the object's footprint radius in the table plane.
func (o Object) Radius() float64 {
	switch o.Shape {
	case ShapeBox:
		return norm(Vec3{o.Size[0], o.Size[1], 0})
	default:
		return o.Size[0] + 0.01
	}
}

// Camera describes a camera of the scene. Fixed cameras are given in the
// base frame; the wrist camera in the hand frame.
type Camera struct {
	Name   string
	Wrist  bool
	Pos    Vec3
	Target Vec3
	Up     Vec3
	Roll   float64 // radians about the viewing direction
	Fovy   float64 // vertical field of view, degrees
}

// Light is the key light and the renderer's headlight.
type Light struct {
	Dir              Vec3
	Diffuse, Ambient Vec3
	Headlight        Vec3 // headlight diffuse; its ambient is a fixed fraction
}

// Background holds the colours of the static surroundings.
type Background struct {
	Table, Wall, Floor [4]float64
}

// Noise is the sensor noise applied to rendered images.
type Noise struct {
	RGBStd       float64 // Gaussian std in 8-bit intensity units
	DepthStd     float64 // Gaussian std in metres
	DepthDropout float64 // fraction of depth pixels set invalid (NaN)
}

// Scene is the complete, deterministic description of one episode: the MJCF
// is generated from it and the perturbation suites edit it.
type Scene struct {
	Task        string
	Instruction string
	Target      string // object to move
	Goal        string // bowl or object to place it on
	Objects     []Object
	Cameras     []Camera
	EEStart     Vec3
	EEYaw       float64
	Light       Light
	Background  Background
	Noise       Noise
	Width       int
	Height      int
}

// Object returns the named object.
func (s *Scene) Object(name string) (Object, bool) {
	for _, o := range s.Objects {
		if o.Name == name {
			return o, true
		}
	}
	return Object{}, false
}

// Nominal scene constants (metres). The robot base frame is the world frame;
// the table top is the plane z = 0.
const (
	tableHalfX, tableHalfY = 0.45, 0.6
	tableCenterX           = 0.5
	wsXMin, wsXMax         = 0.32, 0.68 // nominal object workspace
	wsYMin, wsYMax         = -0.24, 0.24
	fingerOpen             = 0.045 // finger centre offset from the TCP when open
	fingerTravel           = 0.04  // slide range of each finger
	fingerHalfThick        = 0.006
)

// defaultCameras are the two fixed views and the wrist view.
func defaultCameras() []Camera {
	return []Camera{
		{Name: "front", Pos: Vec3{1.25, 0, 0.5}, Target: Vec3{0.5, 0, 0.02}, Up: Vec3{0, 0, 1}, Fovy: 45},
		{Name: "side", Pos: Vec3{0.5, -0.8, 0.45}, Target: Vec3{0.5, 0, 0.02}, Up: Vec3{0, 0, 1}, Fovy: 45},
		{Name: "wrist", Wrist: true, Pos: Vec3{0.05, 0, 0.08}, Target: Vec3{0.03, 0, -0.1}, Up: Vec3{1, 0, 0}, Fovy: 75},
	}
}

func defaultLight() Light {
	return Light{
		Dir:       normalize(Vec3{-0.3, 0.2, -1}),
		Diffuse:   Vec3{0.7, 0.7, 0.7},
		Ambient:   Vec3{0.25, 0.25, 0.25},
		Headlight: Vec3{0.3, 0.3, 0.3},
	}
}

func defaultBackground() Background {
	return Background{
		Table: [4]float64{0.55, 0.42, 0.3, 1},
		Wall:  [4]float64{0.82, 0.82, 0.85, 1},
		Floor: [4]float64{0.35, 0.35, 0.38, 1},
	}
}

// baseObjects are present in every task, before placement.
func baseObjects() []Object {
	return []Object{
		{Name: "red_block", Label: 1, Shape: ShapeBox, Size: Vec3{0.02, 0.02, 0.02}, RGBA: [4]float64{0.85, 0.1, 0.1, 1}, Movable: true, Mass: 0.05},
		{Name: "green_block", Label: 2, Shape: ShapeBox, Size: Vec3{0.025, 0.025, 0.025}, RGBA: [4]float64{0.1, 0.7, 0.2, 1}, Movable: true, Mass: 0.08},
		{Name: "blue_cylinder", Label: 3, Shape: ShapeCylinder, Size: Vec3{0.02, 0.02, 0.03}, RGBA: [4]float64{0.15, 0.3, 0.9, 1}, Movable: true, Mass: 0.05},
		{Name: "yellow_block", Label: 4, Shape: ShapeBox, Size: Vec3{0.015, 0.04, 0.015}, RGBA: [4]float64{0.95, 0.85, 0.1, 1}, Movable: true, Mass: 0.05},
		{Name: "bowl", Label: 5, Shape: ShapeBowl, Size: Vec3{0.07, 0.07, 0.04}, RGBA: [4]float64{0.92, 0.92, 0.9, 1}},
	}
}

// occluderObject hides the target from the front camera in the occlusion task.
func occluderObject() Object {
	return Object{Name: "occluder", Label: 6, Shape: ShapeBox, Size: Vec3{0.02, 0.06, 0.035}, RGBA: [4]float64{0.55, 0.3, 0.65, 1}, Movable: true, Mass: 0.3}
}

// distractorObjects are added by the Layout perturbation.
func distractorObjects() []Object {
	return []Object{
		{Name: "distractor_0", Label: 7, Shape: ShapeBox, Size: Vec3{0.018, 0.018, 0.018}, RGBA: [4]float64{0.95, 0.5, 0.1, 1}, Movable: true, Mass: 0.05},
		{Name: "distractor_1", Label: 8, Shape: ShapeCylinder, Size: Vec3{0.018, 0.018, 0.025}, RGBA: [4]float64{0.1, 0.8, 0.8, 1}, Movable: true, Mass: 0.05},
		{Name: "distractor_2", Label: 9, Shape: ShapeBox, Size: Vec3{0.03, 0.015, 0.012}, RGBA: [4]float64{0.6, 0.6, 0.6, 1}, Movable: true, Mass: 0.05},
	}
}

// NumCameras is the number of cameras every scene renders.
func NumCameras() int { return len(defaultCameras()) }
