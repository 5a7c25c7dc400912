package mcapbag

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
	"github.com/foxglove/mcap/go/mcap"

	"github.com/vla3d/vla3d/bag"
)

var t0 = time.Unix(1700000000, 0).UTC()

func writeFile(t testing.TB, path string, n int, opts WriterOptions) {
	t.Helper()
	w, err := Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Interleave slightly out of order in file order; indexed reads sort.
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		if err := w.WriteMsg("/chatter", ts, &std_msgs.String{Data: fmt.Sprintf("m%d", i)}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			img := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: ts, FrameId: "cam"}, Width: 2, Height: 1,
				Encoding: "mono8", Step: 2, Data: []byte{byte(i), 1}}
			if err := w.WriteMsg("/cam", ts, img); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func collect(t testing.TB, src bag.Source, q bag.Query) []bag.Message {
	t.Helper()
	it := src.Read(context.Background(), q)
	var out []bag.Message
	for it.Next() {
		out = append(out, it.Message())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, enc := range []string{EncodingROS1, EncodingCDR} {
		for _, comp := range []string{"none", "lz4", "zstd"} {
			t.Run(enc+"/"+comp, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "x.mcap")
				writeFile(t, path, 40, WriterOptions{Encoding: enc, Compression: comp, ChunkSize: 512})
				r, err := Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				info := r.Info()
				if !info.Indexed || info.Messages != 60 || info.Topics["/chatter"].Messages != 40 || info.Topics["/cam"].Type != "sensor_msgs/Image" {
					t.Fatalf("info %+v", info)
				}
				var types bag.TypeCache
				msgs := collect(t, r, bag.Query{})
				if len(msgs) != 60 {
					t.Fatalf("read %d", len(msgs))
				}
				ci := 0
				for _, m := range msgs {
					switch m.Conn.Topic {
					case "/chatter":
						var s std_msgs.String
						if err := m.Decode(&types, &s); err != nil {
							t.Fatal(err)
						}
						if s.Data != fmt.Sprintf("m%d", ci) {
							t.Fatalf("got %q at %d", s.Data, ci)
						}
						ci++
					case "/cam":
						var img sensor_msgs.Image
						if err := m.Decode(&types, &img); err != nil {
							t.Fatal(err)
						}
						if !img.Header.Stamp.Equal(m.Time) || img.Encoding != "mono8" {
							t.Fatalf("image %+v at %v", img, m.Time)
						}
						var s std_msgs.String
						if m.Decode(&types, &s) == nil {
							t.Fatal("decoding an Image into a String must fail")
						}
					}
				}
				q := bag.Query{Topics: []string{"/cam"}, Start: t0.Add(100 * time.Millisecond), End: t0.Add(200 * time.Millisecond)}
				if got := len(collect(t, r, q)); got != 6 { // i = 10,12,...,20
					t.Fatalf("range query read %d, want 6", got)
				}
			})
		}
	}
}

func TestTruncatedKeepsMessages(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "full.mcap")
	writeFile(t, path, 200, WriterOptions{Compression: "none", ChunkSize: 256})
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.mcap")
	if err := os.WriteFile(cut, full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(cut, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	info := r.Info()
	if info.Indexed || len(info.Warnings) == 0 {
		t.Fatalf("a truncated file must be flagged: %+v", info)
	}
	got := len(collect(t, r, bag.Query{}))
	if got < 100 || got >= 300 || got != info.Messages {
		t.Fatalf("kept %d messages (info says %d) of 300", got, info.Messages)
	}
}

func TestUnknownEncodingWarns(t *testing.T) {
	var buf bytes.Buffer
	w, err := mcap.NewWriter(&buf, &mcap.WriterOptions{Chunked: true, ChunkSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteHeader(&mcap.Header{Profile: ""}))
	must(w.WriteSchema(&mcap.Schema{ID: 1, Name: "Foo", Encoding: "jsonschema", Data: []byte("{}")}))
	must(w.WriteChannel(&mcap.Channel{ID: 0, SchemaID: 1, Topic: "/json", MessageEncoding: "json"}))
	must(w.WriteMessage(&mcap.Message{ChannelID: 0, LogTime: 5, Data: []byte(`{"a":1}`)}))
	must(w.Close())
	r, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Info().Warnings) == 0 {
		t.Fatal("expected a warning for the json channel")
	}
	msgs := collect(t, r, bag.Query{})
	var types bag.TypeCache
	var s std_msgs.String
	if len(msgs) != 1 || msgs[0].Decode(&types, &s) == nil {
		t.Fatal("json payload must be kept but refuse to decode")
	}
	if _, err := NewReader(bytes.NewReader([]byte("not mcap")), 8, nil); err == nil {
		t.Fatal("bad magic must be an error")
	}
}

func FuzzNewReader(f *testing.F) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: "none", ChunkSize: 64})
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := w.WriteMsg("/a", t0.Add(time.Duration(i)), &std_msgs.String{Data: "x"}); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			return
		}
		it := r.Read(context.Background(), bag.Query{})
		for n := 0; it.Next() && n < 10000; n++ {
			_ = it.Message()
		}
	})
}
