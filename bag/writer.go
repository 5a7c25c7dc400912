package bag

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// DefaultChunkSize is the uncompressed chunk size at which the writer starts a
// new chunk (rosbag's default is 768 KiB).
const DefaultChunkSize = 768 * 1024

// WriterOptions configures a Writer. The zero value writes uncompressed
// chunks of DefaultChunkSize.
type WriterOptions struct {
	Compression string // CompressionNone (default) or CompressionLZ4
	ChunkSize   int
}

type indexEntry struct {
	t      time.Time
	offset uint32
}

type chunkInfo struct {
	pos        uint64
	start, end time.Time
	counts     map[uint32]uint32
}

// Writer writes a bag. It is not safe for concurrent use.
type Writer struct {
	dst    io.WriteSeeker
	bw     *bufio.Writer
	closer io.Closer
	opts   WriterOptions
	pos    uint64 // file offset of the next byte written through bw

	conns     []*Connection
	connByKey map[string]*Connection
	written   map[uint32]bool // connection record already in some chunk

	chunk      []byte
	chunkIndex map[uint32][]indexEntry
	chunkStart time.Time
	chunkEnd   time.Time
	chunkInfos []chunkInfo
	closed     bool
	types      TypeCache
}

// Create creates (truncating) a bag file at path.
func Create(path string, opts WriterOptions) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bag: create: %w", err)
	}
	w, err := NewWriter(f, opts)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	w.closer = f
	return w, nil
}

// NewWriter starts a bag on dst, which must be positioned at its start; the
// writer seeks back on Close to fill in the bag header.
func NewWriter(dst io.WriteSeeker, opts WriterOptions) (*Writer, error) {
	if opts.Compression == "" {
		opts.Compression = CompressionNone
	}
	if _, err := compressChunk(opts.Compression, nil); err != nil {
		return nil, err
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	w := &Writer{
		dst:        dst,
		bw:         bufio.NewWriterSize(dst, 1<<20),
		opts:       opts,
		connByKey:  map[string]*Connection{},
		written:    map[uint32]bool{},
		chunkIndex: map[uint32][]indexEntry{},
	}
	if err := w.write([]byte(Magic)); err != nil {
		return nil, err
	}
	// Placeholder; rewritten with the real index position on Close. A
	// recording cut short leaves index_pos 0, which readers treat as
	// "unindexed, scan it".
	if err := w.write(bagHeaderRecord(0, 0, 0)); err != nil {
		return nil, err
	}
	return w, nil
}

// bagHeaderRecord builds the bag header record with its header and
// space-padded data adding up to 4096 bytes (8 more with the two length
// fields), exactly as rosbag sizes it, so that rosbag can rewrite it in place
// (e.g. when appending or reindexing) without overwriting the first chunk.
func bagHeaderRecord(indexPos uint64, connCount, chunkCount uint32) []byte {
	var hb headerBuilder
	hb.addOp(OpBagHeader)
	hb.addUint64("index_pos", indexPos)
	hb.addUint32("conn_count", connCount)
	hb.addUint32("chunk_count", chunkCount)
	pad := bagHeaderLen - len(hb.buf)
	data := make([]byte, pad)
	for i := range data {
		data[i] = ' '
	}
	return appendRecord(nil, hb.buf, data)
}

func (w *Writer) write(b []byte) error {
	n, err := w.bw.Write(b)
	w.pos += uint64(n)
	if err != nil {
		return fmt.Errorf("bag: write: %w", err)
	}
	return nil
}

// Connection registers (or returns the already registered) connection for a
// topic and message type. md5 and def come from the message type; see
// ConnectionFor for goroslib message structs.
func (w *Writer) Connection(topic, msgType, md5, def, callerID string, latching bool) (*Connection, error) {
	if w.closed {
		return nil, errors.New("bag: writer is closed")
	}
	if topic == "" || msgType == "" || md5 == "" {
		return nil, fmt.Errorf("bag: connection needs topic, type and md5sum (got %q, %q, %q)", topic, msgType, md5)
	}
	key := topic + "\x00" + msgType + "\x00" + md5 + "\x00" + callerID
	if c, ok := w.connByKey[key]; ok {
		return c, nil
	}
	c := &Connection{
		ID: uint32(len(w.conns)), Topic: topic, Type: msgType, MD5Sum: md5, Def: def,
		CallerID: callerID, Latching: latching, Encoding: "ros1",
	}
	w.conns = append(w.conns, c)
	w.connByKey[key] = c
	return c, nil
}

// Write appends one serialized message (ROS 1 wire format, without the
// 4-byte length prefix) received at t on connection c.
func (w *Writer) Write(c *Connection, t time.Time, data []byte) error {
	if w.closed {
		return errors.New("bag: writer is closed")
	}
	if int(c.ID) >= len(w.conns) || w.conns[c.ID] != c {
		return fmt.Errorf("bag: connection %d (%s) does not belong to this writer", c.ID, c.Topic)
	}
	if !w.written[c.ID] {
		// rosbag puts a connection's record in the first chunk that uses it
		// so that a scan of a bag without its index still finds it.
		w.chunk = append(w.chunk, encodeConnectionRecord(c)...)
		w.written[c.ID] = true
	}
	if len(w.chunkIndex) == 0 {
		w.chunkStart, w.chunkEnd = t, t
	} else {
		if t.Before(w.chunkStart) {
			w.chunkStart = t
		}
		if t.After(w.chunkEnd) {
			w.chunkEnd = t
		}
	}
	w.chunkIndex[c.ID] = append(w.chunkIndex[c.ID], indexEntry{t: t, offset: uint32(len(w.chunk))})
	var hb headerBuilder
	hb.addOp(OpMessageData)
	hb.addUint32("conn", c.ID)
	hb.addTime("time", t)
	w.chunk = appendRecord(w.chunk, hb.buf, data)
	if len(w.chunk) >= w.opts.ChunkSize {
		return w.flushChunk()
	}
	return nil
}

// flushChunk writes the pending chunk record followed by its index data
// records.
func (w *Writer) flushChunk() error {
	if len(w.chunkIndex) == 0 {
		w.chunk = w.chunk[:0]
		return nil
	}
	payload, err := compressChunk(w.opts.Compression, w.chunk)
	if err != nil {
		return err
	}
	info := chunkInfo{pos: w.pos, start: w.chunkStart, end: w.chunkEnd, counts: map[uint32]uint32{}}
	var hb headerBuilder
	hb.addOp(OpChunk)
	hb.addString("compression", w.opts.Compression)
	hb.addUint32("size", uint32(len(w.chunk)))
	var lens [4]byte
	binary.LittleEndian.PutUint32(lens[:], uint32(len(hb.buf)))
	if err := w.write(lens[:]); err != nil {
		return err
	}
	if err := w.write(hb.buf); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(lens[:], uint32(len(payload)))
	if err := w.write(lens[:]); err != nil {
		return err
	}
	if err := w.write(payload); err != nil {
		return err
	}
	ids := make([]uint32, 0, len(w.chunkIndex))
	for id := range w.chunkIndex {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		entries := w.chunkIndex[id]
		info.counts[id] = uint32(len(entries))
		var ih headerBuilder
		ih.addOp(OpIndexData)
		ih.addUint32("ver", 1)
		ih.addUint32("conn", id)
		ih.addUint32("count", uint32(len(entries)))
		data := make([]byte, 12*len(entries))
		for i, e := range entries {
			encodeTime(data[12*i:], e.t)
			binary.LittleEndian.PutUint32(data[12*i+8:], e.offset)
		}
		if err := w.write(appendRecord(nil, ih.buf, data)); err != nil {
			return err
		}
	}
	w.chunkInfos = append(w.chunkInfos, info)
	w.chunk = w.chunk[:0]
	clear(w.chunkIndex)
	return nil
}

// Close flushes the last chunk, writes the index section and the final bag
// header, and closes the file if the writer opened it.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.finish()
	if w.closer != nil {
		err = errors.Join(err, w.closer.Close())
	}
	return err
}

func (w *Writer) finish() error {
	if err := w.flushChunk(); err != nil {
		return err
	}
	indexPos := w.pos
	for _, c := range w.conns {
		if err := w.write(encodeConnectionRecord(c)); err != nil {
			return err
		}
	}
	for _, ci := range w.chunkInfos {
		var hb headerBuilder
		hb.addOp(OpChunkInfo)
		hb.addUint32("ver", 1)
		hb.addUint64("chunk_pos", ci.pos)
		hb.addTime("start_time", ci.start)
		hb.addTime("end_time", ci.end)
		hb.addUint32("count", uint32(len(ci.counts)))
		ids := make([]uint32, 0, len(ci.counts))
		for id := range ci.counts {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		data := make([]byte, 0, 8*len(ids))
		for _, id := range ids {
			data = binary.LittleEndian.AppendUint32(data, id)
			data = binary.LittleEndian.AppendUint32(data, ci.counts[id])
		}
		if err := w.write(appendRecord(nil, hb.buf, data)); err != nil {
			return err
		}
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("bag: flush: %w", err)
	}
	if _, err := w.dst.Seek(int64(len(Magic)), io.SeekStart); err != nil {
		return fmt.Errorf("bag: seek to header: %w", err)
	}
	if _, err := w.dst.Write(bagHeaderRecord(indexPos, uint32(len(w.conns)), uint32(len(w.chunkInfos)))); err != nil {
		return fmt.Errorf("bag: rewrite header: %w", err)
	}
	if _, err := w.dst.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("bag: seek to end: %w", err)
	}
	return nil
}
