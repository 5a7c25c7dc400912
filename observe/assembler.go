package observe

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
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/timesync"
)

// slot is one decoded image waiting in the synchronizer.
type slot struct {
	stamp    time.Time
	frame    string
	color    msgs.RGBImage
	depth    msgs.DepthImage
	labels   msgs.LabelImage
	sentinel bool // end of stream, see Flush
}

func slotStamp(s *slot) time.Time { return s.stamp }

// frameSet is one synchronized multi-camera set.
type frameSet struct {
	seq      uint64
	stamp    time.Time // latest header stamp of the set
	start    time.Time // earliest header stamp of the set
	syncedAt time.Time // local clock when the set completed
	color    []msgs.RGBImage
	depth    []msgs.DepthImage
	labels   []msgs.LabelImage
	stamps   []time.Time
	frames   []string
}

func newFrameSet(n int) *frameSet {
	return &frameSet{color: make([]msgs.RGBImage, n), depth: make([]msgs.DepthImage, n), labels: make([]msgs.LabelImage, n),
		stamps: make([]time.Time, n), frames: make([]string, n)}
}

// SetInfo describes a synchronized set (Pending) or the observation handed
// out by Snapshot.
type SetInfo struct {
	Seq uint64
	// Stamp is the latest image stamp of the set (the observation stamp),
	// Start the earliest.
	Stamp, Start time.Time
	SyncedAt     time.Time
	// InstructionGen counts instruction changes; a chunk predicted under an
	// older instruction is void.
	InstructionGen uint64
}

// Assembler turns the data contract's messages into observations: it
// decodes images into reused buffers, synchronizes the cameras
// (ApproximateTime), keeps tf (tf2 semantics) and stamped robot state, and
// pairs them at the images' stamps. The live node drives it from its
// subscriptions, bag replay and the dataset from recordings (Player), so
// training, replay and deployment see the same inputs. All methods are safe
// for concurrent use (goroslib calls each subscriber's callback from its own
// goroutine). The clock is injected: the live node passes time.Now, replay
// the recording's receive time.
type Assembler struct {
	cfg   Config
	clock func() time.Time
	per   int // synchronized inputs per camera

	mu    sync.Mutex
	sync  *timesync.ApproxTimeSync[*slot]
	rings [][]slot // per sync input (camera c: per*c colour, +1 depth, +2 labels), QueueSize+2 slots
	next  []int
	// latest is the newest synchronized set; taken is whether it was handed out.
	latest *frameSet
	taken  bool
	ready  chan struct{}
	// wait: the latest set is held back for tf or robot state not yet
	// received up to its stamp (see Snapshot).
	wait bool
	// waitMisses counts held-back sets replaced by a newer set before they
	// could be taken: robot state that never catches up with the image
	// stamps (a clock offset) must not starve the node, so waiting for it
	// stops until it is seen caught up again.
	waitMisses int

	infos     []msgs.CameraInfo
	haveInfo  []bool
	tf        *TFBuffer
	tfScratch []rosconv.StampedTransform
	camTF     []cameraTF // per camera, reused by Snapshot

	ee         msgs.Pose
	eeStamp    time.Time
	eeReceived time.Time
	eeHist     *timesync.History[msgs.Pose]
	haveEE     bool
	// eeImplausible: the newest pose received failed the pose gate (held
	// as a fault until a plausible one arrives); eeGateErr says why.
	eeImplausible bool
	eeGateErr     error
	joints        []float64
	gripHist      *timesync.History[float64] // raw gripper joint positions
	gripper       float64                    // newest mapped gripper joint reading, 0 (open) until seen
	// instruction and instrGen: the current instruction and its changes.
	instruction string
	instrGen    uint64
	instrAt     time.Time // local time of the last accepted change

	counts     inputCounts
	lastErr    error
	gripperBuf [1]float64
}

type inputCounts struct {
	images, decodeErrors, infos, badInfos, emptyDepth, tf, poses, badPoses, implausiblePoses, joints, sets uint64
	instructions, instructionsRefused                                                                      uint64
}

// New builds an assembler for cfg; clock is the local time source.
func New(cfg Config, clock func() time.Time) (*Assembler, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n := len(cfg.Cameras)
	a := &Assembler{
		cfg:         cfg,
		clock:       clock,
		per:         cfg.inputsPerCamera(),
		latest:      newFrameSet(n),
		taken:       true,
		ready:       make(chan struct{}, 1),
		infos:       make([]msgs.CameraInfo, n),
		haveInfo:    make([]bool, n),
		camTF:       make([]cameraTF, n),
		eeHist:      timesync.NewHistory[msgs.Pose](cfg.HistoryLen),
		gripHist:    timesync.NewHistory[float64](cfg.HistoryLen),
		joints:      make([]float64, len(cfg.JointNames)),
		instruction: cfg.Instruction,
	}
	a.rings = make([][]slot, a.per*n)
	a.next = make([]int, a.per*n)
	for i := range a.rings {
		a.rings[i] = make([]slot, cfg.Sync.QueueSize+2)
	}
	tf, err := NewTFBufferConfig(cfg.TF)
	if err != nil {
		return nil, err
	}
	a.tf = tf
	s, err := timesync.New(a.per*n, cfg.Sync, slotStamp, a.emit)
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	a.sync = s
	return a, nil
}

// Config returns the configuration in effect (defaults filled in).
func (a *Assembler) Config() *Config { return &a.cfg }

// Ready is signalled (capacity 1) whenever a new synchronized set arrives,
// or a held-back set may have become complete.
func (a *Assembler) Ready() <-chan struct{} { return a.ready }

func (a *Assembler) signal() {
	select {
	case a.ready <- struct{}{}:
	default:
	}
}

// emit runs inside sync.Add (a.mu held). An emitted slot has left the
// synchronizer for good, so its decoded buffers are swapped (not copied)
// into latest; the slot keeps latest's previous buffers for reuse.
func (a *Assembler) emit(set []*slot) {
	for _, s := range set {
		if s.sentinel {
			return
		}
	}
	if a.wait && !a.taken {
		a.waitMisses++
	}
	l := a.latest
	l.stamp, l.start = time.Time{}, time.Time{}
	for c := range len(set) / a.per {
		col, dep := set[a.per*c], set[a.per*c+1]
		l.color[c], col.color = col.color, l.color[c]
		l.depth[c], dep.depth = dep.depth, l.depth[c]
		if a.per == 3 {
			lab := set[a.per*c+2]
			l.labels[c], lab.labels = lab.labels, l.labels[c]
		}
		l.stamps[c] = col.stamp
		l.frames[c] = col.frame
		for _, s := range set[a.per*c : a.per*(c+1)] {
			if s.stamp.After(l.stamp) {
				l.stamp = s.stamp
			}
			if l.start.IsZero() || s.stamp.Before(l.start) {
				l.start = s.stamp
			}
		}
	}
	a.counts.sets++
	l.seq = a.counts.sets
	l.syncedAt = a.clock()
	a.taken = false
	a.signal()
}

// OnColor takes camera c's colour image.
func (a *Assembler) OnColor(c int, m *sensor_msgs.Image) error { return a.onImage(c, 0, m) }

// OnDepth takes camera c's depth image.
func (a *Assembler) OnDepth(c int, m *sensor_msgs.Image) error { return a.onImage(c, 1, m) }

// OnLabels takes camera c's instance-label image (Config.Labels only).
func (a *Assembler) OnLabels(c int, m *sensor_msgs.Image) error {
	if a.per < 3 {
		return errors.New("observe: labels not configured")
	}
	return a.onImage(c, 2, m)
}

func (a *Assembler) onImage(c, kind int, m *sensor_msgs.Image) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts.images++
	i := a.per*c + kind
	ring := a.rings[i]
	s := &ring[a.next[i]]
	var err error
	switch kind {
	case 0:
		err = rosconv.DecodeColor(m, &s.color)
	case 1:
		err = rosconv.DecodeDepth(m, a.cfg.DepthMin, a.cfg.DepthMax, &s.depth)
	default:
		err = rosconv.DecodeLabels(m, &s.labels)
	}
	if err == nil && kind == 1 && !anyFinite(s.depth.Meters) {
		// All invalid (a blinded or disconnected depth sensor): still a
		// frame, its patches are flagged invalid, but say so.
		a.counts.emptyDepth++
		a.lastErr = fmt.Errorf("camera %s: depth frame without one valid pixel", a.cfg.Cameras[c].Name)
	}
	if err != nil {
		a.counts.decodeErrors++
		a.lastErr = fmt.Errorf("camera %s: %w", a.cfg.Cameras[c].Name, err)
		return a.lastErr
	}
	a.next[i] = (a.next[i] + 1) % len(ring)
	s.stamp, s.frame, s.sentinel = m.Header.Stamp, m.Header.FrameId, false
	return a.sync.Add(i, s)
}

// Flush tells the synchronizer that the streams have ended (end of a
// recording): a synchronizer waits for later messages to prove a set
// optimal, so without it the last set of a recording whose stamps jitter is
// never emitted. A message far in the future on every input proves it; sets
// containing such sentinels are ignored. The assembler takes no images
// afterwards.
func (a *Assembler) Flush() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var far time.Time
	for _, ring := range a.rings {
		for _, s := range ring {
			if s.stamp.After(far) {
				far = s.stamp
			}
		}
	}
	far = far.Add(time.Hour)
	for i := range a.rings {
		if err := a.sync.Add(i, &slot{stamp: far, sentinel: true}); err != nil {
			return err
		}
	}
	return nil
}

// OnCameraInfo takes camera c's calibration. A calibration the camera model
// refuses (zero focal length, unknown distortion, absurd size) is rejected
// on arrival, counted, and the previous one kept.
func (a *Assembler) OnCameraInfo(c int, m *sensor_msgs.CameraInfo) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts.infos++
	var ci msgs.CameraInfo
	rosconv.CameraInfoFromROS(m, &ci)
	if _, err := perception.PinholeFromCameraInfo(ci.Width, ci.Height, ci.DistortionModel, ci.D, ci.K, ci.P); err != nil {
		a.counts.badInfos++
		a.lastErr = fmt.Errorf("camera %s: camera_info refused: %w", a.cfg.Cameras[c].Name, err)
		return a.lastErr
	}
	a.infos[c] = ci
	a.haveInfo[c] = true
	return nil
}

func anyFinite(v []float32) bool {
	for _, x := range v {
		if !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
			return true
		}
	}
	return false
}

// OnTF takes a /tf (static=false) or /tf_static (static=true) message.
func (a *Assembler) OnTF(m *tf2_msgs.TFMessage, static bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts.tf++
	var err error
	a.tfScratch, err = rosconv.TFFromROS(m, a.tfScratch[:0])
	now := a.clock()
	for _, e := range a.tfScratch {
		err = errors.Join(err, a.tf.Set(e, static, now))
	}
	a.wake()
	return err
}

// wake signals a held-back set: what it waits for may be here.
func (a *Assembler) wake() {
	if a.wait && !a.taken {
		a.wait = false
		a.signal()
	}
}

// stampOr is a message's header stamp, or the local receive time for an
// unstamped publisher.
func (a *Assembler) stampOr(h *std_msgs.Header) time.Time {
	if h.Stamp.IsZero() {
		return a.clock()
	}
	return h.Stamp
}

// OnPose takes the end-effector pose (must be in the base frame).
func (a *Assembler) OnPose(m *geometry_msgs.PoseStamped) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts.poses++
	if m.Header.FrameId != "" && m.Header.FrameId != a.cfg.BaseFrame {
		a.counts.badPoses++
		return fmt.Errorf("observe: ee pose in frame %q, want %q", m.Header.FrameId, a.cfg.BaseFrame)
	}
	p, err := rosconv.PoseFromROS(&m.Pose)
	if err != nil {
		// Keep the last good pose; its age will trip the staleness check.
		a.counts.badPoses++
		return fmt.Errorf("observe: ee pose: %w", err)
	}
	st := a.stampOr(&m.Header)
	if err := a.cfg.PoseGate.check(p.Position, st, a.ee.Position, a.eeStamp, a.haveEE); err != nil {
		// Implausible: never paired with images, and a fault until a
		// plausible pose arrives.
		a.counts.implausiblePoses++
		a.eeImplausible, a.eeGateErr = true, err
		return fmt.Errorf("observe: ee pose refused: %w", err)
	}
	a.ee, a.eeStamp, a.eeReceived, a.haveEE, a.eeImplausible = p, st, a.clock(), true, false
	a.eeHist.Add(st, p)
	a.wake()
	return nil
}

// OnJointState takes joint positions (and the gripper joint, if configured).
func (a *Assembler) OnJointState(m *sensor_msgs.JointState) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts.joints++
	if len(a.joints) > 0 {
		if _, err := rosconv.JointPositions(m, a.cfg.JointNames, a.joints); err != nil {
			return fmt.Errorf("observe: joint states: %w", err)
		}
	}
	if g := a.cfg.Gripper.Joint; g != "" {
		names := [1]string{g}
		n, err := rosconv.JointPositions(m, names[:], a.gripperBuf[:])
		if err != nil {
			return fmt.Errorf("observe: gripper joint: %w", err)
		}
		if n == 1 {
			a.gripper = a.cfg.Gripper.FromJoint(a.gripperBuf[0])
			a.gripHist.Add(a.stampOr(&m.Header), a.gripperBuf[0])
			a.wake()
		}
	}
	return nil
}

// OnInstruction takes a new instruction. A change within
// InstructionMinInterval of the last accepted one is refused (counted, and
// an error says so): each change voids the plan.
func (a *Assembler) OnInstruction(m *std_msgs.String) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts.instructions++
	if m.Data == a.instruction {
		return nil
	}
	now := a.clock()
	if iv := a.cfg.InstructionMinInterval; iv > 0 && a.instrGen > 0 && now.Sub(a.instrAt) < iv {
		a.counts.instructionsRefused++
		return fmt.Errorf("observe: instruction %q refused: changed %v after the last change (min interval %v)", m.Data, now.Sub(a.instrAt).Round(time.Millisecond), iv)
	}
	a.instruction, a.instrAt = m.Data, now
	a.instrGen++
	return nil
}

// Instruction is the current instruction.
func (a *Assembler) Instruction() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.instruction
}

// InstructionGen is the number of instruction changes so far.
func (a *Assembler) InstructionGen() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.instrGen
}

// Health returns the input faults at time now (staleness, missing data).
func (a *Assembler) Health(now time.Time) (Fault, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var f Fault
	var errs []error
	deadline := a.cfg.InputDeadline
	if a.counts.sets == 0 || now.Sub(a.latest.syncedAt) > deadline {
		f |= FaultStaleCameras
		errs = append(errs, fmt.Errorf("last synchronized camera set at %v, deadline %v", a.latest.syncedAt.Format(time.RFC3339Nano), deadline))
	}
	if !a.haveEE || now.Sub(a.eeReceived) > deadline {
		f |= FaultStalePose
		errs = append(errs, fmt.Errorf("end-effector pose last received %v, deadline %v", a.eeReceived.Format(time.RFC3339Nano), deadline))
	}
	if a.eeImplausible {
		f |= FaultBadInput
		errs = append(errs, fmt.Errorf("end-effector pose implausible: %w", a.eeGateErr))
	}
	for c, ok := range a.haveInfo {
		if !ok {
			f |= FaultNoCameraInfo
			errs = append(errs, fmt.Errorf("camera %s: no camera_info", a.cfg.Cameras[c].Name))
		}
	}
	return f, errors.Join(errs...)
}

// Pending describes the newest synchronized set not yet handed out.
func (a *Assembler) Pending() (SetInfo, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.taken {
		return SetInfo{}, false
	}
	l := a.latest
	return SetInfo{Seq: l.seq, Stamp: l.stamp, Start: l.start, SyncedAt: l.syncedAt, InstructionGen: a.instrGen}, true
}

// Snapshot moves the newest synchronized set into obs (swapping image
// buffers, no copy) with calibration, extrinsics from tf at each image's
// stamp, the end-effector pose and gripper joint stamped closest to the
// images, and the instruction. prevGripperCmd is the gripper command that
// preceded this observation (the node's last published one, a recording's
// previous action): the observed gripper when no gripper joint has been
// seen (contract.Gripper.Observe). ok is false when no set newer than the
// last snapshot exists, or when the set is held back: like tf2_ros
// MessageFilter, a set whose tf or robot state has not yet been received up
// to its stamp waits (at most TF.Wait) rather than pairing with older data;
// a later message signals Ready again.
func (a *Assembler) Snapshot(obs *msgs.Observation, prevGripperCmd float64) (info SetInfo, ok bool, fault Fault, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.taken {
		return info, false, 0, nil
	}
	l := a.latest
	now := a.clock()
	if w := a.lookupCameraTF(l, now); w || a.stateBehind(l, now) {
		a.wait = true
		return info, false, 0, nil
	}
	a.wait = false
	if t, _, ok := a.eeHist.Newest(); ok && !t.Before(l.stamp) {
		a.waitMisses = 0 // the pose keeps up with the images again
	}
	n := len(a.cfg.Cameras)
	if len(obs.Cameras) != n {
		obs.Cameras = make([]msgs.CameraFrame, n)
	}
	for c := range n {
		f := &obs.Cameras[c]
		f.Name = a.cfg.Cameras[c].Name
		f.Stamp = l.stamps[c]
		f.Color, l.color[c] = l.color[c], f.Color
		f.Depth, l.depth[c] = l.depth[c], f.Depth
		if a.per == 3 {
			f.Labels, l.labels[c] = l.labels[c], f.Labels
		} else {
			f.Labels.Width, f.Labels.Height, f.Labels.IDs = 0, 0, f.Labels.IDs[:0]
		}
		if !a.haveInfo[c] {
			fault |= FaultNoCameraInfo
			err = errors.Join(err, fmt.Errorf("camera %s: no camera_info", f.Name))
			continue
		}
		ci := &a.infos[c]
		f.Info.FrameID, f.Info.Width, f.Info.Height, f.Info.DistortionModel = ci.FrameID, ci.Width, ci.Height, ci.DistortionModel
		f.Info.D = append(f.Info.D[:0], ci.D...)
		f.Info.K, f.Info.R, f.Info.P = ci.K, ci.R, ci.P
		tf, terr := a.cameraExtrinsic(c, now)
		if terr != nil {
			fault |= FaultNoTF
			err = errors.Join(err, fmt.Errorf("camera %s: %w", f.Name, terr))
			continue
		}
		f.BaseFromCamera = tf
	}
	a.taken = true
	obs.Stamp = l.stamp
	obs.BaseFrame = a.cfg.BaseFrame
	pf, perr := a.pairPose(l.stamp, &obs.EEPose)
	fault |= pf
	err = errors.Join(err, perr)
	obs.Gripper = a.observeGripper(l.stamp, prevGripperCmd)
	obs.JointPositions = append(obs.JointPositions[:0], a.joints...)
	obs.Instruction = a.instruction
	for _, v := range obs.JointPositions {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			fault |= FaultNonFinite
		}
	}
	if math.IsNaN(obs.Gripper) || math.IsInf(obs.Gripper, 0) {
		fault |= FaultNonFinite
	}
	return SetInfo{Seq: l.seq, Stamp: l.stamp, Start: l.start, SyncedAt: l.syncedAt, InstructionGen: a.instrGen}, true, fault, err
}

// cameraExtrinsic is camera c's base_from_optical from the lookup done by
// lookupCameraTF, or the configured mount when tf has no chain.
func (a *Assembler) cameraExtrinsic(c int, now time.Time) (msgs.Transform, error) {
	r := &a.camTF[c]
	terr := r.err
	if terr == nil && !r.oldest.IsZero() && now.Sub(r.oldest) > a.cfg.MaxInputAge {
		// A moving mount (wrist camera) whose tf stopped updating.
		terr = fmt.Errorf("%w: tf to %s last updated %v ago", ErrNoTransform, r.frame, now.Sub(r.oldest))
	}
	if e := a.cfg.Cameras[c].Extrinsic; terr != nil && e != nil {
		return msgs.Transform{Translation: e.Translation, Rotation: e.Rotation}, nil
	}
	if terr != nil {
		return msgs.Transform{}, terr
	}
	return toTransform(r.rig), nil
}

// pairPose writes the pose stamped closest to the images (a.mu held).
func (a *Assembler) pairPose(stamp time.Time, dst *msgs.Pose) (Fault, error) {
	if !a.haveEE {
		return FaultStalePose, errors.New("no end-effector pose yet")
	}
	if a.cfg.PoseTolerance < 0 {
		*dst = a.ee
		return 0, nil
	}
	p, d, _ := a.eeHist.Closest(stamp)
	*dst = p
	if d > a.cfg.PoseTolerance {
		return FaultStalePose, fmt.Errorf("no end-effector pose within %v of the image stamp (nearest %v away)", a.cfg.PoseTolerance, d)
	}
	return 0, nil
}

// observeGripper applies the gripper rule at the image stamp (a.mu held).
func (a *Assembler) observeGripper(stamp time.Time, prevCmd float64) float64 {
	g, d, seen := a.gripHist.Closest(stamp)
	if a.cfg.PoseTolerance >= 0 && d > a.cfg.PoseTolerance {
		seen = false
	}
	if a.cfg.PoseTolerance < 0 && seen {
		_, g, _ = a.gripHist.Newest()
	}
	return a.cfg.Gripper.Observe(g, seen, prevCmd)
}

// stateBehind reports whether the pose (or the gripper joint) has been
// received only up to before the set's stamp, recently enough that its
// sample for that instant is most likely in flight (a.mu held).
func (a *Assembler) stateBehind(l *frameSet, now time.Time) bool {
	maxWait := a.cfg.TF.Wait.Duration
	if maxWait <= 0 || now.Sub(l.syncedAt) > maxWait || a.cfg.PoseTolerance < 0 || a.waitMisses > 0 {
		return false
	}
	behind := func(newest time.Time, ok bool) bool {
		return ok && newest.Before(l.stamp) && l.stamp.Sub(newest) <= maxWait
	}
	if t, _, ok := a.eeHist.Newest(); behind(t, ok) {
		return true
	}
	if a.cfg.Gripper.Joint != "" {
		if t, _, ok := a.gripHist.Newest(); behind(t, ok) {
			return true
		}
	}
	return false
}

// CurrentPose returns the latest end-effector pose and mapped gripper joint
// reading (for holding).
func (a *Assembler) CurrentPose() (msgs.Pose, float64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ee, a.gripper, a.haveEE
}

// CurrentJoints copies the latest joint positions into dst.
func (a *Assembler) CurrentJoints(dst []float64) []float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append(dst[:0], a.joints...)
}

// Stats is a snapshot of intake counters for diagnostics.
type Stats struct {
	Images, DecodeErrors, CameraInfos, TF, Poses, BadPoses, JointStates, Sets, Instructions uint64
	// BadCameraInfos were refused on arrival; EmptyDepth are depth frames
	// without one valid pixel; ImplausiblePoses failed the pose gate;
	// InstructionsRefused came too soon after the last change.
	BadCameraInfos, EmptyDepth, ImplausiblePoses, InstructionsRefused uint64
	Sync                                                              timesync.Stats
	LastError                                                         error
}

// Stats copies the counters (reusing dst's slices).
func (a *Assembler) Stats(dst *Stats) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.counts
	dst.Images, dst.DecodeErrors, dst.CameraInfos, dst.TF, dst.Poses = c.images, c.decodeErrors, c.infos, c.tf, c.poses
	dst.BadPoses, dst.JointStates, dst.Sets, dst.Instructions = c.badPoses, c.joints, c.sets, c.instructions
	dst.BadCameraInfos, dst.EmptyDepth, dst.ImplausiblePoses, dst.InstructionsRefused = c.badInfos, c.emptyDepth, c.implausiblePoses, c.instructionsRefused
	a.sync.StatsInto(&dst.Sync)
	dst.LastError = a.lastErr
}
