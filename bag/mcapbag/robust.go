package mcapbag

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"time"

	"github.com/foxglove/mcap/go/mcap"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
)

// MaxChunkBytes bounds one chunk's decompressed size and one record's size:
// a size read from a file is never trusted beyond it (nor beyond the file).
const MaxChunkBytes = 512 << 20

// MCAP record opcodes read here.
const (
	opSchema  = 0x03
	opChannel = 0x04
	opMessage = 0x05
	opChunk   = 0x06
)

// chunkRef is one chunk of the summary, checked at Open.
type chunkRef struct {
	index mcap.ChunkIndex
	bad   error // why the chunk is skipped (nil: readable)
}

// checkChunks validates every chunk index against the file and the bound,
// reading each chunk's own header; it reports whether any is damaged.
func (r *Reader) checkChunks(idx []*mcap.ChunkIndex) bool {
	damaged := false
	for _, ci := range idx {
		ref := chunkRef{index: *ci, bad: r.checkChunk(ci)}
		if ref.bad != nil {
			damaged = true
			r.info.DamagedChunks++
			r.warn(fmt.Sprintf("chunk at offset %d is damaged; its messages are skipped", ci.ChunkStartOffset), ref.bad)
		}
		r.chunks = append(r.chunks, ref)
	}
	sort.SliceStable(r.chunks, func(i, j int) bool {
		return r.chunks[i].index.MessageStartTime < r.chunks[j].index.MessageStartTime
	})
	return damaged
}

func (r *Reader) checkChunk(ci *mcap.ChunkIndex) error {
	end := ci.ChunkStartOffset + ci.ChunkLength
	switch {
	case ci.ChunkLength < 9+8*3+4+4+8 || end < ci.ChunkStartOffset || end > uint64(r.size):
		return fmt.Errorf("chunk of %d bytes at %d does not fit the %d-byte file", ci.ChunkLength, ci.ChunkStartOffset, r.size)
	case ci.ChunkLength > MaxChunkBytes:
		return fmt.Errorf("chunk of %d bytes exceeds the %d-byte bound", ci.ChunkLength, MaxChunkBytes)
	}
	var hdr [9 + 8*3]byte
	if _, err := r.ra.ReadAt(hdr[:], int64(ci.ChunkStartOffset)); err != nil {
		return err
	}
	if hdr[0] != opChunk || binary.LittleEndian.Uint64(hdr[1:]) != ci.ChunkLength-9 {
		return errors.New("no chunk record where the index points")
	}
	if u := binary.LittleEndian.Uint64(hdr[25:]); u > MaxChunkBytes || u != ci.UncompressedSize {
		return fmt.Errorf("uncompressed size %d (index %d, bound %d)", u, ci.UncompressedSize, MaxChunkBytes)
	}
	return nil
}

// chunkRecords reads, bounds-checks, decompresses and CRC-checks one chunk
// record (body after opcode and length) and returns its inner records.
func chunkRecords(body []byte) ([]byte, error) {
	ch, err := parseChunk(body)
	if err != nil {
		return nil, err
	}
	if ch.UncompressedSize > MaxChunkBytes {
		return nil, fmt.Errorf("uncompressed size %d exceeds the %d-byte bound", ch.UncompressedSize, MaxChunkBytes)
	}
	var out []byte
	switch mcap.CompressionFormat(ch.Compression) {
	case mcap.CompressionNone:
		out = ch.Records
	case mcap.CompressionLZ4:
		out = make([]byte, ch.UncompressedSize)
		if _, err := io.ReadFull(lz4.NewReader(bytes.NewReader(ch.Records)), out); err != nil {
			return nil, fmt.Errorf("lz4: %w", err)
		}
	case mcap.CompressionZSTD:
		d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(MaxChunkBytes))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		if out, err = d.DecodeAll(ch.Records, make([]byte, 0, ch.UncompressedSize)); err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
	default:
		return nil, fmt.Errorf("unknown chunk compression %q", ch.Compression)
	}
	if uint64(len(out)) != ch.UncompressedSize {
		return nil, fmt.Errorf("chunk decompressed to %d bytes, header says %d", len(out), ch.UncompressedSize)
	}
	if ch.UncompressedCRC != 0 && crc32.ChecksumIEEE(out) != ch.UncompressedCRC {
		return nil, errors.New("chunk CRC mismatch")
	}
	return out, nil
}

// parseChunk decodes a chunk record body (the MCAP spec's layout), every
// length checked against the record: outside bytes.
func parseChunk(b []byte) (*mcap.Chunk, error) {
	var ch mcap.Chunk
	if len(b) < 8+8+8+4+4 {
		return nil, errors.New("chunk record too short")
	}
	ch.MessageStartTime = binary.LittleEndian.Uint64(b)
	ch.MessageEndTime = binary.LittleEndian.Uint64(b[8:])
	ch.UncompressedSize = binary.LittleEndian.Uint64(b[16:])
	ch.UncompressedCRC = binary.LittleEndian.Uint32(b[24:])
	n := uint64(binary.LittleEndian.Uint32(b[28:]))
	b = b[32:]
	if n > uint64(len(b)) {
		return nil, fmt.Errorf("chunk compression name of %d bytes overruns the record", n)
	}
	ch.Compression, b = string(b[:n]), b[n:]
	if len(b) < 8 {
		return nil, errors.New("chunk record truncated before its records")
	}
	n, b = binary.LittleEndian.Uint64(b), b[8:]
	if n > uint64(len(b)) {
		return nil, fmt.Errorf("chunk records of %d bytes overrun the record (%d left)", n, len(b))
	}
	ch.Records = b[:n]
	return &ch, nil
}

// parseSafely runs one of the MCAP library's record parsers on outside
// bytes, turning a panic (some index unchecked there) into an error.
func parseSafely[T any](parse func([]byte) (T, error), body []byte) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed record: %v", p)
		}
	}()
	return parse(body)
}

// robustIterator reads the summary's readable chunks in start-time order,
// skipping the damaged ones: a damaged chunk costs only its own messages.
type robustIterator struct {
	r      *Reader
	ctx    context.Context
	q      bag.Query
	topics map[string]bool
	next   int    // next chunk
	recs   []byte // inner records of the current chunk
	pend   []bag.Message
	cur    bag.Message
	err    error
	lost   int
	// fill loads more messages into pend; false at the end.
	fill func() bool
}

func (r *Reader) readRobust(ctx context.Context, q bag.Query) bag.MessageIterator {
	it := &robustIterator{r: r, ctx: ctx, q: q}
	it.fill = it.nextChunk
	if len(q.Topics) > 0 {
		it.topics = map[string]bool{}
		for _, t := range q.Topics {
			it.topics[t] = true
		}
	}
	return it
}

func (it *robustIterator) Next() bool {
	for {
		if it.err != nil {
			return false
		}
		if err := it.ctx.Err(); err != nil {
			it.err = fmt.Errorf("mcapbag: iteration cancelled: %w", err)
			return false
		}
		if len(it.pend) > 0 {
			it.cur, it.pend = it.pend[0], it.pend[1:]
			return true
		}
		if !it.fill() {
			return false
		}
	}
}

// nextChunk loads the next readable summary chunk into pend; false when
// none is left.
func (it *robustIterator) nextChunk() bool {
	for it.next < len(it.r.chunks) {
		ref := it.r.chunks[it.next]
		it.next++
		if ref.bad != nil || !it.overlaps(ref.index) {
			continue
		}
		if err := it.loadChunk(ref.index); err != nil {
			it.lost++
			it.r.log.Warn("skipping an unreadable MCAP chunk", zap.Uint64("offset", ref.index.ChunkStartOffset), zap.Error(err))
		}
		return true
	}
	return false
}

func (it *robustIterator) overlaps(ci mcap.ChunkIndex) bool {
	if !it.q.Start.IsZero() && it.q.Start.UnixNano() > 0 && ci.MessageEndTime < uint64(it.q.Start.UnixNano()) {
		return false
	}
	return it.q.End.IsZero() || it.q.End.UnixNano() < 0 || ci.MessageStartTime <= uint64(it.q.End.UnixNano())
}

// loadChunk parses one chunk's records into pending messages (in the
// chunk's order, sorted by log time).
func (it *robustIterator) loadChunk(ci mcap.ChunkIndex) error {
	rec := make([]byte, ci.ChunkLength)
	if _, err := it.r.ra.ReadAt(rec, int64(ci.ChunkStartOffset)); err != nil {
		return err
	}
	recs, err := chunkRecords(rec[9:])
	if err != nil {
		return err
	}
	return it.collect(recs, true)
}

// collect parses a record sequence into pending messages (sorted by log
// time when sorted is set: one chunk's messages).
func (it *robustIterator) collect(recs []byte, sorted bool) error {
	var msgs []bag.Message
	err := forEachRecord(recs, func(op byte, body []byte) error {
		switch op {
		case opSchema:
			s, err := parseSafely(mcap.ParseSchema, body)
			if err != nil {
				return err
			}
			it.r.schemas[s.ID] = s
		case opChannel:
			ch, err := parseSafely(mcap.ParseChannel, body)
			if err != nil {
				return err
			}
			it.r.addChannel(it.r.schemas[ch.SchemaID], ch)
		case opMessage:
			m, err := parseSafely(mcap.ParseMessage, body)
			if err != nil {
				return err
			}
			c := it.r.conns[m.ChannelID]
			if c == nil {
				return fmt.Errorf("message on unknown channel %d", m.ChannelID)
			}
			t := time.Unix(0, int64(m.LogTime)).UTC()
			if (it.topics != nil && !it.topics[c.Topic]) || (!it.q.Start.IsZero() && t.Before(it.q.Start)) || (!it.q.End.IsZero() && t.After(it.q.End)) {
				return nil
			}
			msgs = append(msgs, bag.Message{Conn: c, Time: t, Data: append([]byte(nil), m.Data...)})
		}
		return nil
	})
	if sorted {
		sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].Time.Before(msgs[j].Time) })
	}
	it.pend = append(it.pend, msgs...)
	return err
}

// forEachRecord walks a record sequence (opcode, u64 length, body), every
// length checked against what is left.
func forEachRecord(b []byte, fn func(op byte, body []byte) error) error {
	for len(b) > 0 {
		if len(b) < 9 {
			return errors.New("truncated record header")
		}
		op, n := b[0], binary.LittleEndian.Uint64(b[1:9])
		if n > uint64(len(b)-9) {
			return fmt.Errorf("record of %d bytes overruns its chunk (%d left)", n, len(b)-9)
		}
		if err := fn(op, b[9:9+n]); err != nil {
			return err
		}
		b = b[9+n:]
	}
	return nil
}

// sequentialIterator reads an MCAP without a usable summary in file order,
// record by record, every length checked against the file and the bound;
// a damaged chunk is skipped, a record that does not fit ends the read
// (a recording cut short), keeping every whole message before it.
type sequentialIterator struct {
	robustIterator
	off int64
}

func (r *Reader) readSequential(ctx context.Context, q bag.Query) bag.MessageIterator {
	it := &sequentialIterator{robustIterator: *r.readRobust(ctx, q).(*robustIterator), off: int64(len(Magic))}
	it.fill = it.record
	return &it.robustIterator
}

// record reads the next top-level record into pend; false at the end.
func (it *sequentialIterator) record() bool {
	r := it.r
	var hdr [9]byte
	if it.off+9 > r.size {
		return false
	}
	if _, err := r.ra.ReadAt(hdr[:], it.off); err != nil {
		return false
	}
	op, n := hdr[0], binary.LittleEndian.Uint64(hdr[1:])
	if n > uint64(r.size-it.off-9) || n > MaxChunkBytes {
		if op != 0x89 { // the footer magic is no record
			r.log.Warn("mcap read stopped at a record that does not fit the file", zap.Int64("offset", it.off), zap.Uint64("length", n))
		}
		return false
	}
	body := make([]byte, n)
	if _, err := r.ra.ReadAt(body, it.off+9); err != nil {
		return false
	}
	it.off += 9 + int64(n)
	var err error
	switch op {
	case opChunk:
		var recs []byte
		if recs, err = chunkRecords(body); err == nil {
			err = it.collect(recs, true)
		}
	case opSchema, opChannel, opMessage:
		rec := make([]byte, 9+len(body))
		copy(rec, hdr[:])
		copy(rec[9:], body)
		err = it.collect(rec, false)
	}
	if err != nil {
		it.lost++
		r.log.Warn("skipping an unreadable MCAP record", zap.Int64("offset", it.off-9-int64(n)), zap.Error(err))
	}
	return true
}

func (it *robustIterator) Message() bag.Message { return it.cur }
func (it *robustIterator) Err() error           { return it.err }
