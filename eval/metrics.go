package eval

import (
	"math"

	"github.com/vla3d/vla3d/msgs"
)

// Dims is the number of action dimensions scored (the end-effector layout).
const Dims = msgs.EEActionDim

// Metrics accumulates action errors between predicted and recorded actions.
type Metrics struct {
	N int `json:"n"`
	// L1 is the mean absolute error per dimension; L2 the root mean squared
	// error per dimension (dimension order: dx dy dz droll dpitch dyaw gripper).
	L1 [Dims]float64 `json:"l1"`
	L2 [Dims]float64 `json:"l2"`
	// MeanL1 / MeanL2 average L1 / L2 over the six motion dimensions.
	MeanL1 float64 `json:"mean_l1"`
	MeanL2 float64 `json:"mean_l2"`
	// GripperAccuracy is the fraction of steps whose predicted gripper
	// command is on the recorded side of 0.5 (GripperN steps scored; the
	// gripper is not scored for actions derived from poses).
	GripperAccuracy float64 `json:"gripper_accuracy"`
	GripperN        int     `json:"gripper_n"`

	sumAbs, sumSq [Dims]float64
	gripperHits   int
}

// Add scores one step. scoreGripper is false when the recorded gripper
// command is unknown.
func (m *Metrics) Add(pred, rec []float32, scoreGripper bool) {
	m.N++
	for k := range Dims {
		if k == msgs.ActionGripper && !scoreGripper {
			continue
		}
		d := float64(pred[k]) - float64(rec[k])
		m.sumAbs[k] += math.Abs(d)
		m.sumSq[k] += d * d
	}
	if scoreGripper {
		m.GripperN++
		if (pred[msgs.ActionGripper] >= 0.5) == (rec[msgs.ActionGripper] >= 0.5) {
			m.gripperHits++
		}
	}
	m.finish()
}

// Merge adds o's steps into m.
func (m *Metrics) Merge(o *Metrics) {
	m.N += o.N
	m.GripperN += o.GripperN
	m.gripperHits += o.gripperHits
	for k := range Dims {
		m.sumAbs[k] += o.sumAbs[k]
		m.sumSq[k] += o.sumSq[k]
	}
	m.finish()
}

func (m *Metrics) finish() {
	if m.N == 0 {
		return
	}
	m.MeanL1, m.MeanL2 = 0, 0
	for k := range Dims {
		n := float64(m.N)
		if k == msgs.ActionGripper {
			n = float64(m.GripperN)
		}
		if n == 0 {
			m.L1[k], m.L2[k] = 0, 0
			continue
		}
		m.L1[k] = m.sumAbs[k] / n
		m.L2[k] = math.Sqrt(m.sumSq[k] / n)
		if k != msgs.ActionGripper {
			m.MeanL1 += m.L1[k] / 6
			m.MeanL2 += m.L2[k] / 6
		}
	}
	if m.GripperN > 0 {
		m.GripperAccuracy = float64(m.gripperHits) / float64(m.GripperN)
	}
}
