package observe

import (
	"testing"
	"time"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/msgs"
)

// FuzzRoutePayloads feeds arbitrary payload bytes on every input topic, in
// both ROS 1 and CDR encodings, through the decode-and-handle path bag
// replay and training use (the node's callbacks get the decoded message):
// nothing may panic, and a snapshot, if any, holds well-formed images.
func FuzzRoutePayloads(f *testing.F) {
	f.Add(uint8(0), []byte{1, 0, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}, false)
	f.Add(uint8(3), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Add(uint8(9), make([]byte, 64), false)
	f.Fuzz(func(t *testing.T, sel uint8, data []byte, cdr bool) {
		cfg := testConfig(1)
		cfg.Labels = true
		a, err := New(cfg, func() time.Time { return time.Unix(100, 0) })
		if err != nil {
			t.Fatal(err)
		}
		routes := a.Routes()
		r := routes[int(sel)%len(routes)]
		msg := r.New()
		var types bag.TypeCache
		ti, err := types.Info(msg)
		if err != nil {
			t.Fatal(err)
		}
		enc := ""
		if cdr {
			enc = "cdr"
		}
		m := bag.Message{Conn: &bag.Connection{Topic: r.Topic, Type: ti.Type, MD5Sum: ti.MD5Sum, Encoding: enc}, Data: data}
		if err := m.Decode(&types, msg); err != nil {
			return
		}
		_ = r.Handle(msg)
		var obs msgs.Observation
		if _, ok, _, _ := a.Snapshot(&obs, 0); ok {
			for _, c := range obs.Cameras {
				if len(c.Color.Pix) != 3*c.Color.Width*c.Color.Height {
					t.Fatalf("malformed snapshot image %dx%d/%d", c.Color.Width, c.Color.Height, len(c.Color.Pix))
				}
			}
		}
	})
}
