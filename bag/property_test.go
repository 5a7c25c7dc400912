package bag

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// Property: whatever is written (any topics, payload sizes, chunk sizes,
// receive times in any order) reads back as the same multiset of messages,
// sorted by time with ties in write order, and every time-range query
// returns exactly the messages inside the range.
func TestRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := 0; trial < 20; trial++ {
		comp := []string{CompressionNone, CompressionLZ4}[trial%2]
		path := filepath.Join(t.TempDir(), "p.bag")
		w, err := Create(path, WriterOptions{Compression: comp, ChunkSize: 1 + rng.IntN(4096)})
		if err != nil {
			t.Fatal(err)
		}
		type rec struct {
			topic string
			t     time.Time
			data  []byte
			seq   int
		}
		var written []rec
		conns := map[string]*Connection{}
		for i, n := 0, rng.IntN(300); i < n; i++ {
			topic := []string{"/a", "/b", "/c"}[rng.IntN(3)]
			c := conns[topic]
			if c == nil {
				if c, err = w.Connection(topic, "std_msgs/String", "992ce8a1687cec8c8bd883ec73ca41d1", "string data\n", "", false); err != nil {
					t.Fatal(err)
				}
				conns[topic] = c
			}
			data := make([]byte, rng.IntN(2000))
			for k := range data {
				data[k] = byte(rng.Uint32())
			}
			ts := time.Unix(1700000000+rng.Int64N(100), rng.Int64N(1e9)).UTC()
			if err := w.Write(c, ts, data); err != nil {
				t.Fatal(err)
			}
			written = append(written, rec{topic, ts, data, i})
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sort.SliceStable(written, func(i, j int) bool { return written[i].t.Before(written[j].t) })
		got := readAll(t, r, Query{})
		if len(got) != len(written) {
			t.Fatalf("trial %d: read %d of %d", trial, len(got), len(written))
		}
		for i, m := range got {
			if !m.Time.Equal(written[i].t) || m.Conn.Topic != written[i].topic || !bytes.Equal(m.Data, written[i].data) {
				t.Fatalf("trial %d: message %d differs", trial, i)
			}
		}
		if len(written) > 0 {
			lo := written[rng.IntN(len(written))].t
			hi := lo.Add(time.Duration(rng.Int64N(int64(30 * time.Second))))
			want := 0
			for _, m := range written {
				if !m.t.Before(lo) && !m.t.After(hi) {
					want++
				}
			}
			if n := len(readAll(t, r, Query{Start: lo, End: hi})); n != want {
				t.Fatalf("trial %d: range query read %d, want %d", trial, n, want)
			}
		}
		r.Close()
	}
}

// BenchmarkWrite: writing 224x224 RGB images (ROS 1 payload already
// serialized) into uncompressed chunks.
func BenchmarkWrite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "w.bag")
	w, err := Create(path, WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	c, err := w.Connection("/cam/color/image_raw", "sensor_msgs/Image", "060021388200f6f0f447d0fcd9c64743", "", "", false)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 224*224*3+64)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	ts := time.Unix(1700000000, 0)
	for b.Loop() {
		ts = ts.Add(time.Millisecond)
		if err := w.Write(c, ts, data); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
