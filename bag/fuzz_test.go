package bag

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseHeader(f *testing.F) {
	var hb headerBuilder
	hb.addOp(OpChunk)
	hb.addString("compression", "lz4")
	hb.addUint32("size", 10)
	f.Add(hb.buf)
	f.Add([]byte{3, 0, 0, 0, 'a', '=', 'b'})
	f.Add([]byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil {
			return
		}
		// Re-encoding the parsed fields must reproduce the input exactly.
		var out headerBuilder
		for _, fl := range h.fields {
			out.add(fl.name, fl.value)
		}
		if !bytes.Equal(out.buf, b) {
			t.Fatalf("re-encoded header differs")
		}
		_, _ = h.op()
		_, _ = h.uint32("conn")
		_, _ = h.time("time")
	})
}

func FuzzSplitRecord(f *testing.F) {
	var hb headerBuilder
	hb.addOp(OpMessageData)
	f.Add(appendRecord(nil, hb.buf, []byte("data")))
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, d, n, err := splitRecord(b)
		if err == nil && n != 8+len(h)+len(d) {
			t.Fatalf("length %d != 8+%d+%d", n, len(h), len(d))
		}
		if n > len(b) {
			t.Fatal("consumed past the input")
		}
	})
}

func FuzzDecodeConnection(f *testing.F) {
	c := &Connection{ID: 1, Topic: "/a", Type: "std_msgs/String", MD5Sum: "992ce8a1687cec8c8bd883ec73ca41d1", Def: "string data\n", Latching: true}
	f.Add(encodeConnectionRecord(c))
	f.Fuzz(func(t *testing.T, b []byte) {
		hdr, data, _, err := splitRecord(b)
		if err != nil {
			return
		}
		h, err := parseHeader(hdr)
		if err != nil {
			return
		}
		_, _ = decodeConnection(h, data)
	})
}

func FuzzDecompressChunk(f *testing.F) {
	lz, _ := compressChunk(CompressionLZ4, []byte("some records some records some records"))
	f.Add("lz4", lz, uint32(39))
	f.Add("bz2", []byte("BZh91AY&SY"), uint32(10))
	f.Add("none", []byte("abc"), uint32(3))
	f.Fuzz(func(t *testing.T, comp string, b []byte, size uint32) {
		if size > 1<<20 {
			size = 1 << 20
		}
		out, _ := decompressChunk(comp, b, size)
		if uint32(len(out)) > size && comp != CompressionNone {
			t.Fatalf("decoded %d bytes past the declared %d", len(out), size)
		}
	})
}

// FuzzOpen feeds whole files, seeded with a real bag, to the reader: it must
// never panic, and whatever it indexes must be iterable.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	p := filepath.Join(dir, "seed.bag")
	writeTestBag(f, p, 6, WriterOptions{ChunkSize: 128})
	seed, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		it := r.Messages(context.Background(), Query{})
		for it.Next() {
			_ = it.Message()
		}
	})
}
