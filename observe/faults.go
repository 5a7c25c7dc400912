package observe

import "strings"

// Fault is a bit set of reasons the node holds (or a training step is
// dropped) instead of acting on an observation.
type Fault uint32

// Fault kinds.
const (
	FaultStaleCameras Fault = 1 << iota // no synchronized camera set within max_input_age
	FaultStalePose                      // no end-effector pose within max_input_age, or none near the image stamp
	FaultNoCameraInfo                   // a camera has not published camera_info
	FaultNoTF                           // no base -> optical chain in tf and no static extrinsic
	FaultNonFinite                      // NaN/Inf in an input or in the policy's output
	FaultPolicy                         // the policy returned an error
	FaultBadInput                       // an input could not be decoded or preprocessed
	FaultNoPlan                         // no action chunk covers the current time (startup, slow model)
	// NumFaults is the number of fault kinds.
	NumFaults = iota
)

var faultNames = [NumFaults]string{"stale_cameras", "stale_pose", "no_camera_info", "no_tf", "non_finite", "policy_error", "bad_input", "no_plan"}

// FaultName is the name of fault kind i (bit 1<<i).
func FaultName(i int) string { return faultNames[i] }

// String lists the set fault names joined by '+' ("ok" when none).
func (f Fault) String() string {
	if f == 0 {
		return "ok"
	}
	var parts []string
	for i := range NumFaults {
		if f&(1<<i) != 0 {
			parts = append(parts, faultNames[i])
		}
	}
	return strings.Join(parts, "+")
}
