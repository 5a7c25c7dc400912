package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"
	"gonum.org/v1/gonum/spatial/r3"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/sim/mujoco"
)

// Config sets the fixed properties of an Env.
type Config struct {
	Width, Height int     // image size of every camera (default 128x128)
	ControlHz     float64 // action rate (default 10 Hz); physics substeps run under it
	SkipLabels    bool    // do not render segmentation (saves one render per camera)
	BaseFrame     string  // default "base_link"
	Epoch         time.Time
	Logger        *zap.Logger
}

func (c *Config) withDefaults() {
	if c.Width == 0 {
		c.Width = 128
	}
	if c.Height == 0 {
		c.Height = 128
	}
	if c.ControlHz == 0 {
		c.ControlHz = 10
	}
	if c.BaseFrame == "" {
		c.BaseFrame = "base_link"
	}
	if c.Epoch.IsZero() {
		c.Epoch = time.Unix(1_700_000_000, 0).UTC()
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
}

// Limits on one action: commanded motion per control step is clipped to
// these, and the target is kept inside the reachable box above the table.
const (
	MaxStepTranslation = 0.05 // metres per step
	MaxStepRotation    = 0.3  // radians per step
	settleTime         = 0.3  // seconds of physics after reset
)

// workspace is the box the commanded end-effector target is kept in.
func workspace() (lo, hi Vec3) { return Vec3{0.05, -0.55, 0.005}, Vec3{0.95, 0.55, 0.5} }

// Env is one simulated robot. It is not safe for concurrent use.
type Env struct {
	cfg   Config
	gl    *mujoco.GL
	model *mujoco.Model
	scene *Scene
	spec  EpisodeSpec

	handBody, handMocap int
	fingerQ             [2]int // qpos addresses
	fingerGeoms         [2]int
	camIDs              []int
	frames              []*mujoco.Frame
	geomLabel           []uint16
	objBodies           []int
	objGeoms            [][]int

	target   Vec3
	targetQ  perception.Quat
	gripper  float64
	substeps int
	t0       float64
	steps    int
	episode  int
	noiseRNG *rand.Rand
}

// New creates an Env with its rendering context; call Reset before use.
func New(cfg Config) (*Env, error) {
	cfg.withDefaults()
	if cfg.Width < 8 || cfg.Height < 8 || cfg.Width > 4096 || cfg.Height > 4096 {
		return nil, fmt.Errorf("sim: invalid image size %dx%d", cfg.Width, cfg.Height)
	}
	if math.IsNaN(cfg.ControlHz) || cfg.ControlHz <= 0 || cfg.ControlHz > 1/physicsTimestep {
		return nil, fmt.Errorf("sim: control rate %v Hz outside (0, %v]", cfg.ControlHz, 1/physicsTimestep)
	}
	gl, err := mujoco.NewGL(cfg.Width, cfg.Height)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return &Env{cfg: cfg, gl: gl, substeps: int(math.Round(1 / cfg.ControlHz / physicsTimestep))}, nil
}

// Close releases the model and the rendering context.
func (e *Env) Close() error {
	var err error
	if e.model != nil {
		err = e.model.Close()
		e.model = nil
	}
	e.gl.Close()
	return err
}

// Config returns the Env's configuration (with defaults filled in).
func (e *Env) Config() Config { return e.cfg }

// Scene returns the current episode's scene description.
func (e *Env) Scene() *Scene { return e.scene }

// Spec returns the current episode's spec.
func (e *Env) Spec() EpisodeSpec { return e.spec }

// Episode counts resets; controllers with memory use it to notice a new episode.
func (e *Env) Episode() int { return e.episode }

// Steps is the number of control steps taken in the current episode.
func (e *Env) Steps() int { return e.steps }

// ControlPeriod is the time between actions.
func (e *Env) ControlPeriod() time.Duration {
	return time.Duration(float64(time.Second) / e.cfg.ControlHz)
}

// Reset builds and loads the episode's scene and lets it settle.
func (e *Env) Reset(ctx context.Context, spec EpisodeSpec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	scene, err := BuildScene(spec, e.cfg.Width, e.cfg.Height)
	if err != nil {
		return err
	}
	return e.ResetScene(ctx, spec, scene)
}

// ResetScene loads an explicit scene (e.g. one edited by a caller).
func (e *Env) ResetScene(ctx context.Context, spec EpisodeSpec, scene *Scene) error {
	if e.model != nil {
		if err := e.model.Close(); err != nil {
			return fmt.Errorf("sim: close previous model: %w", err)
		}
		e.model = nil
	}
	m, err := mujoco.Load(MJCF(scene))
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if err := m.EnableRendering(e.gl, 2000); err != nil {
		m.Close()
		return fmt.Errorf("sim: %w", err)
	}
	e.model, e.scene, e.spec = m, scene, spec
	if err := e.index(); err != nil {
		return err
	}
	e.target, e.targetQ, e.gripper = scene.EEStart, perception.QuatFromRPY(0, 0, scene.EEYaw), 0
	e.noiseRNG = stream(spec.Seed, streamNoise)
	e.steps = 0
	e.episode++
	for i := 0; i < int(settleTime/physicsTimestep); i++ {
		e.model.Step()
	}
	if e.model.Unstable() > 0 {
		return errors.New("sim: physics diverged while the scene settled")
	}
	e.t0 = e.model.Time()
	e.cfg.Logger.Debug("episode reset", zap.String("task", spec.Task), zap.String("split", spec.Split),
		zap.Float64("severity", spec.Severity), zap.Uint64("seed", spec.Seed))
	return ctx.Err()
}

// index resolves the MuJoCo ids the Env needs and the geom -> label table.
func (e *Env) index() error {
	m := e.model
	var err error
	if e.handBody, err = m.Name2ID(mujoco.ObjBody, "hand"); err != nil {
		return err
	}
	tb, err := m.Name2ID(mujoco.ObjBody, "hand_target")
	if err != nil {
		return err
	}
	e.handMocap = m.BodyMocapID(tb)
	// Gravity compensation for the hand and fingers (MuJoCo 2.2.2 has no
	// gravcomp attribute): an upward force equal to the subtree weight.
	m.SetBodyForce(e.handBody, Vec3{0, 0, 9.81 * m.SubtreeMass(e.handBody)})
	robotBodies := map[int]bool{e.handBody: true}
	for i, side := range []string{"finger_left", "finger_right"} {
		j, err := m.Name2ID(mujoco.ObjJoint, side)
		if err != nil {
			return err
		}
		e.fingerQ[i] = m.JointQPosAdr(j)
		if e.fingerGeoms[i], err = m.Name2ID(mujoco.ObjGeom, side); err != nil {
			return err
		}
		b, err := m.Name2ID(mujoco.ObjBody, side)
		if err != nil {
			return err
		}
		robotBodies[b] = true
	}
	e.camIDs = e.camIDs[:0]
	e.frames = e.frames[:0]
	for _, c := range e.scene.Cameras {
		id, err := m.Name2ID(mujoco.ObjCamera, c.Name)
		if err != nil {
			return err
		}
		e.camIDs = append(e.camIDs, id)
		e.frames = append(e.frames, mujoco.NewFrame(e.cfg.Width, e.cfg.Height))
	}
	bodyLabel := map[int]uint16{}
	for b := range robotBodies {
		bodyLabel[b] = LabelRobot
	}
	e.objBodies = e.objBodies[:0]
	for _, o := range e.scene.Objects {
		b, err := m.Name2ID(mujoco.ObjBody, o.Name)
		if err != nil {
			return err
		}
		e.objBodies = append(e.objBodies, b)
		bodyLabel[b] = o.Label
	}
	e.geomLabel = make([]uint16, m.NGeom())
	e.objGeoms = make([][]int, len(e.scene.Objects))
	for g := range e.geomLabel {
		b := m.GeomBody(g)
		e.geomLabel[g] = bodyLabel[b]
		for i, ob := range e.objBodies {
			if ob == b {
				e.objGeoms[i] = append(e.objGeoms[i], g)
			}
		}
	}
	return nil
}

// ValidateAction checks an end-effector delta action (msgs layout).
func ValidateAction(a []float32) error {
	if len(a) != msgs.EEActionDim {
		return fmt.Errorf("sim: action has %d values, want %d", len(a), msgs.EEActionDim)
	}
	for i, v := range a {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("sim: action value %d is %v", i, v)
		}
	}
	return nil
}

// Step applies one end-effector delta action (dx, dy, dz, droll, dpitch,
// dyaw in the base frame, gripper in [0,1]) and advances one control period.
// Deltas are clipped to MaxStepTranslation / MaxStepRotation, then executed
// from the commanded target with perception.ApplyDelta.
func (e *Env) Step(ctx context.Context, a []float32) error {
	if err := ValidateAction(a); err != nil {
		return err
	}
	d := perception.DeltaFromAction(a)
	if n := math.Sqrt(r3.Norm2(d.Translation)); n > MaxStepTranslation {
		d.Translation = r3.Scale(MaxStepTranslation/n, d.Translation)
	}
	clip := func(r float64) float64 { return math.Max(-MaxStepRotation, math.Min(MaxStepRotation, r)) }
	d.Roll, d.Pitch, d.Yaw = clip(d.Roll), clip(d.Pitch), clip(d.Yaw)
	next := perception.ApplyDelta(perception.Pose{Position: perception.VecFromArray(e.target), Orientation: e.targetQ}, d)
	return e.StepTo(ctx, perception.VecArray(next.Position), next.Orientation, float64(a[msgs.ActionGripper]))
}

// StepTo commands an absolute end-effector target (base frame) and gripper
// command (0 open .. 1 closed, executed as open or closed by
// contract.GripperCommand, as the node does), then advances one control
// period, moving the hand along a straight line (and the short rotation arc)
// over the physics substeps.
func (e *Env) StepTo(ctx context.Context, pos Vec3, q perception.Quat, gripper float64) error {
	if e.model == nil {
		return errors.New("sim: Step before Reset")
	}
	for _, v := range []float64{pos[0], pos[1], pos[2], q.X, q.Y, q.Z, q.W, gripper} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("sim: non-finite command")
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	gripper = contract.GripperCommand(gripper)
	lo, hi := workspace()
	for k := range pos {
		pos[k] = math.Max(lo[k], math.Min(hi[k], pos[k]))
	}
	q = q.Normalize()
	e.gripper = clamp01(gripper)
	ctrl := e.model.Ctrl()
	ctrl[0], ctrl[1] = e.gripper*fingerTravel, e.gripper*fingerTravel
	from, fromQ := e.target, e.targetQ
	if fromQ.Dot(q) < 0 { // the short way round; the stored target too
		q = q.Neg()
	}
	for i := 1; i <= e.substeps; i++ {
		s := float64(i) / float64(e.substeps)
		p := add(from, scale(sub(pos, from), s))
		e.model.SetMocap(e.handMocap, p, fromQ.Nlerp(q, s).WXYZ())
		e.model.Step()
	}
	e.target, e.targetQ = pos, q
	e.steps++
	if e.model.Unstable() > 0 {
		return errors.New("sim: physics diverged (MuJoCo reset the state); reset the episode")
	}
	return nil
}

// ObjectState is an object's privileged pose.
type ObjectState struct {
	Name  string
	Label uint16
	Pos   Vec3
	Quat  perception.Quat
}

// State is the privileged simulator state the scripted expert and the
// success checks read.
// Positions and orientations are in the base frame.
type State struct {
	EEPos      Vec3 // measured end-effector (TCP) pose
	EEQuat     perception.Quat
	Gripper    float64 // measured closure in [0,1]
	GripperCmd float64 // commanded closure in [0,1]
	FingerQ    [2]float64
	Objects    []ObjectState // in Scene.Objects order
	TargetPos  Vec3          // commanded end-effector target
	TargetQuat perception.Quat
}

// State returns the privileged state.
func (e *Env) State() State {
	m := e.model
	var s State
	var q [4]float64
	s.EEPos, q = m.BodyPose(e.handBody)
	s.EEQuat = perception.QuatFromWXYZ(q)
	qp := m.QPos()
	s.FingerQ = [2]float64{qp[e.fingerQ[0]], qp[e.fingerQ[1]]}
	s.Gripper = clamp01((s.FingerQ[0] + s.FingerQ[1]) / 2 / fingerTravel)
	s.GripperCmd = e.gripper
	s.TargetPos, s.TargetQuat = e.target, e.targetQ
	for i, o := range e.scene.Objects {
		p, q := m.BodyPose(e.objBodies[i])
		s.Objects = append(s.Objects, ObjectState{Name: o.Name, Label: o.Label, Pos: p, Quat: perception.QuatFromWXYZ(q)})
	}
	return s
}

// Object returns the named object's state.
func (s State) Object(name string) (ObjectState, bool) {
	for _, o := range s.Objects {
		if o.Name == name {
			return o, true
		}
	}
	return ObjectState{}, false
}

// touchingFingers reports whether object i is in contact with either finger.
func (e *Env) touchingFingers(i int) bool {
	m := e.model
	for c := 0; c < m.NContacts(); c++ {
		g1, g2 := m.ContactGeoms(c)
		for _, og := range e.objGeoms[i] {
			for _, fg := range e.fingerGeoms {
				if (g1 == og && g2 == fg) || (g2 == og && g1 == fg) {
					return true
				}
			}
		}
	}
	return false
}

// Success reports whether the task is accomplished and, if not, why.
func (e *Env) Success() (bool, string) {
	task, err := LookupTask(e.scene.Task)
	if err != nil {
		return false, err.Error()
	}
	st := e.State()
	ti := -1
	for i, o := range e.scene.Objects {
		if o.Name == task.Target {
			ti = i
		}
	}
	tgt, _ := st.Object(task.Target)
	goal, _ := st.Object(task.Goal)
	tObj, _ := e.scene.Object(task.Target)
	gObj, _ := e.scene.Object(task.Goal)
	if e.touchingFingers(ti) {
		return false, "target still held"
	}
	dxy := math.Hypot(tgt.Pos[0]-goal.Pos[0], tgt.Pos[1]-goal.Pos[1])
	if task.Stack {
		want := goal.Pos[2] + gObj.Size[2] + tObj.Size[2]
		if dxy > gObj.Size[0] || math.Abs(tgt.Pos[2]-want) > 0.01 {
			return false, fmt.Sprintf("target not on %s (dxy %.3f m, dz %.3f m)", task.Goal, dxy, tgt.Pos[2]-want)
		}
		return true, "stacked"
	}
	if dxy > gObj.Size[0]-0.005 || tgt.Pos[2] > goal.Pos[2]+gObj.Size[2] {
		return false, fmt.Sprintf("target not in %s (dxy %.3f m, z %.3f m)", task.Goal, dxy, tgt.Pos[2])
	}
	return true, "in bowl"
}
