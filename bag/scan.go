package bag

import (
	"bytes"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// scan rebuilds the index by walking every record from off to the end of the
// file, as `rosbag reindex` does. It keeps every whole message it finds; at
// a record it cannot frame it resynchronizes on the next chunk record
// (resync), so one corrupt length field costs the bytes up to the next
// chunk, not the rest of the file. The closing warning says what was kept
// and what was lost.
func (r *Reader) scan(off int64) error {
	dropped, skipped, resyncs := 0, int64(0), 0
	defer func() {
		msg := fmt.Sprintf("scan kept %d messages in %d chunks", len(r.index), len(r.chunks))
		if skipped > 0 {
			msg += fmt.Sprintf("; skipped %d unreadable bytes in %d places (the messages there are lost)", skipped, resyncs)
		}
		r.warn(msg)
	}()
	for off < r.size {
		h, _, next, err := r.readRecordAt(off, false)
		truncated := errors.Is(err, ErrTruncated) && h.fields != nil
		var oerr error
		if err == nil || truncated {
			_, oerr = h.op()
		}
		if (err != nil && !truncated) || oerr != nil {
			at, ok := r.resync(off + 1)
			if !ok {
				r.warn("stopped scanning at an unreadable record; nothing readable after it", zap.Int64("offset", off), zap.Error(errors.Join(err, oerr)))
				skipped += r.size - off
				resyncs++
				break
			}
			r.warn("unreadable record; resynchronized on the next chunk", zap.Int64("offset", off), zap.Int64("resumed_at", at), zap.Error(errors.Join(err, oerr)))
			skipped += at - off
			resyncs++
			off = at
			continue
		}
		op, _ := h.op()
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
				at, ok := r.resync(off + 1)
				r.warn("bad chunk header; resynchronizing on the next chunk", zap.Int64("offset", off), zap.Bool("found", ok), zap.Error(cerr))
				if !ok {
					skipped += r.size - off
					resyncs++
					return r.finishScan(dropped)
				}
				skipped += at - off
				resyncs++
				off = at
				continue
			}
			if truncated {
				// Cut short, or its length field is corrupt: its data runs
				// to the next chunk found, or to the end of the file.
				ref.dataLen = r.size - ref.dataPos
				if at, ok := r.resync(ref.dataPos); ok {
					ref.dataLen, next, truncated = at-ref.dataPos, at, false
				}
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

// resyncWindow bounds how far back from an "op=chunk" field a record start
// is looked for (a chunk header's fields before op are short).
const resyncWindow = 256

// chunkOpField is a chunk record header's op field: length 4, "op=", 0x05.
var chunkOpField = []byte{4, 0, 0, 0, 'o', 'p', '=', OpChunk}

// resync finds the first offset at or after from where a whole chunk
// record header parses (searching for its op field and backing off to a
// record start); ok is false when none is left.
func (r *Reader) resync(from int64) (int64, bool) {
	const block = 1 << 20
	buf := make([]byte, block+len(chunkOpField))
	for pos := from; pos < r.size; pos += block {
		n, _ := r.ra.ReadAt(buf, pos)
		if n <= 0 {
			return 0, false
		}
		for i := 0; i+len(chunkOpField) <= n; {
			k := bytes.Index(buf[i:n], chunkOpField)
			if k < 0 {
				break
			}
			field := pos + int64(i+k)
			for start := max(from, field-resyncWindow); start <= field-4; start++ {
				if h, _, _, err := r.readRecordAt(start, false); (err == nil || errors.Is(err, ErrTruncated) && h.fields != nil) && h.fields != nil {
					if op, err := h.op(); err == nil && op == OpChunk {
						return start, true
					}
				}
			}
			i += k + 1
		}
	}
	return 0, false
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
