package dataset

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
)

func FuzzHeaderStamp(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0}, false)
	f.Add([]byte{0, 1, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0}, true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 5}, true)
	f.Fuzz(func(t *testing.T, data []byte, cdr bool) {
		c := &bag.Connection{Topic: "/x", Encoding: "ros1"}
		if cdr {
			c.Encoding = "cdr"
		}
		st, err := headerStamp(bag.Message{Conn: c, Data: data})
		if err == nil && (st.Nanosecond() >= 1e9 || st.Before(time.Unix(0, 0))) {
			t.Fatalf("stamp %v", st)
		}
	})
}

// Property: executing the derived action from cur with perception.ApplyDelta
// (q_next = q(rpy) * q_cur, p_next = p_cur + d, as the simulator and the node
// do) lands on next.
func TestDeriveActionInvertsExecution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		q := perception.QuatFromRPY(rng.Float64()*6-3, rng.Float64()*2.8-1.4, rng.Float64()*6-3)
		cur := msgs.Pose{Position: [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}, Orientation: q.Array()}
		dq := perception.QuatFromRPY(rng.Float64()*0.4-0.2, rng.Float64()*0.4-0.2, rng.Float64()*0.4-0.2)
		next := msgs.Pose{Orientation: dq.Mul(q).Array()}
		for k := range 3 {
			next.Position[k] = cur.Position[k] + rng.Float64()*0.1 - 0.05
		}
		a := DeriveAction(cur, next, 1)
		got := perception.ApplyDelta(perception.PoseFromMsg(cur), perception.DeltaFromAction(a[:])).Orientation
		if dot := got.Dot(perception.QuatFromArray(next.Orientation)); math.Abs(math.Abs(dot)-1) > 1e-5 {
			t.Fatalf("case %d: orientation off, |dot| = %v", i, math.Abs(dot))
		}
		for k := range 3 {
			if math.Abs(cur.Position[k]+float64(a[k])-next.Position[k]) > 1e-6 {
				t.Fatalf("case %d: position off", i)
			}
		}
	}
}

// FuzzEpisodeMarker: marker texts come from recordings; only the JSON end
// event ends an episode.
func FuzzEpisodeMarker(f *testing.F) {
	f.Add(`{"event":"end","episode":1}`)
	f.Add(`{"event":"start"}`)
	f.Add(`episode 3`)
	f.Add(`{"event":`)
	f.Fuzz(func(t *testing.T, text string) {
		// Free text never ends an episode; decoding never panics.
		if isEndMarker(text) && !strings.HasPrefix(strings.TrimSpace(text), "{") {
			t.Fatalf("%q read as an end marker", text)
		}
	})
}

// FuzzOpenCacheFile: a cache file is outside bytes on disk: whatever it
// holds, opening it must not panic, and a file it accepts has intact
// records.
func FuzzOpenCacheFile(f *testing.F) {
	f.Add([]byte("V3DCACHE"), 64)
	f.Add(append(make([]byte, 40), []byte("\x0c\x00\x00\x00V3DCACHE")...), 16)
	f.Fuzz(func(t *testing.T, data []byte, recordSize int) {
		if recordSize < crcSize || recordSize > 1<<16 {
			return
		}
		path := filepath.Join(t.TempDir(), "c.v3c")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cf, err := openCacheFile(path, "key", recordSize)
		if err != nil {
			return
		}
		defer cf.f.Close()
		buf := make([]byte, recordSize)
		for k := range cf.footer.Count {
			if _, err := cf.f.ReadAt(buf, int64(k)*int64(recordSize)); err != nil || !recordIntact(buf) {
				t.Fatalf("accepted a cache with a bad record %d", k)
			}
		}
	})
}
