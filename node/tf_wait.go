package node

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
func (in *Inputs) opticalFrame(c int, l *frameSet) string {
	if f := in.cfg.Cameras[c].OpticalFrame; f != "" {
		return f
	}
	if in.haveInfo[c] && in.infos[c].FrameID != "" {
		return in.infos[c].FrameID
	}
	return l.frames[c]
}

// lookupCameraTF fills in.camTF with every camera's chain at its image
// stamp. It reports wait when some moving edge's samples end at most
// tf.wait before an image and the set is younger than tf.wait: the /tf
// message for that instant is most likely in flight (images and tf travel
// on separate connections), so, like tf2_ros::MessageFilter, the set is
// held back until OnTF brings it rather than failed. Called with in.mu held.
func (in *Inputs) lookupCameraTF(l *frameSet, now time.Time) (wait bool) {
	maxWait := in.cfg.TF.Wait.Duration
	for c := range in.camTF {
		r := &in.camTF[c]
		r.frame = in.opticalFrame(c, l)
		r.rig, r.oldest, r.err = in.tf.LookupAt(in.cfg.BaseFrame, r.frame, l.stamps[c])
		if r.err == nil {
			continue
		}
		if gap, ok := futureGap(r.err); ok && gap <= maxWait && now.Sub(l.syncedAt) <= maxWait {
			wait = true
		}
	}
	return wait
}
