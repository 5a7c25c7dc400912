package node

import (
	"context"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"

	"github.com/vla3d/vla3d/msgs/rosconv"
)

// BenchmarkNodeFrame3x224 measures the node's own work per frame for three
// 224x224 RGB-D cameras (bgr8 + 16UC1) and a 224x224 patch-16 model, with
// a policy that does no work (model time excluded): decoding the six images,
// synchronization, snapshot, preprocessing, storing the chunk, one control
// tick and building the command message. The custom metric
// last-msg-to-cmd-ns is the part from the arrival of the frame's last image
// (its decode, the sync emit and everything after) to the built command.
func BenchmarkNodeFrame3x224(b *testing.B) {
	r := newRig(b, 3, 224, nil)
	r.pol.spec.PatchSize = 16
	type frame struct{ col, dep *sensor_msgs.Image }
	frames := make([]frame, 3)
	for c, cam := range r.cfg.Cameras {
		col, dep, info := camMsgs(cam.Name, 224, r.clock.Now())
		r.in.OnCameraInfo(c, info)
		frames[c] = frame{col, dep}
	}
	if err := r.in.OnTF(staticTF(&r.cfg), true); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var out Target
	pose := eePose(r.cfg.BaseFrame, r.clock.Now())
	step := func() time.Duration {
		now := r.clock.Now()
		for c := range frames {
			frames[c].col.Header.Stamp, frames[c].dep.Header.Stamp = now, now
		}
		pose.Header.Stamp = now
		_ = r.in.OnPose(pose)
		for c := range frames {
			if err := r.in.OnColor(c, frames[c].col); err != nil {
				b.Fatal(err)
			}
			if c < len(frames)-1 {
				if err := r.in.OnDepth(c, frames[c].dep); err != nil {
					b.Fatal(err)
				}
			}
		}
		start := time.Now()
		last := len(frames) - 1
		if err := r.in.OnDepth(last, frames[last].dep); err != nil {
			b.Fatal(err)
		}
		if !r.ctl.InferOnce(ctx) {
			b.Fatalf("no chunk: %v", r.ctl.workerErr)
		}
		res := r.ctl.Tick(now, &out)
		if !res.Valid || res.Hold {
			b.Fatalf("tick %+v", res)
		}
		ps := rosconv.PoseStampedToROS(out.Pose, now, r.cfg.BaseFrame)
		_ = ps
		d := time.Since(start)
		r.clock.Advance(33 * time.Millisecond)
		return d
	}
	for range 2 * (r.cfg.Sync.QueueSize + 2) { // warm-up sizes every ring slot and swapped buffer
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		total += step()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "last-msg-to-cmd-ns")
}

// BenchmarkControlTick is one control tick with a stored chunk (ensembling,
// health checks, limits): the only work on the control loop's path.
func BenchmarkControlTick(b *testing.B) {
	r := newRig(b, 1, 32, nil)
	r.feed(b, true, true)
	r.clock.Advance(30 * time.Millisecond)
	r.feed(b, false, false)
	if !r.ctl.InferOnce(context.Background()) {
		b.Fatal("no chunk")
	}
	var out Target
	now := r.clock.Now()
	b.ReportAllocs()
	for b.Loop() {
		if res := r.ctl.Tick(now, &out); res.Hold {
			b.Fatalf("tick %+v", res)
		}
	}
}
