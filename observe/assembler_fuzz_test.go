package observe

import (
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/msgs"
)

// FuzzInputs feeds arbitrary image messages (headers, payloads, stamps,
// camera and order) to the intake: decoding and synchronization must never
// panic, and a snapshot, when one exists, must hold well-formed images.
func FuzzInputs(f *testing.F) {
	f.Add([]byte{0, 2, 2, 6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "rgb8", int64(5))
	f.Add([]byte{1, 2, 1, 4, 0, 1, 0, 2}, "16UC1", int64(7))
	f.Fuzz(func(t *testing.T, data []byte, enc string, stamp int64) {
		cfg := testConfig(2)
		in, err := New(cfg, func() time.Time { return time.Unix(100, 0) })
		if err != nil {
			t.Fatal(err)
		}
		var obs msgs.Observation
		for len(data) >= 4 {
			sel, w, h, step := data[0], uint32(data[1]%8), uint32(data[2]%8), uint32(data[3])
			n := min(len(data)-4, int(step)*int(h))
			m := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: time.Unix(0, stamp+int64(sel))},
				Width: w, Height: h, Step: step, Encoding: enc, IsBigendian: sel & 1, Data: data[4 : 4+n]}
			cam := int(sel>>1) % 2
			if sel&4 == 0 {
				_ = in.OnColor(cam, m)
			} else {
				_ = in.OnDepth(cam, m)
			}
			data = data[4+n:]
		}
		if _, ok, _, _ := in.Snapshot(&obs, 0); ok {
			for _, c := range obs.Cameras {
				if len(c.Color.Pix) != 3*c.Color.Width*c.Color.Height || len(c.Depth.Meters) != c.Depth.Width*c.Depth.Height {
					t.Fatalf("malformed snapshot image %dx%d/%d, %dx%d/%d", c.Color.Width, c.Color.Height, len(c.Color.Pix),
						c.Depth.Width, c.Depth.Height, len(c.Depth.Meters))
				}
			}
		}
	})
}
