package node

import (
	"strings"

	"go.uber.org/zap"
)

// Fault is a bit set of reasons the node holds instead of executing the policy.
type Fault uint32

// Fault kinds.
const (
	FaultStaleCameras Fault = 1 << iota // no synchronized camera set within max_input_age
	FaultStalePose                      // no end-effector pose within max_input_age
	FaultNoCameraInfo                   // a camera has not published camera_info
	FaultNoTF                           // no base -> optical chain in tf and no static extrinsic
	FaultNonFinite                      // NaN/Inf in an input or in the policy's output
	FaultPolicy                         // the policy returned an error
	FaultBadInput                       // an input could not be decoded or preprocessed
	FaultNoPlan                         // no action chunk covers the current time (startup, slow model)
	numFaults         = iota
)

var faultNames = [numFaults]string{"stale_cameras", "stale_pose", "no_camera_info", "no_tf", "non_finite", "policy_error", "bad_input", "no_plan"}

// String lists the set fault names joined by '+' ("ok" when none).
func (f Fault) String() string {
	if f == 0 {
		return "ok"
	}
	var parts []string
	for i := range numFaults {
		if f&(1<<i) != 0 {
			parts = append(parts, faultNames[i])
		}
	}
	return strings.Join(parts, "+")
}

// faultLog logs each fault once when its episode starts and once when it
// ends, so a stalled camera at 30 Hz produces two lines, not thousands.
type faultLog struct {
	log      *zap.Logger
	active   Fault
	episodes [numFaults]uint64
}

// update records the current fault set; detail explains newly raised faults.
func (l *faultLog) update(now Fault, detail error) {
	raised, cleared := now&^l.active, l.active&^now
	for i := range numFaults {
		bit := Fault(1) << i
		switch {
		case raised&bit != 0:
			l.episodes[i]++
			if bit == FaultNoPlan {
				l.log.Info("holding: no action chunk covers now", zap.Uint64("episode", l.episodes[i]))
				continue
			}
			l.log.Warn("fault: holding position", zap.String("fault", faultNames[i]), zap.Uint64("episode", l.episodes[i]), zap.Error(detail))
		case cleared&bit != 0:
			l.log.Info("fault cleared", zap.String("fault", faultNames[i]))
		}
	}
	l.active = now
}
