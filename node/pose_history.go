package node

import (
	"time"

	"github.com/vla3d/vla3d/msgs"
)

// poseHistoryLen covers 0.3 s of a 100 Hz pose publisher: enough to reach
// back to an image stamp across camera latency.
const poseHistoryLen = 32

// poseHistory is a fixed ring of recent stamped end-effector poses, so the
// observation carries the pose at its image stamp (the pairing the dataset
// trains on) rather than whatever arrived last.
type poseHistory struct {
	stamps [poseHistoryLen]time.Time
	poses  [poseHistoryLen]msgs.Pose
	next   int
	n      int
}

func (h *poseHistory) add(stamp time.Time, p msgs.Pose) {
	h.stamps[h.next], h.poses[h.next] = stamp, p
	h.next = (h.next + 1) % poseHistoryLen
	h.n = min(h.n+1, poseHistoryLen)
}

// closest returns the pose whose stamp is nearest t (the newer one on ties,
// so unstamped publishers get the latest pose) and its distance from t.
func (h *poseHistory) closest(t time.Time) (msgs.Pose, time.Duration, bool) {
	if h.n == 0 {
		return msgs.Pose{}, 0, false
	}
	best, bestD := -1, time.Duration(0)
	for k := range h.n { // oldest to newest
		i := (h.next - h.n + k + poseHistoryLen) % poseHistoryLen
		d := h.stamps[i].Sub(t).Abs()
		if best < 0 || d <= bestD {
			best, bestD = i, d
		}
	}
	return h.poses[best], bestD, true
}
