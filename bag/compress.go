package bag

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/pierrec/lz4/v4"
)

// Compression names used in chunk records.
const (
	CompressionNone = "none"
	CompressionBZ2  = "bz2"
	CompressionLZ4  = "lz4"
)

// decompressChunk returns the uncompressed records of a chunk. On a damaged
// or truncated stream it returns the bytes it did decode together with the
// error, so callers can keep the whole records among them.
func decompressChunk(compression string, data []byte, size uint32) ([]byte, error) {
	var r io.Reader
	switch compression {
	case CompressionNone:
		if uint32(len(data)) != size {
			return data, fmt.Errorf("bag: uncompressed chunk of %d bytes, header says %d: %w", len(data), size, ErrTruncated)
		}
		return data, nil
	case CompressionBZ2:
		r = bzip2.NewReader(bytes.NewReader(data))
	case CompressionLZ4:
		// roslz4 writes the standard LZ4 frame format.
		r = lz4.NewReader(bytes.NewReader(data))
	default:
		return nil, fmt.Errorf("bag: unknown chunk compression %q", compression)
	}
	limit := size
	if limit > maxRecordPart {
		limit = maxRecordPart
	}
	out := make([]byte, 0, limit)
	buf := bytes.NewBuffer(out)
	_, err := io.Copy(buf, io.LimitReader(r, int64(limit)))
	if err != nil {
		return buf.Bytes(), fmt.Errorf("bag: %s chunk: %w", compression, err)
	}
	if uint32(buf.Len()) != size {
		return buf.Bytes(), fmt.Errorf("bag: %s chunk decoded to %d bytes, header says %d: %w", compression, buf.Len(), size, ErrTruncated)
	}
	return buf.Bytes(), nil
}

// compressChunk compresses chunk records for writing. bz2 is read-only here
// (the Go standard library has no bzip2 encoder).
func compressChunk(compression string, data []byte) ([]byte, error) {
	switch compression {
	case CompressionNone:
		return data, nil
	case CompressionLZ4:
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		if _, err := w.Write(data); err != nil {
			return nil, fmt.Errorf("bag: lz4 compress: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("bag: lz4 compress: %w", err)
		}
		return buf.Bytes(), nil
	default:
		return nil, fmt.Errorf("bag: cannot write %q chunks (supported: none, lz4)", compression)
	}
}
