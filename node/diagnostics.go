package node

import (
	"strconv"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/observe"
)

func kv(k, v string) diagnostic_msgs.KeyValue { return diagnostic_msgs.KeyValue{Key: k, Value: v} }

func rate(n uint64, dt time.Duration) string {
	if dt <= 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(n)/dt.Seconds(), 'f', 2, 64)
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }

func sum(v []uint64) uint64 {
	var s uint64
	for _, x := range v {
		s += x
	}
	return s
}

// Diagnostics builds the /diagnostics message for the window since the
// previous call: input rates and drop counts, per-stage latencies (mean and
// max, ms), control rate, holds and the current fault set.
func (c *Controller) Diagnostics(now time.Time, prevInputs *observe.Stats) diagnostic_msgs.DiagnosticArray {
	w, dt := c.stats.window(now)
	var in observe.Stats
	c.inputs.Stats(&in)
	sets := in.Sets - prevInputs.Sets
	images := in.Images - prevInputs.Images
	name := c.cfg.NodeName
	hw := c.cfg.NodeName

	inLevel := diagnostic_msgs.DiagnosticStatus_OK
	inMsg := "cameras synchronized"
	if sets == 0 {
		inLevel, inMsg = diagnostic_msgs.DiagnosticStatus_WARN, "no synchronized camera set in this window"
	}
	inputs := diagnostic_msgs.DiagnosticStatus{Level: inLevel, Name: name + ": inputs", Message: inMsg, HardwareId: hw,
		Values: []diagnostic_msgs.KeyValue{
			kv("synchronized_sets_hz", rate(sets, dt)),
			kv("images_hz", rate(images, dt)),
			kv("decode_errors_total", strconv.FormatUint(in.DecodeErrors, 10)),
			kv("malformed_messages_total", strconv.FormatUint(c.stats.malformed.Load(), 10)),
			kv("qos_mismatches_total", strconv.FormatUint(c.stats.qosMismatches.Load(), 10)),
			kv("type_mismatches_total", strconv.FormatUint(c.stats.typeMismatches.Load(), 10)),
			kv("sync_dropped_total", strconv.FormatUint(sum(in.Sync.Dropped), 10)),
			kv("sync_discarded_total", strconv.FormatUint(sum(in.Sync.Discarded), 10)),
			kv("sync_out_of_order_total", strconv.FormatUint(sum(in.Sync.OutOfOrder), 10)),
			kv("ee_poses_hz", rate(in.Poses-prevInputs.Poses, dt)),
			kv("bad_poses_total", strconv.FormatUint(in.BadPoses, 10)),
			kv("implausible_poses_total", strconv.FormatUint(in.ImplausiblePoses, 10)),
			kv("bad_camera_infos_total", strconv.FormatUint(in.BadCameraInfos, 10)),
			kv("empty_depth_frames_total", strconv.FormatUint(in.EmptyDepth, 10)),
			kv("instructions_refused_total", strconv.FormatUint(in.InstructionsRefused, 10)),
			kv("tf_messages_total", strconv.FormatUint(in.TF, 10)),
		}}
	if in.LastError != nil {
		inputs.Values = append(inputs.Values, kv("last_error", in.LastError.Error()))
	}

	infLevel := diagnostic_msgs.DiagnosticStatus_OK
	infMsg := "policy running"
	if w.inferenceFailures > 0 {
		infLevel, infMsg = diagnostic_msgs.DiagnosticStatus_ERROR, "inference failures in this window"
	}
	inference := diagnostic_msgs.DiagnosticStatus{Level: infLevel, Name: name + ": inference", Message: infMsg, HardwareId: hw,
		Values: []diagnostic_msgs.KeyValue{
			kv("inferences_hz", rate(w.inferences, dt)),
			kv("failures", strconv.FormatUint(w.inferenceFailures, 10)),
			kv("stale_chunks_dropped", strconv.FormatUint(w.staleChunks, 10)),
		}}
	for i, s := range w.stages {
		inference.Values = append(inference.Values,
			kv(stageNames[i]+"_mean_ms", ms(s.mean())), kv(stageNames[i]+"_max_ms", ms(s.max)))
	}

	c.wmu.Lock()
	fault := c.faults.active
	c.wmu.Unlock()
	ctlLevel, ctlMsg := diagnostic_msgs.DiagnosticStatus_OK, "executing policy"
	switch {
	case fault == FaultNoPlan:
		ctlLevel, ctlMsg = diagnostic_msgs.DiagnosticStatus_WARN, "holding: waiting for an action chunk"
	case fault != 0:
		ctlLevel, ctlMsg = diagnostic_msgs.DiagnosticStatus_ERROR, "holding: "+fault.String()
	}
	control := diagnostic_msgs.DiagnosticStatus{Level: ctlLevel, Name: name + ": control", Message: ctlMsg, HardwareId: hw,
		Values: []diagnostic_msgs.KeyValue{
			kv("control_hz", rate(w.ticks, dt)),
			kv("target_hz", strconv.FormatFloat(c.cfg.ControlHz, 'f', 2, 64)),
			kv("hold_ticks", strconv.FormatUint(w.holds, 10)),
			kv("clamped_ticks", strconv.FormatUint(w.clamped, 10)),
			kv("fault", fault.String()),
			kv("stored_chunks", strconv.Itoa(c.exec.Len())),
		}}
	*prevInputs = in
	return diagnostic_msgs.DiagnosticArray{Header: std_msgs.Header{Stamp: now}, Status: []diagnostic_msgs.DiagnosticStatus{inputs, inference, control}}
}
