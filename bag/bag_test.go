package bag

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
)

var t0 = time.Unix(1700000000, 123456789).UTC()

// writeTestBag writes n String messages on /chatter every 10 ms and an Image
// on /cam every 30 ms, with small chunks so the bag has many of them.
func writeTestBag(t testing.TB, path string, n int, opts WriterOptions) {
	t.Helper()
	w, err := Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		if err := w.WriteMsg("/chatter", ts, &std_msgs.String{Data: fmt.Sprintf("hello %d", i)}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			img := &sensor_msgs.Image{Header: std_msgs.Header{Seq: uint32(i), Stamp: ts, FrameId: "cam"},
				Height: 2, Width: 3, Encoding: "rgb8", Step: 9, Data: bytes.Repeat([]byte{byte(i)}, 18)}
			if err := w.WriteMsg("/cam", ts, img); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readAll(t testing.TB, r *Reader, q Query) []Message {
	t.Helper()
	it := r.Messages(context.Background(), q)
	var out []Message
	for it.Next() {
		out = append(out, it.Message())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, comp := range []string{CompressionNone, CompressionLZ4} {
		t.Run(comp, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rt.bag")
			writeTestBag(t, path, 100, WriterOptions{Compression: comp, ChunkSize: 1024})
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			info := r.Info()
			if !info.Indexed || len(info.Warnings) != 0 {
				t.Fatalf("indexed=%v warnings=%v", info.Indexed, info.Warnings)
			}
			if info.Messages != 134 || info.Topics["/chatter"].Messages != 100 || info.Topics["/cam"].Messages != 34 {
				t.Fatalf("counts: %+v", info)
			}
			if info.Chunks < 5 || info.Compression[comp] != info.Chunks {
				t.Fatalf("chunks: %d %v", info.Chunks, info.Compression)
			}
			if !info.Start.Equal(t0) || !info.End.Equal(t0.Add(990*time.Millisecond)) {
				t.Fatalf("range %v..%v", info.Start, info.End)
			}
			msgs := readAll(t, r, Query{})
			var prev time.Time
			var types TypeCache
			ci := 0
			for _, m := range msgs {
				if m.Time.Before(prev) {
					t.Fatal("not time ordered")
				}
				prev = m.Time
				if m.Conn.Topic == "/chatter" {
					var s std_msgs.String
					if err := m.Decode(&types, &s); err != nil {
						t.Fatal(err)
					}
					if want := fmt.Sprintf("hello %d", ci); s.Data != want {
						t.Fatalf("got %q want %q", s.Data, want)
					}
					ci++
					var img sensor_msgs.Image
					if err := m.Decode(&types, &img); err == nil {
						t.Fatal("decoding a String into an Image must fail the md5 check")
					}
				}
			}
		})
	}
}

func TestQueryTimeRangeAndTopics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.bag")
	writeTestBag(t, path, 100, WriterOptions{ChunkSize: 512})
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cases := []struct {
		name string
		q    Query
		want int
	}{
		{"all", Query{}, 134},
		{"chatter", Query{Topics: []string{"/chatter"}}, 100},
		{"cam", Query{Topics: []string{"/cam"}}, 34},
		{"missing topic", Query{Topics: []string{"/nope"}}, 0},
		// [200ms, 490ms]: chatter i=20..49 (30), cam i=21..48 step 3 (10)
		{"range", Query{Start: t0.Add(200 * time.Millisecond), End: t0.Add(490 * time.Millisecond)}, 40},
		{"range cam", Query{Topics: []string{"/cam"}, Start: t0.Add(200 * time.Millisecond), End: t0.Add(490 * time.Millisecond)}, 10},
		{"open end", Query{Start: t0.Add(900 * time.Millisecond)}, 10 + 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(readAll(t, r, tc.q)); got != tc.want {
				t.Fatalf("got %d want %d", got, tc.want)
			}
		})
	}
}

// rosbag pads header+data to 4096 bytes; the length fields come on top.
func TestBagHeaderPaddedTo4096(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.bag")
	writeTestBag(t, path, 3, WriterOptions{})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hb, data, n, err := splitRecord(b[len(Magic):])
	if err != nil {
		t.Fatal(err)
	}
	if n != 8+4096 || len(hb)+len(data) != 4096 {
		t.Fatalf("bag header record is %d bytes (header %d + data %d)", n, len(hb), len(data))
	}
	if bytes.Trim(data, " ") != nil && len(bytes.Trim(data, " ")) != 0 {
		t.Fatal("padding is not spaces")
	}
	h, err := parseHeader(hb)
	if err != nil {
		t.Fatal(err)
	}
	ip, _ := h.uint64("index_pos")
	cc, _ := h.uint32("conn_count")
	kc, _ := h.uint32("chunk_count")
	if ip == 0 || ip >= uint64(len(b)) || cc != 2 || kc != 1 {
		t.Fatalf("index_pos=%d conn_count=%d chunk_count=%d", ip, cc, kc)
	}
}

func TestTruncatedBagKeepsReadableMessages(t *testing.T) {
	for _, comp := range []string{CompressionNone, CompressionLZ4} {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "full.bag")
			writeTestBag(t, path, 200, WriterOptions{Compression: comp, ChunkSize: 2048})
			full, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			total := r.Info().Messages
			r.Close()
			prev := total + 1
			// Cut from most of the file down to just past the header: the
			// count of kept messages must fall monotonically and never error.
			for _, frac := range []float64{0.95, 0.7, 0.5, 0.3, 0.1} {
				cut := len(Magic) + 4096 + int(frac*float64(len(full)-len(Magic)-4096))
				tp := filepath.Join(dir, fmt.Sprintf("cut%.0f.bag", frac*100))
				if err := os.WriteFile(tp, full[:cut], 0o644); err != nil {
					t.Fatal(err)
				}
				r, err := Open(tp)
				if err != nil {
					t.Fatalf("cut at %d: %v", cut, err)
				}
				info := r.Info()
				if info.Indexed || len(info.Warnings) == 0 {
					t.Fatalf("cut at %d: indexed=%v warnings=%v", cut, info.Indexed, info.Warnings)
				}
				msgs := readAll(t, r, Query{})
				r.Close()
				if len(msgs) == 0 && frac > 0.2 || len(msgs) > prev {
					t.Fatalf("cut at %.2f kept %d (previous %d, total %d)", frac, len(msgs), prev, total)
				}
				prev = len(msgs)
				var types TypeCache
				for _, m := range msgs {
					if m.Conn.Topic == "/chatter" {
						var s std_msgs.String
						if err := m.Decode(&types, &s); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		})
	}
}

func TestUnindexedBag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.bag")
	writeTestBag(t, path, 50, WriterOptions{ChunkSize: 256})
	b, _ := os.ReadFile(path)
	// Zero index_pos, as a recording killed before closing leaves it.
	copy(b[len(Magic):], bagHeaderRecord(0, 0, 0))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Info().Indexed || r.Info().Messages != 67 {
		t.Fatalf("%+v", r.Info())
	}
}

func TestBadInputErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not a bag", []byte("hello world, this is not a bag")},
		{"v1.2", []byte("#ROSBAG V1.2\nxxxxxxxxxxxxxxxxxxxx")},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(p); err == nil {
			t.Errorf("%s: expected an error", tc.name)
		}
	}
	if _, err := Create(filepath.Join(dir, "x.bag"), WriterOptions{Compression: "zstd"}); err == nil {
		t.Error("unknown compression must be refused")
	}
	if _, err := decompressChunk("zstd", []byte{1}, 1); err == nil {
		t.Error("unknown chunk compression must be refused")
	}
}

func TestTimeEncoding(t *testing.T) {
	cases := []struct {
		in        time.Time
		sec, nsec uint32
	}{
		{time.Time{}, 0, 0},
		{time.Unix(0, 0), 0, 0},
		{time.Unix(-5, 0), 0, 0},
		{time.Unix(1, 5), 1, 5},
		{time.Unix(1700000000, 999999999), 1700000000, 999999999},
		{time.Unix(1<<33, 0), ^uint32(0), 999999999},
	}
	for _, tc := range cases {
		var b [8]byte
		encodeTime(b[:], tc.in)
		got := decodeTime(b[:])
		if got.Unix() != int64(tc.sec) || got.Nanosecond() != int(tc.nsec) {
			t.Errorf("%v -> %v, want %d.%09d", tc.in, got, tc.sec, tc.nsec)
		}
	}
}

func TestCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.bag")
	writeTestBag(t, path, 20, WriterOptions{})
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	it := r.Messages(ctx, Query{})
	it.Next()
	cancel()
	if it.Next() || it.Err() == nil {
		t.Fatal("cancelled iteration must stop with an error")
	}
}

// A damaged chunk in an indexed bag costs only its own messages.
func TestCorruptChunkIsSkipped(t *testing.T) {
	for _, comp := range []string{CompressionNone, CompressionLZ4} {
		t.Run(comp, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.bag")
			writeTestBag(t, path, 200, WriterOptions{Compression: comp, ChunkSize: 2048})
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			total := r.Info().Messages
			mid := r.chunks[len(r.chunks)/2]
			r.Close()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Scramble the middle of one chunk's data.
			for i := mid.dataPos + mid.dataLen/4; i < mid.dataPos+mid.dataLen/2; i++ {
				b[i] ^= 0x5a
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err = Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			it := r.Messages(context.Background(), Query{})
			n := 0
			for it.Next() {
				n++
			}
			if it.Err() != nil {
				t.Fatal(it.Err())
			}
			if it.Skipped() == 0 || n+it.Skipped() != total || n < total/2 {
				t.Fatalf("read %d + skipped %d of %d", n, it.Skipped(), total)
			}
		})
	}
}

// Iterators of one Reader may run concurrently (the evaluator and a dataset
// reading the same recording).
func TestConcurrentIterators(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cc.bag")
	writeTestBag(t, path, 100, WriterOptions{Compression: CompressionLZ4, ChunkSize: 1024})
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			var types TypeCache
			it := r.Messages(context.Background(), Query{Topics: []string{"/chatter"}})
			n := 0
			for it.Next() {
				var s std_msgs.String
				if err := it.Message().Decode(&types, &s); err != nil {
					errs <- err
					return
				}
				n++
			}
			if n != 100 {
				errs <- fmt.Errorf("read %d", n)
				return
			}
			errs <- it.Err()
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
