package bag

import (
	"bytes"
	"compress/bzip2"
	"errors"
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
	if compression != CompressionNone && compression != CompressionBZ2 && compression != CompressionLZ4 {
		return nil, fmt.Errorf("bag: unknown chunk compression %q", compression)
	}
	if compression == CompressionNone {
		if uint32(len(data)) != size {
			return data, fmt.Errorf("bag: uncompressed chunk of %d bytes, header says %d: %w", len(data), size, ErrTruncated)
		}
		return data, nil
	}
	// A corrupt size cannot claim more than the record limit.
	out := make([]byte, min(size, maxRecordPart))
	var n int
	var err error
	switch compression {
	case CompressionBZ2:
		n, err = io.ReadFull(bzip2.NewReader(bytes.NewReader(data)), out)
	case CompressionLZ4:
		// roslz4 writes the standard LZ4 frame format.
		zr := lz4.NewReader(bytes.NewReader(data))
		n, err = io.ReadFull(zr, out)
		// Hand the frame's block buffer (up to 4 MiB) back to lz4's pool;
		// without this every chunk allocates a fresh one.
		zr.Reset(nil)
	default:
		return nil, fmt.Errorf("bag: unknown chunk compression %q", compression)
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = ErrTruncated
		}
		return out[:n], fmt.Errorf("bag: %s chunk decoded to %d bytes, header says %d: %w", compression, n, size, err)
	}
	return out, nil
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
