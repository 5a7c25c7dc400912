package dataset

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/timesync"
)

// Step is one control step of an episode.
type Step struct {
	Episode int // Span.Index
	Index   int // step number within the episode, from 0
	Obs     msgs.Observation
	Action  [msgs.EEActionDim]float32
	// Derived is true when Action came from the next end-effector pose
	// because the recording has no action topic.
	Derived bool
}

// Drop reasons counted in EpisodeStats.Dropped.
const (
	DropNoCameraInfo = "no camera_info"
	DropNoTF         = "no tf to camera"
	DropNoPose       = "no ee pose near the stamp"
	DropNoAction     = "no recorded action"
	DropDecode       = "image decode error"
	DropLastDerived  = "last step (no next pose to derive the action)"
	DropLastNoAction = "last observation (recorded after the last action)"
)

// EpisodeStats reports what happened while assembling one episode.
type EpisodeStats struct {
	Sets       int            // synchronized camera sets
	Steps      int            // steps handed to the callback
	Dropped    map[string]int // sets not turned into steps, by reason
	OutOfOrder int            // image stamps older than their predecessor
	BadMsgs    int            // messages that failed to decode (skipped)
	Sync       timesync.Stats
}

type item struct {
	m        bag.Message
	stamp    time.Time
	sentinel bool // end-of-stream marker, see flush
}

type stampedAction struct {
	t time.Time
	a [msgs.EEActionDim]float32
}

// episodeReader assembles one episode; see ReadEpisode.
type episodeReader struct {
	cfg      *Config
	cams     []string
	labels   bool
	recorded bool // the recording has an action topic
	types    bag.TypeCache
	stats    EpisodeStats
	warned   map[string]bool

	sync    *timesync.ApproxTimeSync[item]
	pending [][]item

	infos     []msgs.CameraInfo
	haveInfo  []bool
	tf        *tfBuffer
	poses     *history[msgs.Pose]
	grippers  *history[float64]
	actions   []stampedAction
	instr     string
	lastStamp []time.Time

	step      Step
	prevCmd   float32
	index     int
	fn        func(*Step) error
	routes    map[string]func(bag.Message) error
	poseSlack time.Duration

	// scratch for decoding
	img    sensor_msgs.Image
	tfMsg  tf2_msgs.TFMessage
	tfBuf  []rosconv.StampedTransform
	jsName [1]string
	jsVal  [1]float64
}

// ReadEpisode streams the steps of one episode of src to fn, in order. The
// Step (and its image buffers) is reused: fn must copy what it keeps. Sets
// that cannot become a step (missing calibration, tf, pose or action) are
// counted in the returned stats and logged once per reason.
func ReadEpisode(ctx context.Context, src bag.Source, span Span, cfg Config, fn func(*Step) error) (EpisodeStats, error) {
	if err := cfg.check(); err != nil {
		return EpisodeStats{}, err
	}
	info := src.Info()
	cams, err := cfg.cameras(info)
	if err != nil {
		return EpisodeStats{}, err
	}
	r := &episodeReader{
		cfg: &cfg, cams: cams, fn: fn, warned: map[string]bool{},
		infos: make([]msgs.CameraInfo, len(cams)), haveInfo: make([]bool, len(cams)),
		tf: newTFBuffer(), poses: newHistory[msgs.Pose](256), grippers: newHistory[float64](256),
		instr:    "",
		recorded: cfg.Action != "" && info.Topics[cfg.Action].Messages > 0,
	}
	r.stats.Dropped = map[string]int{}
	r.step.Episode = span.Index
	r.poseSlack = 100 * time.Millisecond
	if cfg.Sync.MaxInterval > r.poseSlack {
		r.poseSlack = cfg.Sync.MaxInterval
	}
	if cfg.Labels {
		r.labels = true
		for _, c := range cams {
			if info.Topics[labelsTopic(c)].Messages == 0 {
				r.labels = false
				r.warn("labels requested but missing", zap.String("topic", labelsTopic(c)))
			}
		}
	}
	per := 2
	if r.labels {
		per = 3
	}
	r.lastStamp = make([]time.Time, per*len(cams))
	r.sync, err = timesync.New(per*len(cams), cfg.Sync, func(it item) time.Time { return it.stamp }, r.emit)
	if err != nil {
		return r.stats, fmt.Errorf("dataset: %w", err)
	}
	r.route(cams, per)

	// Latched and slowly changing state recorded before the episode.
	if span.Start.After(info.Start) {
		var pre []string
		for _, t := range []string{cfg.TFStatic, cfg.Instruction, cfg.TF, cfg.JointStates} {
			if t != "" {
				pre = append(pre, t)
			}
		}
		for _, c := range cams {
			pre = append(pre, infoTopic(c))
		}
		if err := r.run(ctx, src, bag.Query{Topics: pre, End: span.Start.Add(-time.Nanosecond)}, false); err != nil {
			return r.stats, err
		}
	}
	if err := r.run(ctx, src, bag.Query{Topics: r.topics(), Start: span.Start, End: span.End}, true); err != nil {
		return r.stats, err
	}
	if err := r.flush(); err != nil {
		return r.stats, err
	}
	// End of episode: everything is read, so every pending set can finish.
	for len(r.pending) > 0 {
		if err := r.finalize(); err != nil {
			return r.stats, err
		}
	}
	r.stats.Sync = r.sync.Stats()
	return r.stats, nil
}

func (r *episodeReader) warn(msg string, fields ...zap.Field) {
	if r.warned[msg] {
		return
	}
	r.warned[msg] = true
	r.cfg.Logger.Warn(msg, fields...)
}

func (r *episodeReader) topics() []string {
	out := make([]string, 0, len(r.routes))
	for t := range r.routes {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// route maps every topic to its handler.
func (r *episodeReader) route(cams []string, per int) {
	r.routes = map[string]func(bag.Message) error{}
	for c, cam := range cams {
		r.routes[colorTopic(cam)] = r.imageInput(per*c + 0)
		r.routes[depthTopic(cam)] = r.imageInput(per*c + 1)
		if per == 3 {
			r.routes[labelsTopic(cam)] = r.imageInput(per*c + 2)
		}
		r.routes[infoTopic(cam)] = r.cameraInfo(c)
	}
	cfg := r.cfg
	if cfg.TF != "" {
		r.routes[cfg.TF] = func(m bag.Message) error { return r.onTF(m, false) }
	}
	if cfg.TFStatic != "" {
		r.routes[cfg.TFStatic] = func(m bag.Message) error { return r.onTF(m, true) }
	}
	if cfg.EEPose != "" {
		r.routes[cfg.EEPose] = r.onPose
	}
	if cfg.Instruction != "" {
		r.routes[cfg.Instruction] = r.onInstruction
	}
	if cfg.Action != "" && r.recorded {
		r.routes[cfg.Action] = r.onAction
	}
	if cfg.JointStates != "" && cfg.GripperJoint != "" {
		r.routes[cfg.JointStates] = r.onJoints
	}
}

// run reads q and dispatches messages; images only when images is set.
func (r *episodeReader) run(ctx context.Context, src bag.Source, q bag.Query, images bool) error {
	it := src.Read(ctx, q)
	for it.Next() {
		m := it.Message()
		h := r.routes[m.Conn.Topic]
		if h == nil {
			continue
		}
		if err := h(m); err != nil {
			if errors.Is(err, errFatal) {
				return err
			}
			r.stats.BadMsgs++
			r.warn("skipping undecodable message", zap.String("topic", m.Conn.Topic), zap.Error(err))
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("dataset: reading %s: %w", src.Info().Path, err)
	}
	return nil
}

// errFatal marks callback errors that must stop the episode.
var errFatal = errors.New("dataset: step callback failed")

func (r *episodeReader) imageInput(i int) func(bag.Message) error {
	return func(m bag.Message) error {
		st, err := headerStamp(m)
		if err != nil {
			return err
		}
		if st.Before(r.lastStamp[i]) {
			r.stats.OutOfOrder++
			r.warn("image stamps go backwards; the synchronizer still uses them", zap.String("topic", m.Conn.Topic))
		}
		r.lastStamp[i] = st
		if err := r.sync.Add(i, item{m: m, stamp: st}); err != nil {
			return err
		}
		need := 2 // recorded actions: set k is complete once set k+1 exists
		if !r.recorded {
			need = 3 // derived actions also need the pose of set k+1
		}
		for len(r.pending) >= need {
			if err := r.finalize(); err != nil {
				return err
			}
		}
		return nil
	}
}

// flush tells the synchronizer the streams have ended. A live synchronizer
// waits for later messages to prove a set optimal and so never emits the
// last set of a recording whose stamps jitter; a message far in the future
// on every input proves it. Sets containing such sentinels are ignored.
func (r *episodeReader) flush() error {
	var far time.Time
	for _, t := range r.lastStamp {
		if t.After(far) {
			far = t
		}
	}
	far = far.Add(time.Hour)
	for i := range r.lastStamp {
		if err := r.sync.Add(i, item{stamp: far, sentinel: true}); err != nil {
			return err
		}
	}
	return nil
}

func (r *episodeReader) emit(set []item) {
	for _, it := range set {
		if it.sentinel {
			return
		}
	}
	r.stats.Sets++
	r.pending = append(r.pending, append([]item(nil), set...))
}

func (r *episodeReader) cameraInfo(c int) func(bag.Message) error {
	return func(m bag.Message) error {
		var ci sensor_msgs.CameraInfo
		if err := m.Decode(&r.types, &ci); err != nil {
			return err
		}
		rosconv.CameraInfoFromROS(&ci, &r.infos[c])
		r.haveInfo[c] = true
		return nil
	}
}

func (r *episodeReader) onTF(m bag.Message, static bool) error {
	r.tfMsg.Transforms = r.tfMsg.Transforms[:0]
	if err := m.Decode(&r.types, &r.tfMsg); err != nil {
		return err
	}
	var err error
	r.tfBuf, err = rosconv.TFFromROS(&r.tfMsg, r.tfBuf[:0])
	for _, e := range r.tfBuf {
		err = errors.Join(err, r.tf.set(e, static))
	}
	return err
}

func (r *episodeReader) onPose(m bag.Message) error {
	var ps geometry_msgs.PoseStamped
	if err := m.Decode(&r.types, &ps); err != nil {
		return err
	}
	if f := ps.Header.FrameId; f != "" && f != r.cfg.BaseFrame {
		return fmt.Errorf("ee pose in frame %q, want %q", f, r.cfg.BaseFrame)
	}
	p, err := rosconv.PoseFromROS(&ps.Pose)
	if err != nil {
		return err
	}
	st := ps.Header.Stamp
	if st.IsZero() {
		st = m.Time
	}
	r.poses.add(st, p)
	return nil
}

func (r *episodeReader) onInstruction(m bag.Message) error {
	var s std_msgs.String
	if err := m.Decode(&r.types, &s); err != nil {
		return err
	}
	r.instr = s.Data
	return nil
}

func (r *episodeReader) onAction(m bag.Message) error {
	var a std_msgs.Float32MultiArray
	if err := m.Decode(&r.types, &a); err != nil {
		return err
	}
	if len(a.Data) != msgs.EEActionDim {
		return fmt.Errorf("action has %d values, want %d", len(a.Data), msgs.EEActionDim)
	}
	var sa stampedAction
	sa.t = m.Time
	for i, v := range a.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("action value %d is %v", i, v)
		}
		sa.a[i] = v
	}
	r.actions = append(r.actions, sa)
	return nil
}

func (r *episodeReader) onJoints(m bag.Message) error {
	var js sensor_msgs.JointState
	if err := m.Decode(&r.types, &js); err != nil {
		return err
	}
	r.jsName[0] = r.cfg.GripperJoint
	n, err := rosconv.JointPositions(&js, r.jsName[:], r.jsVal[:])
	if err != nil || n == 0 {
		return err
	}
	g := (r.jsVal[0] - r.cfg.GripperOpen) / (r.cfg.GripperClosed - r.cfg.GripperOpen)
	st := js.Header.Stamp
	if st.IsZero() {
		st = m.Time
	}
	r.grippers.add(st, math.Max(0, math.Min(1, g)))
	return nil
}

// setStart is the earliest stamp of a set: an action answering the set is
// recorded after its oldest image, whatever the spread of the others.
func setStart(set []item) time.Time {
	s := set[0].stamp
	for _, it := range set[1:] {
		if it.stamp.Before(s) {
			s = it.stamp
		}
	}
	return s
}

// setStamp is the latest stamp of a set, the observation stamp (as the node).
func setStamp(set []item) time.Time {
	var s time.Time
	for _, it := range set {
		if it.stamp.After(s) {
			s = it.stamp
		}
	}
	return s
}

// finalize turns the oldest pending set into a step (or a counted drop).
func (r *episodeReader) finalize() error {
	set := r.pending[0]
	r.pending = r.pending[1:]
	stamp, start := setStamp(set), setStart(set)
	var next, nextStart time.Time
	haveNext := len(r.pending) > 0
	if haveNext {
		next, nextStart = setStamp(r.pending[0]), setStart(r.pending[0])
	}
	drop := func(reason string, fields ...zap.Field) error {
		r.stats.Dropped[reason]++
		r.warn("dropping step: "+reason, fields...)
		return nil
	}
	s := &r.step
	// Action first: it decides whether the step exists at all.
	if r.recorded {
		found := false
		tol := r.cfg.ActionTolerance
		for len(r.actions) > 0 {
			a := r.actions[0]
			if a.t.Before(start.Add(-tol)) {
				r.actions = r.actions[1:] // answers an earlier, dropped set
				continue
			}
			if haveNext && !a.t.Before(nextStart.Add(-tol)) {
				break // belongs to the next step
			}
			s.Action, s.Derived, found = a.a, false, true
			r.actions = r.actions[1:]
			break
		}
		if !found {
			if !haveNext {
				// Recordings end with the observation that follows the
				// final action: expected, so counted but not warned about.
				r.stats.Dropped[DropLastNoAction]++
				return nil
			}
			return drop(DropNoAction, zap.Time("stamp", stamp))
		}
	}
	pose, d, ok := r.poses.closest(stamp)
	if !ok || d > r.poseSlack {
		return drop(DropNoPose, zap.Time("stamp", stamp))
	}
	gripper := float64(r.prevCmd)
	if r.cfg.GripperJoint != "" {
		if g, d, ok := r.grippers.closest(stamp); ok && d <= r.poseSlack {
			gripper = g
		}
	}
	if !r.recorded {
		if !haveNext {
			return drop(DropLastDerived)
		}
		np, d, ok := r.poses.closest(next)
		if !ok || d > r.poseSlack {
			return drop(DropNoPose, zap.Time("stamp", next))
		}
		ng := gripper
		if r.cfg.GripperJoint != "" {
			if g, d, ok := r.grippers.closest(next); ok && d <= r.poseSlack {
				ng = g
			}
		}
		s.Action, s.Derived = DeriveAction(pose, np, ng), true
	}
	if err := r.observation(set, stamp, pose, gripper); err != nil {
		var de dropError
		if errors.As(err, &de) {
			return drop(de.reason, zap.Error(de.err))
		}
		return err
	}
	s.Index = r.index
	r.prevCmd = s.Action[msgs.ActionGripper]
	if err := r.fn(s); err != nil {
		return fmt.Errorf("%w: %w", errFatal, err)
	}
	r.index++
	r.stats.Steps++
	return nil
}

type dropError struct {
	reason string
	err    error
}

func (e dropError) Error() string { return e.reason + ": " + e.err.Error() }

// observation decodes the set's images into the reused Step observation.
func (r *episodeReader) observation(set []item, stamp time.Time, pose msgs.Pose, gripper float64) error {
	o := &r.step.Obs
	per := len(set) / len(r.cams)
	if len(o.Cameras) != len(r.cams) {
		o.Cameras = make([]msgs.CameraFrame, len(r.cams))
	}
	for c, name := range r.cams {
		f := &o.Cameras[c]
		f.Name = name
		if !r.haveInfo[c] {
			return dropError{DropNoCameraInfo, fmt.Errorf("camera %s", name)}
		}
		col, dep := set[per*c], set[per*c+1]
		f.Stamp = col.stamp
		if err := col.m.Decode(&r.types, &r.img); err != nil {
			return dropError{DropDecode, err}
		}
		frame := r.img.Header.FrameId
		if err := rosconv.DecodeColor(&r.img, &f.Color); err != nil {
			return dropError{DropDecode, fmt.Errorf("camera %s colour: %w", name, err)}
		}
		if err := dep.m.Decode(&r.types, &r.img); err != nil {
			return dropError{DropDecode, err}
		}
		if err := rosconv.DecodeDepth(&r.img, r.cfg.DepthMin, r.cfg.DepthMax, &f.Depth); err != nil {
			return dropError{DropDecode, fmt.Errorf("camera %s depth: %w", name, err)}
		}
		f.Labels.Width, f.Labels.Height, f.Labels.IDs = 0, 0, f.Labels.IDs[:0]
		if per == 3 {
			if err := set[per*c+2].m.Decode(&r.types, &r.img); err != nil {
				return dropError{DropDecode, err}
			}
			if err := rosconv.DecodeLabels(&r.img, &f.Labels); err != nil {
				return dropError{DropDecode, fmt.Errorf("camera %s labels: %w", name, err)}
			}
		}
		f.Info = r.infos[c]
		if f.Info.FrameID != "" {
			frame = f.Info.FrameID
		}
		tr, err := r.tf.lookup(r.cfg.BaseFrame, frame, col.stamp)
		if err != nil {
			return dropError{DropNoTF, err}
		}
		f.BaseFromCamera = tr
	}
	o.Stamp = stamp
	o.BaseFrame = r.cfg.BaseFrame
	o.EEPose = pose
	o.Gripper = gripper
	o.Instruction = r.instr
	return nil
}
