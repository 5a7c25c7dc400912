package node

import (
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/observe"
)

// Fault is a bit set of reasons the node holds instead of executing the
// policy (the assembler's input faults and the controller's own).
type Fault = observe.Fault

// Fault kinds.
const (
	FaultStaleCameras = observe.FaultStaleCameras
	FaultStalePose    = observe.FaultStalePose
	FaultNoCameraInfo = observe.FaultNoCameraInfo
	FaultNoTF         = observe.FaultNoTF
	FaultNonFinite    = observe.FaultNonFinite
	FaultPolicy       = observe.FaultPolicy
	FaultBadInput     = observe.FaultBadInput
	FaultNoPlan       = observe.FaultNoPlan
	numFaults         = observe.NumFaults
)

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
			l.log.Warn("fault: holding position", zap.String("fault", observe.FaultName(i)), zap.Uint64("episode", l.episodes[i]), zap.Error(detail))
		case cleared&bit != 0:
			l.log.Info("fault cleared", zap.String("fault", observe.FaultName(i)))
		}
	}
	l.active = now
}
