package bag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Magic is the first line of every bag of format version 2.0.
const Magic = "#ROSBAG V2.0\n"

// Record op codes (the "op" header field).
const (
	OpMessageData = 0x02
	OpBagHeader   = 0x03
	OpIndexData   = 0x04
	OpChunk       = 0x05
	OpChunkInfo   = 0x06
	OpConnection  = 0x07
)

// bagHeaderLen is the length rosbag reserves for the bag header record's
// header plus data (the two 4-byte length fields come on top), so the record
// can be rewritten in place once index_pos is known.
const bagHeaderLen = 4096

// maxRecordPart bounds a header or data length read from a file, so a corrupt
// length field cannot make the reader allocate gigabytes.
const maxRecordPart = 1 << 30

// ErrTruncated reports a record that runs past the end of the available bytes.
var ErrTruncated = errors.New("bag: truncated record")

// header is a parsed record header: the raw "name=value" fields, in file order.
type header struct {
	fields []field
}

type field struct {
	name  string
	value []byte
}

// parseHeader splits a record header into its fields. Values alias b.
func parseHeader(b []byte) (header, error) {
	var h header
	for len(b) > 0 {
		if len(b) < 4 {
			return h, fmt.Errorf("bag: header field length: %w", ErrTruncated)
		}
		n := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return h, fmt.Errorf("bag: header field of %d bytes with %d left: %w", n, len(b), ErrTruncated)
		}
		f := b[:n]
		b = b[n:]
		eq := -1
		for i, c := range f {
			if c == '=' {
				eq = i
				break
			}
		}
		if eq < 0 {
			return h, fmt.Errorf("bag: header field %q has no '='", truncateForError(f))
		}
		h.fields = append(h.fields, field{name: string(f[:eq]), value: f[eq+1:]})
	}
	return h, nil
}

func truncateForError(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}

func (h header) get(name string) ([]byte, bool) {
	for _, f := range h.fields {
		if f.name == name {
			return f.value, true
		}
	}
	return nil, false
}

func (h header) op() (byte, error) {
	v, ok := h.get("op")
	if !ok || len(v) != 1 {
		return 0, errors.New("bag: record header without a 1-byte op field")
	}
	return v[0], nil
}

func (h header) uint32(name string) (uint32, error) {
	v, ok := h.get(name)
	if !ok {
		return 0, fmt.Errorf("bag: header field %q missing", name)
	}
	if len(v) != 4 {
		return 0, fmt.Errorf("bag: header field %q has %d bytes, want 4", name, len(v))
	}
	return binary.LittleEndian.Uint32(v), nil
}

func (h header) uint64(name string) (uint64, error) {
	v, ok := h.get(name)
	if !ok {
		return 0, fmt.Errorf("bag: header field %q missing", name)
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("bag: header field %q has %d bytes, want 8", name, len(v))
	}
	return binary.LittleEndian.Uint64(v), nil
}

func (h header) time(name string) (time.Time, error) {
	v, ok := h.get(name)
	if !ok {
		return time.Time{}, fmt.Errorf("bag: header field %q missing", name)
	}
	if len(v) != 8 {
		return time.Time{}, fmt.Errorf("bag: header field %q has %d bytes, want 8", name, len(v))
	}
	return decodeTime(v), nil
}

func (h header) string(name string) (string, error) {
	v, ok := h.get(name)
	if !ok {
		return "", fmt.Errorf("bag: header field %q missing", name)
	}
	return string(v), nil
}

// decodeTime reads a ROS time: uint32 seconds then uint32 nanoseconds.
func decodeTime(b []byte) time.Time {
	sec := binary.LittleEndian.Uint32(b)
	nsec := binary.LittleEndian.Uint32(b[4:])
	return time.Unix(int64(sec), int64(nsec)).UTC()
}

// encodeTime writes a ROS time. Times before the epoch or past 2106 cannot be
// represented in a bag; they are clamped rather than wrapped so ordering holds.
func encodeTime(b []byte, t time.Time) {
	var sec, nsec uint32
	switch {
	case t.IsZero() || t.Unix() < 0:
	case t.Unix() > int64(^uint32(0)):
		sec, nsec = ^uint32(0), 999999999
	default:
		sec, nsec = uint32(t.Unix()), uint32(t.Nanosecond())
	}
	binary.LittleEndian.PutUint32(b, sec)
	binary.LittleEndian.PutUint32(b[4:], nsec)
}

// headerBuilder accumulates "name=value" fields in wire format.
type headerBuilder struct {
	buf []byte
}

func (hb *headerBuilder) add(name string, value []byte) {
	hb.buf = binary.LittleEndian.AppendUint32(hb.buf, uint32(len(name)+1+len(value)))
	hb.buf = append(hb.buf, name...)
	hb.buf = append(hb.buf, '=')
	hb.buf = append(hb.buf, value...)
}

func (hb *headerBuilder) addOp(op byte) { hb.add("op", []byte{op}) }

func (hb *headerBuilder) addUint32(name string, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	hb.add(name, b[:])
}

func (hb *headerBuilder) addUint64(name string, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	hb.add(name, b[:])
}

func (hb *headerBuilder) addTime(name string, t time.Time) {
	var b [8]byte
	encodeTime(b[:], t)
	hb.add(name, b[:])
}

func (hb *headerBuilder) addString(name, v string) { hb.add(name, []byte(v)) }

// appendRecord appends a whole record (header_len, header, data_len, data).
func appendRecord(dst, hdr, data []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(hdr)))
	dst = append(dst, hdr...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(data)))
	return append(dst, data...)
}

// splitRecord parses the record at the start of b and returns its header
// bytes, data bytes and total length. When the data part is cut short it
// returns the available data and ErrTruncated, so callers can salvage it.
func splitRecord(b []byte) (hdr, data []byte, n int, err error) {
	if len(b) < 4 {
		return nil, nil, 0, fmt.Errorf("bag: record header length: %w", ErrTruncated)
	}
	hl := binary.LittleEndian.Uint32(b)
	if hl > maxRecordPart {
		return nil, nil, 0, fmt.Errorf("bag: record header length %d is implausible", hl)
	}
	if uint64(len(b)) < 8+uint64(hl) {
		return nil, nil, 0, fmt.Errorf("bag: record header of %d bytes: %w", hl, ErrTruncated)
	}
	hdr = b[4 : 4+hl]
	dl := binary.LittleEndian.Uint32(b[4+hl:])
	if dl > maxRecordPart {
		return nil, nil, 0, fmt.Errorf("bag: record data length %d is implausible", dl)
	}
	start := 8 + int(hl)
	if uint64(len(b)) < uint64(start)+uint64(dl) {
		return hdr, b[start:], len(b), fmt.Errorf("bag: record data of %d bytes, %d present: %w", dl, len(b)-start, ErrTruncated)
	}
	return hdr, b[start : start+int(dl)], start + int(dl), nil
}
