package mcapbag

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/foxglove/mcap/go/mcap"

	"github.com/vla3d/vla3d/bag"
)

// damagedFile writes 40 messages in chunks of a few messages each and
// returns the file and its chunk indexes.
func damagedFile(t *testing.T, compression string) ([]byte, []*mcap.ChunkIndex) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: compression, ChunkSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if err := w.WriteMsg("/a", t0.Add(time.Duration(i)*time.Millisecond), &std_msgs.String{Data: "message payload number"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mr, err := mcap.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	info, err := mr.Info()
	if err != nil || len(info.ChunkIndexes) < 4 {
		t.Fatalf("%d chunks, %v", len(info.ChunkIndexes), err)
	}
	return buf.Bytes(), info.ChunkIndexes
}

func readAllMsgs(t *testing.T, b []byte) (*Reader, int) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	it := r.Read(context.Background(), bag.Query{})
	n := 0
	for it.Next() {
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return r, n
}

// A crafted chunk header claiming a huge uncompressed size is refused
// before anything is allocated, and costs only that chunk's messages.
func TestHugeChunkSizeIsRefused(t *testing.T) {
	b, idx := damagedFile(t, "lz4")
	ci := idx[1]
	binary.LittleEndian.PutUint64(b[ci.ChunkStartOffset+25:], 1<<62)
	r, n := readAllMsgs(t, b)
	perChunk := 40 / len(idx)
	if r.Info().DamagedChunks != 1 || n < 40-2*perChunk || n >= 40 {
		t.Fatalf("damaged %d, read %d of 40 messages (%d chunks)", r.Info().DamagedChunks, n, len(idx))
	}
}

// Corrupt compressed bytes inside one chunk: the other chunks' messages are
// all read.
func TestDamagedChunkCostsOnlyItsMessages(t *testing.T) {
	for _, comp := range []string{"lz4", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			b, idx := damagedFile(t, comp)
			// Header check passes; the payload (and so its CRC) is broken.
			ci := idx[2]
			for k := ci.ChunkStartOffset + ci.ChunkLength - 20; k < ci.ChunkStartOffset+ci.ChunkLength-4; k++ {
				b[k] ^= 0x5a
			}
			// Flag a header problem too so the chunk-wise path is used.
			binary.LittleEndian.PutUint64(b[idx[0].ChunkStartOffset+25:], 1<<40)
			r, n := readAllMsgs(t, b)
			if r.Info().DamagedChunks != 1 || n == 0 || n >= 40 {
				t.Fatalf("damaged %d, read %d of 40", r.Info().DamagedChunks, n)
			}
			t.Logf("%s: read %d of 40 messages with 2 of %d chunks damaged", comp, n, len(idx))
		})
	}
}

// A chunk whose payload alone is damaged (headers intact, so Open cannot
// tell) fails inside the library's indexed iterator; the read goes on
// chunk by chunk and keeps every other message, none twice.
func TestDamagedPayloadFallsBackChunkByChunk(t *testing.T) {
	b, idx := damagedFile(t, "lz4")
	ci := idx[len(idx)/2]
	for k := ci.ChunkStartOffset + ci.ChunkLength - 20; k < ci.ChunkStartOffset+ci.ChunkLength-4; k++ {
		b[k] ^= 0x5a
	}
	r, err := NewReader(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	it := r.Read(context.Background(), bag.Query{})
	seen := map[time.Time]int{}
	n := 0
	for it.Next() {
		seen[it.Message().Time]++
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	for tm, c := range seen {
		if c != 1 {
			t.Fatalf("message at %v delivered %d times", tm, c)
		}
	}
	if n == 0 || n >= 40 || n < 40-2*(40/len(idx)+1) {
		t.Fatalf("read %d of 40 with one of %d chunks damaged", n, len(idx))
	}
}
