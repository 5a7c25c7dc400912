package bag

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// damagedBag writes 300 messages in many small chunks and returns the
// file's bytes and its chunk offsets.
func damagedBag(t *testing.T) ([]byte, []int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "d.bag")
	writeTestBag(t, path, 300, WriterOptions{Compression: CompressionNone, ChunkSize: 2000})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var pos []int64
	for _, c := range r.chunks {
		pos = append(pos, c.pos)
	}
	if len(pos) < 6 {
		t.Fatalf("only %d chunks", len(pos))
	}
	return b, pos
}

func countMessages(t *testing.T, b []byte) (*Reader, int) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r, len(readAll(t, r, Query{}))
}

// A chunk whose record length is corrupt costs only its own messages when
// the index is intact: the index is used chunk by chunk.
func TestCorruptChunkWithIndexCostsOnlyItsMessages(t *testing.T) {
	b, pos := damagedBag(t)
	_, all := countMessages(t, b)
	binary.LittleEndian.PutUint32(b[pos[2]:], 0x7fffffff) // its header length
	r, n := countMessages(t, b)
	if !r.Info().Indexed || r.Info().DamagedChunks != 1 || n >= all || n < all*2/3 {
		t.Fatalf("indexed %v, damaged %d, read %d of %d", r.Info().Indexed, r.Info().DamagedChunks, n, all)
	}
}

// Without an index, the rescue scan resynchronizes past a record it cannot
// frame on the next chunk, and says what it lost.
func TestRescueScanResynchronizes(t *testing.T) {
	b, pos := damagedBag(t)
	_, all := countMessages(t, b)
	b = b[:pos[len(pos)-1]+1] // cut the last chunk and the index off: a recording not closed
	binary.LittleEndian.PutUint32(b[pos[1]:], 0x7fffffff)
	r, n := countMessages(t, b)
	if r.Info().Indexed {
		t.Fatal("a cut bag claims an index")
	}
	// Lost: the corrupt chunk and the cut last one (plus what was in them).
	if n >= all || n < all/2 {
		t.Fatalf("read %d of %d messages after one corrupt record", n, all)
	}
	w := strings.Join(r.Info().Warnings, "\n")
	if !strings.Contains(w, "resynchronized") || !strings.Contains(w, "skipped") || strings.Contains(w, "every readable message is kept") {
		t.Fatalf("warnings do not say what was lost:\n%s", w)
	}
}
