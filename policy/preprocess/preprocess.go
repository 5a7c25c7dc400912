package preprocess

import (
	"errors"
	"fmt"
	"math"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
)

// Errors wrapped by Process, so callers can tell a fault's kind (the node
// logs and counts them per kind).
var (
	ErrMissingCamera = errors.New("preprocess: missing camera data")
	ErrSize          = errors.New("preprocess: size mismatch")
	ErrNonFinite     = errors.New("preprocess: non-finite value")
	ErrCalibration   = errors.New("preprocess: bad calibration")
	ErrSpec          = errors.New("preprocess: unusable spec")
)

// Options tune preprocessing beyond what the Spec fixes.
type Options struct {
	// Resize is the colour filter (Bilinear default).
	Resize ResizeMode
	// MinValidFraction is the fraction of a patch's pixels that need valid
	// depth for its 3D point to count as valid (0 = any one pixel).
	MinValidFraction float64
	// Parallel processes the cameras concurrently on one long-lived worker
	// goroutine each, cutting per-frame latency on multi-core robot
	// computers; call Close when done. Cameras write disjoint parts of the
	// Input, so results are identical to sequential processing.
	Parallel bool
}

// Orientation encodings of the proprio vector, chosen by Spec.ProprioDim.
const (
	ProprioDimRPY        = 7
	ProprioDimQuaternion = 8
)

// cameraState is the per-camera scratch and cache.
type cameraState struct {
	resizer    resizer
	unproj     perception.PatchUnprojector
	depth      []float32 // depth at model size
	lastInfo   msgs.CameraInfo
	lastD      [8]float64
	lastCam    perception.Pinhole // at model size
	haveCamera bool
}

// Preprocessor fills policy.Input from observations for one Spec. Not safe
// for concurrent use: give each goroutine its own.
type Preprocessor struct {
	spec    policy.Spec
	opts    Options
	cams    []cameraState
	patches int
	vocab   map[string]int64
	word    []byte
	// The instruction rarely changes: tokens are recomputed only when it does.
	lastInstruction string
	tokens          []int64
	mean, std       []float32
	// Parallel mode: one long-lived worker per camera.
	jobs    []chan cameraJob
	results []chan error
}

// New checks spec and builds a Preprocessor for it.
func New(spec policy.Spec, opts Options) (*Preprocessor, error) {
	if spec.Cameras < 1 || spec.ImageWidth < 1 || spec.ImageHeight < 1 || spec.PatchSize < 1 {
		return nil, fmt.Errorf("%w: cameras %d, image %dx%d, patch %d", ErrSpec, spec.Cameras, spec.ImageWidth, spec.ImageHeight, spec.PatchSize)
	}
	if _, _, err := perception.PatchGrid(spec.ImageWidth, spec.ImageHeight, spec.PatchSize); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSpec, err)
	}
	if spec.ProprioDim != ProprioDimRPY && spec.ProprioDim != ProprioDimQuaternion {
		return nil, fmt.Errorf("%w: proprio dim %d (want %d for xyz+rpy+gripper or %d for xyz+quaternion+gripper)", ErrSpec, spec.ProprioDim, ProprioDimRPY, ProprioDimQuaternion)
	}
	if spec.InstructionLen < 0 {
		return nil, fmt.Errorf("%w: instruction length %d", ErrSpec, spec.InstructionLen)
	}
	p := &Preprocessor{
		spec:    spec,
		opts:    opts,
		cams:    make([]cameraState, spec.Cameras),
		patches: spec.PatchesPerView(),
		vocab:   make(map[string]int64, len(spec.Vocabulary)),
		tokens:  make([]int64, spec.InstructionLen),
		mean:    make([]float32, spec.ProprioDim),
		std:     make([]float32, spec.ProprioDim),
	}
	for i, w := range spec.Vocabulary {
		if _, dup := p.vocab[w]; !dup { // the first occurrence wins, like a tokenizer's lookup
			p.vocab[w] = int64(i + 1)
		}
	}
	for i := range p.std {
		p.std[i] = 1
	}
	if spec.ProprioMean != nil || spec.ProprioStd != nil {
		if len(spec.ProprioMean) != spec.ProprioDim || len(spec.ProprioStd) != spec.ProprioDim {
			return nil, fmt.Errorf("%w: proprio stats have %d/%d values for dim %d", ErrSpec, len(spec.ProprioMean), len(spec.ProprioStd), spec.ProprioDim)
		}
		copy(p.mean, spec.ProprioMean)
		for i, s := range spec.ProprioStd {
			if !(s > 0) || math.IsInf(float64(s), 0) {
				return nil, fmt.Errorf("%w: proprio std[%d] = %v must be positive and finite", ErrSpec, i, s)
			}
			p.std[i] = s
		}
	}
	for i := range p.cams {
		p.cams[i].unproj.MinValidFraction = opts.MinValidFraction
		p.cams[i].depth = make([]float32, spec.ImageWidth*spec.ImageHeight)
	}
	if opts.Parallel && spec.Cameras > 1 {
		p.jobs, p.results = make([]chan cameraJob, spec.Cameras), make([]chan error, spec.Cameras)
		for v := range p.jobs {
			p.jobs[v], p.results[v] = make(chan cameraJob), make(chan error, 1)
			go p.worker(v, p.jobs[v], p.results[v])
		}
	}
	return p, nil
}

// Spec returns the spec the Preprocessor was built for.
func (p *Preprocessor) Spec() policy.Spec { return p.spec }

// Process fills in (sized by policy.NewInput(spec)) from obs. On error in is
// partially written and must not be fed to the policy.
func (p *Preprocessor) Process(obs *msgs.Observation, in *policy.Input) error {
	s := &p.spec
	if len(obs.Cameras) != s.Cameras {
		return fmt.Errorf("%w: observation has %d cameras, the model takes %d", ErrMissingCamera, len(obs.Cameras), s.Cameras)
	}
	w, h, n := s.ImageWidth, s.ImageHeight, p.patches
	if len(in.Images) != s.Cameras*3*w*h || len(in.Points) != s.Cameras*n*3 || len(in.PointValid) != s.Cameras*n ||
		len(in.Intrinsics) != s.Cameras*4 || len(in.CamFromBase) != s.Cameras*12 || len(in.Proprio) != s.ProprioDim ||
		len(in.Instruction) != s.InstructionLen {
		return fmt.Errorf("%w: input buffers not sized for the spec (use policy.NewInput)", ErrSize)
	}
	in.Stamp = obs.Stamp
	if p.jobs != nil {
		for v := range obs.Cameras {
			p.jobs[v] <- cameraJob{f: &obs.Cameras[v], in: in}
		}
		var first error
		for v := range obs.Cameras {
			if err := <-p.results[v]; err != nil && first == nil {
				first = fmt.Errorf("camera %d (%s): %w", v, obs.Cameras[v].Name, err)
			}
		}
		if first != nil {
			return first
		}
	} else {
		for v := range obs.Cameras {
			if err := p.camera(v, &obs.Cameras[v], in); err != nil {
				return fmt.Errorf("camera %d (%s): %w", v, obs.Cameras[v].Name, err)
			}
		}
	}
	if err := p.proprio(obs, in.Proprio); err != nil {
		return err
	}
	p.tokenize(obs.Instruction, in.Instruction)
	return nil
}

// cameraJob is one camera's share of a frame for a parallel worker.
type cameraJob struct {
	f  *msgs.CameraFrame
	in *policy.Input
}

// worker serves camera v until its job channel is closed by Close. Workers
// are long-lived so a frame costs two channel operations per camera and no
// allocation.
func (p *Preprocessor) worker(v int, jobs <-chan cameraJob, results chan<- error) {
	for j := range jobs {
		results <- p.camera(v, j.f, j.in)
	}
}

// Close stops the workers of a Parallel Preprocessor (a no-op otherwise).
// The Preprocessor must not be used afterwards.
func (p *Preprocessor) Close() {
	for _, j := range p.jobs {
		close(j)
	}
	p.jobs = nil
}

func (p *Preprocessor) camera(v int, f *msgs.CameraFrame, in *policy.Input) error {
	s := &p.spec
	w, h, n := s.ImageWidth, s.ImageHeight, p.patches
	st := &p.cams[v]
	c, d := &f.Color, &f.Depth
	switch {
	case c.Width <= 0 || c.Height <= 0 || len(c.Pix) < c.Width*c.Height*3:
		return fmt.Errorf("%w: colour %dx%d with %d bytes", ErrMissingCamera, c.Width, c.Height, len(c.Pix))
	case d.Width <= 0 || d.Height <= 0 || len(d.Meters) < d.Width*d.Height:
		return fmt.Errorf("%w: depth %dx%d with %d values", ErrMissingCamera, d.Width, d.Height, len(d.Meters))
	case f.Info.Width == 0 || f.Info.Height == 0:
		return fmt.Errorf("%w: no camera_info", ErrMissingCamera)
	case f.Info.Width != c.Width || f.Info.Height != c.Height:
		return fmt.Errorf("%w: camera_info is %dx%d but colour is %dx%d", ErrSize, f.Info.Width, f.Info.Height, c.Width, c.Height)
	case d.Width != c.Width || d.Height != c.Height:
		return fmt.Errorf("%w: depth %dx%d is not registered to colour %dx%d", ErrSize, d.Width, d.Height, c.Width, c.Height)
	}
	cam, err := st.pinhole(&f.Info, w, h)
	if err != nil {
		return err
	}
	tr := &f.BaseFromCamera
	baseFromCam, err := perception.RigidFromQuaternion(tr.Rotation[0], tr.Rotation[1], tr.Rotation[2], tr.Rotation[3], tr.Translation)
	if err != nil {
		return fmt.Errorf("%w: extrinsic: %w", ErrNonFinite, err)
	}

	st.resizer.resizeRGB(c.Pix, c.Width, c.Height, in.Images[v*3*w*h:(v+1)*3*w*h], w, h, p.opts.Resize)
	depth := d.Meters[:d.Width*d.Height]
	if d.Width != w || d.Height != h {
		if err := perception.ResizeDepthNearest(depth, d.Width, d.Height, st.depth, w, h); err != nil {
			return fmt.Errorf("%w: %w", ErrSize, err)
		}
		depth = st.depth
	}
	if err := st.unproj.Unproject(depth, cam, baseFromCam, s.PatchSize, in.Points[v*n*3:(v+1)*n*3], in.PointValid[v*n:(v+1)*n]); err != nil {
		return fmt.Errorf("%w: %w", ErrSize, err)
	}
	k := cam.Intrinsics()
	copy(in.Intrinsics[v*4:v*4+4], k[:])
	m := baseFromCam.Inverse().Matrix3x4()
	copy(in.CamFromBase[v*12:v*12+12], m[:])
	return nil
}

// pinhole returns the model-size camera for info, recomputed only when the
// calibration changes.
func (st *cameraState) pinhole(info *msgs.CameraInfo, w, h int) (perception.Pinhole, error) {
	var d [8]float64
	copy(d[:], info.D)
	if st.haveCamera && len(info.D) <= 8 && d == st.lastD && info.K == st.lastInfo.K && info.P == st.lastInfo.P &&
		info.Width == st.lastInfo.Width && info.Height == st.lastInfo.Height && info.DistortionModel == st.lastInfo.DistortionModel {
		return st.lastCam, nil
	}
	cam, err := perception.PinholeFromCameraInfo(info.Width, info.Height, info.DistortionModel, info.D, info.K, info.P)
	if err != nil {
		st.haveCamera = false
		return perception.Pinhole{}, fmt.Errorf("%w: %w", ErrCalibration, err)
	}
	st.lastCam = cam.Scaled(w, h)
	st.lastInfo.K, st.lastInfo.P, st.lastD = info.K, info.P, d
	st.lastInfo.Width, st.lastInfo.Height, st.lastInfo.DistortionModel = info.Width, info.Height, info.DistortionModel
	st.haveCamera = true
	return st.lastCam, nil
}

func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// proprio writes the normalized robot state.
func (p *Preprocessor) proprio(obs *msgs.Observation, dst []float32) error {
	pos, q := obs.EEPose.Position, obs.EEPose.Orientation
	if !finite(pos[:]...) || !finite(q[:]...) || !finite(obs.Gripper) {
		return fmt.Errorf("%w: end-effector pose %v / gripper %v", ErrNonFinite, obs.EEPose, obs.Gripper)
	}
	norm := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
	if !(norm > 1e-9) {
		return fmt.Errorf("%w: end-effector quaternion %v has zero norm", ErrNonFinite, q)
	}
	x, y, z, qw := q[0]/norm, q[1]/norm, q[2]/norm, q[3]/norm
	raw := [8]float64{pos[0], pos[1], pos[2]}
	if p.spec.ProprioDim == ProprioDimRPY {
		r, pi, ya := QuaternionToRPY(x, y, z, qw)
		raw[3], raw[4], raw[5], raw[6] = r, pi, ya, obs.Gripper
	} else {
		if qw < 0 { // q and -q are the same rotation: pick one so the model sees one value
			x, y, z, qw = -x, -y, -z, -qw
		}
		raw[3], raw[4], raw[5], raw[6], raw[7] = x, y, z, qw, obs.Gripper
	}
	for i := range dst {
		dst[i] = (float32(raw[i]) - p.mean[i]) / p.std[i]
	}
	return nil
}

// QuaternionToRPY converts a unit quaternion x, y, z, w to roll, pitch, yaw
// (rotation R = Rz(yaw) Ry(pitch) Rx(roll), the convention of tf and of the
// action space's rotation increments); it is perception.Quat.RPY. Pitch is
// clamped at ±pi/2 at the gimbal lock.
func QuaternionToRPY(x, y, z, w float64) (roll, pitch, yaw float64) {
	return perception.Quat{X: x, Y: y, Z: z, W: w}.RPY()
}
