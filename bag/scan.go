package bag

import (
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// scan rebuilds the index by walking every record from off to the end of the
// file, as `rosbag reindex` does. It keeps every whole message it finds and
// stops, with a warning, at the first record it cannot frame.
func (r *Reader) scan(off int64) error {
	dropped := 0
	for off < r.size {
		h, _, next, err := r.readRecordAt(off, false)
		truncated := errors.Is(err, ErrTruncated) && h.fields != nil
		if err != nil && !truncated {
			r.warn("stopped scanning at an unreadable record; the rest of the file is lost", zap.Int64("offset", off), zap.Error(err))
			break
		}
		op, oerr := h.op()
		if oerr != nil {
			r.warn("stopped scanning at a record without op", zap.Int64("offset", off), zap.Error(oerr))
			break
		}
		switch op {
		case OpConnection:
			_, data, _, err := r.readRecordAt(off, true)
			if err != nil {
				r.warn("connection record cut short", zap.Int64("offset", off), zap.Error(err))
				break
			}
			c, cerr := decodeConnection(h, data)
			if cerr != nil {
				r.warn("skipping bad connection record", zap.Int64("offset", off), zap.Error(cerr))
				break
			}
			r.addConnection(c)
		case OpChunk:
			ref, cerr := chunkFromHeader(h, off, next)
			if cerr != nil {
				r.warn("stopped scanning at a bad chunk header", zap.Int64("offset", off), zap.Error(cerr))
				return r.finishScan(dropped)
			}
			if truncated {
				ref.dataLen = r.size - ref.dataPos
			}
			n, derr := r.scanChunk(&ref, int32(len(r.chunks)))
			dropped += n
			if derr != nil {
				r.warn("chunk damaged or cut short; kept the messages before the damage", zap.Int64("offset", off), zap.Error(derr))
			}
			r.chunks = append(r.chunks, ref)
		case OpMessageData, OpIndexData, OpChunkInfo, OpBagHeader:
			// Message data lives inside chunks in format 2.0; index records
			// are what we are rebuilding.
		default:
			r.warn("skipping record with unknown op", zap.Int64("offset", off), zap.Uint8("op", op))
		}
		if truncated {
			break
		}
		off = next
	}
	return r.finishScan(dropped)
}

func (r *Reader) finishScan(dropped int) error {
	if dropped > 0 {
		r.warn(fmt.Sprintf("dropped %d messages whose connection record is missing", dropped))
	}
	r.sortIndex()
	return nil
}

// scanChunk decodes a chunk and indexes the messages in it. It returns the
// number of messages dropped for lack of a connection.
func (r *Reader) scanChunk(ref *chunkRef, ci int32) (int, error) {
	raw, derr := r.chunkBytes(ref)
	dropped := 0
	first := true
	for off := 0; off < len(raw); {
		hb, data, n, err := splitRecord(raw[off:])
		if err != nil {
			return dropped, errors.Join(derr, err)
		}
		h, err := parseHeader(hb)
		if err != nil {
			return dropped, errors.Join(derr, err)
		}
		op, err := h.op()
		if err != nil {
			return dropped, errors.Join(derr, err)
		}
		switch op {
		case OpConnection:
			c, err := decodeConnection(h, data)
			if err != nil {
				return dropped, errors.Join(derr, err)
			}
			r.addConnection(c)
		case OpMessageData:
			conn, err := h.uint32("conn")
			if err != nil {
				return dropped, errors.Join(derr, err)
			}
			t, err := h.time("time")
			if err != nil {
				return dropped, errors.Join(derr, err)
			}
			if _, ok := r.conns[conn]; !ok {
				dropped++
				break
			}
			r.index = append(r.index, msgRef{t: t, chunk: ci, conn: conn, offset: uint32(off)})
			if first || t.Before(ref.start) {
				ref.start = t
			}
			if first || t.After(ref.end) {
				ref.end = t
			}
			first = false
		}
		off += n
	}
	return dropped, derr
}

// chunkBytes reads and decompresses a chunk; for a damaged or cut-short
// chunk it returns what decodes along with the error.
func (r *Reader) chunkBytes(ref *chunkRef) ([]byte, error) {
	comp := make([]byte, ref.dataLen)
	if _, err := r.ra.ReadAt(comp, ref.dataPos); err != nil {
		return nil, fmt.Errorf("bag: chunk data at %d: %w", ref.dataPos, err)
	}
	return decompressChunk(ref.compression, comp, ref.size)
}
