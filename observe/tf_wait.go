package observe

import (
	"time"

	"github.com/vla3d/vla3d/perception"
)

// cameraTF is one camera's base_from_optical lookup for a snapshot.
type cameraTF struct {
	frame  string
	rig    perception.Rigid
	oldest time.Time // oldest receive time of a moving edge used
	err    error
}

// opticalFrame is the frame camera c's extrinsics are looked up for: the
// configured optical_frame, else camera_info's frame_id, else the image's.
func (a *Assembler) opticalFrame(c int, l *frameSet) string {
	if f := a.cfg.Cameras[c].OpticalFrame; f != "" {
		return f
	}
	if a.haveInfo[c] && a.infos[c].FrameID != "" {
		return a.infos[c].FrameID
	}
	return l.frames[c]
}

// lookupCameraTF fills a.camTF with every camera's chain at its image
// stamp. It reports wait when some moving edge's samples end at most
// tf.wait before an image and the set is younger than tf.wait: the /tf
// message for that instant is most likely in flight (images and tf travel
// on separate connections), so, like tf2_ros::MessageFilter, the set is
// held back until OnTF brings it rather than failed. Called with a.mu held.
func (a *Assembler) lookupCameraTF(l *frameSet, now time.Time) (wait bool) {
	maxWait := a.cfg.TF.Wait.Duration
	for c := range a.camTF {
		r := &a.camTF[c]
		r.frame = a.opticalFrame(c, l)
		r.rig, r.oldest, r.err = a.tf.LookupAt(a.cfg.BaseFrame, r.frame, l.stamps[c])
		if r.err == nil {
			continue
		}
		if gap, ok := futureGap(r.err); ok && gap <= maxWait && now.Sub(l.syncedAt) <= maxWait {
			wait = true
		}
	}
	return wait
}
