package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
)

// RecorderConf configures a Recorder.
type RecorderConf struct {
	// Every keeps one frame in Every for the animation (the path and the
	// predictions are kept at every step). It defaults to 1.
	Every int
	// MaxFrames bounds the animation's frames (memory). It defaults to 200.
	MaxFrames int
	// MinConfidence is the instance score from which a probe is drawn. It
	// defaults to 0.5.
	MinConfidence float64
}

func (c *RecorderConf) defaults() {
	if c.Every <= 0 {
		c.Every = 1
	}
	if c.MaxFrames <= 0 {
		c.MaxFrames = 200
	}
	if c.MinConfidence == 0 {
		c.MinConfidence = 0.5
	}
}

// View is one camera of an observation, ready to project into: its image,
// the pinhole model at the image's size and the base-to-optical transform.
type View struct {
	Name        string
	Image       *image.RGBA
	Camera      perception.Pinhole
	CamFromBase perception.Rigid
}

// NewView builds the view of camera frame f (the image is copied).
func NewView(f *msgs.CameraFrame) (View, error) {
	cam, err := perception.PinholeFromCameraInfo(f.Info.Width, f.Info.Height, f.Info.DistortionModel, f.Info.D, f.Info.K, f.Info.P)
	if err != nil {
		return View{}, fmt.Errorf("viz: camera %s: %w", f.Name, err)
	}
	if f.Color.Width != cam.Width || f.Color.Height != cam.Height {
		cam = cam.Scaled(f.Color.Width, f.Color.Height)
	}
	q := f.BaseFromCamera.Rotation
	baseFromCam, err := perception.RigidFromQuaternion(q[0], q[1], q[2], q[3], f.BaseFromCamera.Translation)
	if err != nil {
		return View{}, fmt.Errorf("viz: camera %s: %w", f.Name, err)
	}
	w, h := f.Color.Width, f.Color.Height
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		copy(img.Pix[4*i:4*i+3], f.Color.Pix[3*i:3*i+3])
		img.Pix[4*i+3] = 255
	}
	return View{Name: f.Name, Image: img, Camera: cam, CamFromBase: baseFromCam.Inverse()}, nil
}

// Project maps a base-frame point to pixel coordinates of the view with the
// policy's projection (perception.ProjectPoints); ok is false when the point
// is behind the camera or outside the image.
func (v *View) Project(p [3]float32) (x, y float64, ok bool) {
	var uv [2]float32
	var valid [1]float32
	if err := perception.ProjectPoints(p[:], v.Camera, v.CamFromBase, perception.DefaultDepthEps, uv[:], valid[:]); err != nil {
		return 0, 0, false
	}
	return float64(uv[0]) * float64(v.Camera.Width), float64(uv[1]) * float64(v.Camera.Height), valid[0] == 1
}

// Instance is one drawn instance probe.
type Instance struct {
	Index int
	Point [3]float32
	Score float32
}

type frame struct {
	views      []View
	instances  []Instance
	anchors    [][3]float32
	completion [][3]float32
	plan       [][3]float32
}

// Recorder collects one episode's frames, end-effector path, predicted
// instances and the objects' true positions. Not safe for concurrent use.
type Recorder struct {
	cfg       RecorderConf
	frames    []frame
	steps     int
	path      [][3]float64
	predicted []Instance
	anchors   [][3]float32 // every step's anchors, for the top-down plot
	truth     map[string][3]float64
}

// NewRecorder returns an empty recorder.
func NewRecorder(cfg RecorderConf) *Recorder {
	cfg.defaults()
	return &Recorder{cfg: cfg, truth: map[string][3]float64{}}
}

// Steps is the number of observations added.
func (r *Recorder) Steps() int { return r.steps }

// Add records one step: the observation the policy saw, what it perceived
// (nil when it reports nothing) and its planned end-effector targets.
func (r *Recorder) Add(obs *msgs.Observation, p *policy.Perception, plan []msgs.Pose) error {
	r.steps++
	r.path = append(r.path, obs.EEPose.Position)
	var insts []Instance
	var comp, anchors [][3]float32
	if p != nil {
		for k := range p.AnchorPoints() {
			if a := p.Anchor(k); finite(a[0], a[1], a[2]) {
				anchors = append(anchors, a)
			}
		}
		for i := range p.Instances() {
			pt, s := p.Point(i), p.Scores[i]
			if float64(s) >= r.cfg.MinConfidence && finite(pt[0], pt[1], pt[2], s) {
				insts = append(insts, Instance{Index: i, Point: pt, Score: s})
			}
		}
		for j := range p.CompletionPoints() {
			if c := p.CompletionPoint(j); finite(c[0], c[1], c[2]) {
				comp = append(comp, c)
			}
		}
	}
	r.predicted = append(r.predicted, insts...)
	r.anchors = append(r.anchors, anchors...)
	if (r.steps-1)%r.cfg.Every != 0 || len(r.frames) >= r.cfg.MaxFrames {
		return nil
	}
	f := frame{instances: insts, completion: comp, anchors: anchors}
	for _, q := range plan {
		f.plan = append(f.plan, [3]float32{float32(q.Position[0]), float32(q.Position[1]), float32(q.Position[2])})
	}
	for i := range obs.Cameras {
		v, err := NewView(&obs.Cameras[i])
		if err != nil {
			return err
		}
		f.views = append(f.views, v)
	}
	r.frames = append(r.frames, f)
	return nil
}

// SetTruth records an object's true base-frame position (privileged: for
// pictures only, never a policy input).
func (r *Recorder) SetTruth(name string, pos [3]float64) { r.truth[name] = pos }

func (r *Recorder) truthNames() []string {
	names := make([]string, 0, len(r.truth))
	for n := range r.truth {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func finite(v ...float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

// confidenceColor is policy.ConfidenceColor as an opaque image colour.
func confidenceColor(s float32) color.RGBA {
	r, g, b := policy.ConfidenceColor(float64(s))
	return color.RGBA{R: uint8(255 * r), G: uint8(255 * g), B: uint8(255 * b), A: 255}
}
