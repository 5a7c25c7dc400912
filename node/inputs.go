package node

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/timesync"
)

// slot is one decoded image waiting in the synchronizer.
type slot struct {
	stamp time.Time
	frame string
	color msgs.RGBImage
	depth msgs.DepthImage
}

func slotStamp(s *slot) time.Time { return s.stamp }

// frameSet is one synchronized multi-camera set.
type frameSet struct {
	seq      uint64
	stamp    time.Time // latest header stamp of the set
	syncedAt time.Time // local clock when the set completed
	color    []msgs.RGBImage
	depth    []msgs.DepthImage
	stamps   []time.Time
	frames   []string
}

func newFrameSet(n int) *frameSet {
	return &frameSet{color: make([]msgs.RGBImage, n), depth: make([]msgs.DepthImage, n), stamps: make([]time.Time, n), frames: make([]string, n)}
}

// SnapshotInfo describes the observation handed to the inference worker.
type SnapshotInfo struct {
	Seq      uint64
	SyncedAt time.Time
	// InstructionGen counts instruction changes; a chunk predicted under an
	// older instruction is void.
	InstructionGen uint64
}

// Inputs receives every subscribed message, decodes images into reused
// buffers, synchronizes the cameras and keeps the latest robot state. All
// methods are safe for concurrent use (goroslib calls each subscriber's
// callback from its own goroutine).
type Inputs struct {
	cfg   *Config
	clock func() time.Time

	mu    sync.Mutex
	sync  *timesync.ApproxTimeSync[*slot]
	rings [][]slot // per sync input (camera c: 2c colour, 2c+1 depth), QueueSize+2 slots
	next  []int
	// latest is the newest synchronized set; taken is whether the worker has it.
	latest *frameSet
	taken  bool
	ready  chan struct{}

	infos     []msgs.CameraInfo
	haveInfo  []bool
	tf        *TFBuffer
	tfScratch []rosconv.StampedTransform
	camTF     []cameraTF // per camera, reused by Snapshot
	// tfWait: the latest set is held back for a /tf message (lookupCameraTF).
	tfWait bool

	ee         msgs.Pose
	eeReceived time.Time
	eeHist     poseHistory
	haveEE     bool
	joints     []float64
	gripper    float64 // 0 (open) until the gripper joint is seen
	// commandedGripper is the last published gripper command: the observed
	// gripper state when no gripper joint is configured, as the dataset
	// does for recordings without one (dataset.Config.GripperJoint).
	commandedGripper float64
	instruction      string
	instrGen         uint64

	counts     inputCounts
	lastErr    error
	gripperBuf [1]float64
}

type inputCounts struct {
	images, decodeErrors, infos, tf, poses, badPoses, joints, sets, instructions uint64
}

// NewInputs builds the intake for cfg; clock is the local time source.
func NewInputs(cfg *Config, clock func() time.Time) (*Inputs, error) {
	n := len(cfg.Cameras)
	in := &Inputs{
		cfg:         cfg,
		clock:       clock,
		rings:       make([][]slot, 2*n),
		next:        make([]int, 2*n),
		latest:      newFrameSet(n),
		taken:       true,
		ready:       make(chan struct{}, 1),
		infos:       make([]msgs.CameraInfo, n),
		haveInfo:    make([]bool, n),
		camTF:       make([]cameraTF, n),
		joints:      make([]float64, len(cfg.Execution.JointNames)),
		instruction: cfg.Instruction,
	}
	for i := range in.rings {
		in.rings[i] = make([]slot, cfg.Sync.QueueSize+2)
	}
	tf, err := NewTFBufferConfig(cfg.TF)
	if err != nil {
		return nil, err
	}
	in.tf = tf
	sc := timesync.Config{QueueSize: cfg.Sync.QueueSize, MaxInterval: cfg.Sync.MaxInterval.Duration, AgePenalty: cfg.Sync.AgePenalty}
	s, err := timesync.New(2*n, sc, slotStamp, in.emit)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	in.sync = s
	return in, nil
}

// Ready is signalled (capacity 1) whenever a new synchronized set arrives.
func (in *Inputs) Ready() <-chan struct{} { return in.ready }

// emit runs inside sync.Add (in.mu held). An emitted slot has left the
// synchronizer for good, so its decoded buffers are swapped (not copied)
// into latest; the slot keeps latest's previous buffers for reuse.
func (in *Inputs) emit(set []*slot) {
	l := in.latest
	l.stamp = time.Time{}
	for c := range len(set) / 2 {
		col, dep := set[2*c], set[2*c+1]
		l.color[c], col.color = col.color, l.color[c]
		l.depth[c], dep.depth = dep.depth, l.depth[c]
		l.stamps[c] = col.stamp
		l.frames[c] = col.frame
		if col.stamp.After(l.stamp) {
			l.stamp = col.stamp
		}
		if dep.stamp.After(l.stamp) {
			l.stamp = dep.stamp
		}
	}
	in.counts.sets++
	l.seq = in.counts.sets
	l.syncedAt = in.clock()
	in.taken = false
	select {
	case in.ready <- struct{}{}:
	default:
	}
}

// OnColor takes camera c's colour image.
func (in *Inputs) OnColor(c int, m *sensor_msgs.Image) error {
	return in.onImage(2*c, m, false)
}

// OnDepth takes camera c's depth image.
func (in *Inputs) OnDepth(c int, m *sensor_msgs.Image) error {
	return in.onImage(2*c+1, m, true)
}

func (in *Inputs) onImage(i int, m *sensor_msgs.Image, depth bool) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts.images++
	ring := in.rings[i]
	s := &ring[in.next[i]]
	var err error
	if depth {
		err = rosconv.DecodeDepth(m, in.cfg.DepthMin, in.cfg.DepthMax, &s.depth)
	} else {
		err = rosconv.DecodeColor(m, &s.color)
	}
	if err != nil {
		in.counts.decodeErrors++
		in.lastErr = fmt.Errorf("camera %s: %w", in.cfg.Cameras[i/2].Name, err)
		return in.lastErr
	}
	in.next[i] = (in.next[i] + 1) % len(ring)
	s.stamp, s.frame = m.Header.Stamp, m.Header.FrameId
	return in.sync.Add(i, s)
}

// OnCameraInfo takes camera c's calibration.
func (in *Inputs) OnCameraInfo(c int, m *sensor_msgs.CameraInfo) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts.infos++
	rosconv.CameraInfoFromROS(m, &in.infos[c])
	in.haveInfo[c] = true
}

// OnTF takes a /tf (static=false) or /tf_static (static=true) message.
func (in *Inputs) OnTF(m *tf2_msgs.TFMessage, static bool) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts.tf++
	var err error
	in.tfScratch, err = rosconv.TFFromROS(m, in.tfScratch[:0])
	now := in.clock()
	for _, e := range in.tfScratch {
		err = errors.Join(err, in.tf.Set(e, static, now))
	}
	if in.tfWait && !in.taken {
		// Wake the worker: the transform the set waits for may be here.
		in.tfWait = false
		select {
		case in.ready <- struct{}{}:
		default:
		}
	}
	return err
}

// OnPose takes the end-effector pose (must be in the base frame).
func (in *Inputs) OnPose(m *geometry_msgs.PoseStamped) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts.poses++
	if m.Header.FrameId != "" && m.Header.FrameId != in.cfg.BaseFrame {
		in.counts.badPoses++
		return fmt.Errorf("node: ee pose in frame %q, want %q", m.Header.FrameId, in.cfg.BaseFrame)
	}
	p, err := rosconv.PoseFromROS(&m.Pose)
	if err != nil {
		// Keep the last good pose; its age will trip the staleness check.
		in.counts.badPoses++
		return fmt.Errorf("node: ee pose: %w", err)
	}
	in.ee, in.eeReceived, in.haveEE = p, in.clock(), true
	in.eeHist.add(m.Header.Stamp, p)
	return nil
}

// OnJointState takes joint positions (and the gripper joint, if configured).
func (in *Inputs) OnJointState(m *sensor_msgs.JointState) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts.joints++
	if len(in.joints) > 0 {
		if _, err := rosconv.JointPositions(m, in.cfg.Execution.JointNames, in.joints); err != nil {
			return fmt.Errorf("node: joint states: %w", err)
		}
	}
	if g := in.cfg.Execution.GripperJoint; g != "" {
		names := [1]string{g}
		n, err := rosconv.JointPositions(m, names[:], in.gripperBuf[:])
		if err != nil {
			return fmt.Errorf("node: gripper joint: %w", err)
		}
		if n == 1 {
			e := &in.cfg.Execution
			in.gripper = (in.gripperBuf[0] - e.GripperOpen) / (e.GripperClosed - e.GripperOpen)
		}
	}
	return nil
}

// OnInstruction takes a new instruction.
func (in *Inputs) OnInstruction(m *std_msgs.String) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts.instructions++
	if m.Data != in.instruction {
		in.instruction = m.Data
		in.instrGen++
	}
}

// InstructionGen is the number of instruction changes so far.
func (in *Inputs) InstructionGen() uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.instrGen
}

// Health returns the input faults at time now (staleness, missing data).
func (in *Inputs) Health(now time.Time) (Fault, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	var f Fault
	var errs []error
	maxAge := in.cfg.Safety.MaxInputAge.Duration
	if in.counts.sets == 0 || now.Sub(in.latest.syncedAt) > maxAge {
		f |= FaultStaleCameras
		errs = append(errs, fmt.Errorf("last synchronized camera set at %v, max age %v", in.latest.syncedAt.Format(time.RFC3339Nano), maxAge))
	}
	if !in.haveEE || now.Sub(in.eeReceived) > maxAge {
		f |= FaultStalePose
		errs = append(errs, fmt.Errorf("end-effector pose last received %v", in.eeReceived.Format(time.RFC3339Nano)))
	}
	for c, ok := range in.haveInfo {
		if !ok {
			f |= FaultNoCameraInfo
			errs = append(errs, fmt.Errorf("camera %s: no camera_info", in.cfg.Cameras[c].Name))
		}
	}
	return f, errors.Join(errs...)
}

// Snapshot moves the newest synchronized set into obs (swapping image
// buffers, no copy) with calibration, extrinsics from tf and robot state.
// ok is false when no set newer than the last snapshot exists.
func (in *Inputs) Snapshot(obs *msgs.Observation) (info SnapshotInfo, ok bool, fault Fault, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.taken {
		return info, false, 0, nil
	}
	l := in.latest
	if in.lookupCameraTF(l, in.clock()) {
		in.tfWait = true
		return info, false, 0, nil
	}
	in.tfWait = false
	n := len(in.cfg.Cameras)
	if len(obs.Cameras) != n {
		obs.Cameras = make([]msgs.CameraFrame, n)
	}
	for c := range n {
		f := &obs.Cameras[c]
		f.Name = in.cfg.Cameras[c].Name
		f.Stamp = l.stamps[c]
		f.Color, l.color[c] = l.color[c], f.Color
		f.Depth, l.depth[c] = l.depth[c], f.Depth
		if !in.haveInfo[c] {
			fault |= FaultNoCameraInfo
			err = errors.Join(err, fmt.Errorf("camera %s: no camera_info", f.Name))
			continue
		}
		info := &in.infos[c]
		f.Info.FrameID, f.Info.Width, f.Info.Height, f.Info.DistortionModel = info.FrameID, info.Width, info.Height, info.DistortionModel
		f.Info.D = append(f.Info.D[:0], info.D...)
		f.Info.K, f.Info.R, f.Info.P = info.K, info.R, info.P
		// tf2 semantics: the chain as it was when this camera's image was
		// taken (a wrist camera moves between /tf samples).
		frame, rig, oldest, terr := in.camTF[c].frame, in.camTF[c].rig, in.camTF[c].oldest, in.camTF[c].err
		if terr == nil && !oldest.IsZero() && in.clock().Sub(oldest) > in.cfg.Safety.MaxInputAge.Duration {
			// A moving mount (wrist camera) whose tf stopped updating.
			terr = fmt.Errorf("%w: tf to %s last updated %v ago", ErrNoTransform, frame, in.clock().Sub(oldest))
		}
		if e := in.cfg.Cameras[c].Extrinsic; terr != nil && e != nil {
			// tf has no chain: fall back to the configured mount.
			f.BaseFromCamera = msgs.Transform{Translation: e.Translation, Rotation: e.Rotation}
			continue
		}
		if terr != nil {
			fault |= FaultNoTF
			err = errors.Join(err, fmt.Errorf("camera %s: %w", f.Name, terr))
			continue
		}
		f.BaseFromCamera = toTransform(rig)
	}
	in.taken = true
	obs.Stamp = l.stamp
	obs.BaseFrame = in.cfg.BaseFrame
	obs.EEPose = in.ee
	// The pose when the images were taken, unless the history has nothing
	// near (pose and image stamps on different clocks).
	if p, d, ok := in.eeHist.closest(l.stamp); ok && !l.stamp.IsZero() && d <= in.cfg.Safety.MaxInputAge.Duration {
		obs.EEPose = p
	}
	if !in.haveEE {
		fault |= FaultStalePose
		err = errors.Join(err, errors.New("no end-effector pose yet"))
	}
	obs.Gripper = in.gripper
	if in.cfg.Execution.GripperJoint == "" {
		obs.Gripper = in.commandedGripper
	}
	obs.JointPositions = append(obs.JointPositions[:0], in.joints...)
	obs.Instruction = in.instruction
	for _, v := range obs.JointPositions {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			fault |= FaultNonFinite
		}
	}
	return SnapshotInfo{Seq: l.seq, SyncedAt: l.syncedAt, InstructionGen: in.instrGen}, true, fault, err
}

// SetCommandedGripper records the gripper command just published; without a
// configured gripper joint it is what the policy observes as the gripper state.
func (in *Inputs) SetCommandedGripper(g float64) {
	in.mu.Lock()
	in.commandedGripper = g
	in.mu.Unlock()
}

// CurrentPose returns the latest end-effector pose and gripper (for holding).
func (in *Inputs) CurrentPose() (msgs.Pose, float64, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.ee, in.gripper, in.haveEE
}

// CurrentJoints copies the latest joint positions into dst.
func (in *Inputs) CurrentJoints(dst []float64) []float64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append(dst[:0], in.joints...)
}

// InputStats is a snapshot of intake counters for diagnostics.
type InputStats struct {
	Images, DecodeErrors, CameraInfos, TF, Poses, BadPoses, JointStates, Sets, Instructions uint64
	Sync                                                                                    timesync.Stats
	LastError                                                                               error
}

// Stats copies the counters (reusing dst's slices).
func (in *Inputs) Stats(dst *InputStats) {
	in.mu.Lock()
	defer in.mu.Unlock()
	c := in.counts
	dst.Images, dst.DecodeErrors, dst.CameraInfos, dst.TF, dst.Poses = c.images, c.decodeErrors, c.infos, c.tf, c.poses
	dst.BadPoses, dst.JointStates, dst.Sets, dst.Instructions = c.badPoses, c.joints, c.sets, c.instructions
	in.sync.StatsInto(&dst.Sync)
	dst.LastError = in.lastErr
}
