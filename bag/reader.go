package bag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"

	"go.uber.org/zap"
)

// chunkRef locates one chunk in the file.
type chunkRef struct {
	pos         int64  // offset of the chunk record
	dataPos     int64  // offset of its (compressed) data
	dataLen     int64  // bytes of data present in the file
	size        uint32 // uncompressed size from the chunk header
	compression string
	start, end  time.Time
}

// msgRef is one index entry: a message's receive time and where it is.
type msgRef struct {
	t      time.Time
	chunk  int32
	conn   uint32
	offset uint32
}

// Info summarises a bag.
type Info struct {
	Path        string
	Size        int64
	Start, End  time.Time
	Messages    int
	Chunks      int
	Compression map[string]int // chunks per compression
	Topics      map[string]TopicInfo
	// Indexed is false when the index was missing or unusable and was rebuilt
	// by scanning the file.
	Indexed bool
	// DamagedChunks counts chunks skipped as unreadable (their messages
	// are lost; every other message is kept). Warnings say which.
	DamagedChunks int
	Warnings      []string
}

// TopicInfo summarises one topic.
type TopicInfo struct {
	Type     string
	MD5Sum   string
	Messages int
	Conns    int
}

// Reader reads a bag through its index (rebuilt by scanning when absent).
// Iterators from one Reader may be used from different goroutines, each
// iterator from one goroutine at a time.
type Reader struct {
	ra     io.ReaderAt
	size   int64
	closer io.Closer
	log    *zap.Logger

	conns   map[uint32]*Connection
	byTopic map[string][]*Connection
	chunks  []chunkRef
	index   []msgRef // sorted by (t, chunk, offset)
	info    Info
}

// ReaderOption configures Open / NewReader.
type ReaderOption func(*Reader)

// WithLogger sends the reader's warnings (damaged or unindexed bags) to l.
func WithLogger(l *zap.Logger) ReaderOption {
	return func(r *Reader) { r.log = l }
}

// Open opens the bag at path.
func Open(path string, opts ...ReaderOption) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bag: open: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("bag: stat: %w", err), f.Close())
	}
	r, err := NewReader(f, st.Size(), opts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", path, err), f.Close())
	}
	r.closer = f
	r.info.Path = path
	return r, nil
}

// NewReader reads a bag of size bytes from ra.
func NewReader(ra io.ReaderAt, size int64, opts ...ReaderOption) (*Reader, error) {
	r := &Reader{
		ra: ra, size: size, log: zap.NewNop(),
		conns: map[uint32]*Connection{}, byTopic: map[string][]*Connection{},
	}
	for _, o := range opts {
		o(r)
	}
	r.info.Size = size
	magic := make([]byte, len(Magic))
	if _, err := ra.ReadAt(magic, 0); err != nil {
		return nil, fmt.Errorf("bag: reading magic: %w", err)
	}
	if string(magic) != Magic {
		if len(magic) > 9 && string(magic[:9]) == "#ROSBAG V" {
			return nil, fmt.Errorf("bag: unsupported bag version %q (only 2.0 is supported)", string(magic[:len(magic)-1]))
		}
		return nil, errors.New("bag: not a ROS bag (bad magic)")
	}
	indexPos, connCount, chunkCount, first, err := r.readBagHeader()
	switch {
	case err != nil:
		r.warn("bag header unreadable, scanning the whole file", zap.Error(err))
		err = r.scan(int64(len(Magic)))
	case indexPos == 0:
		r.warn("bag has no index (recording not closed?), rebuilding it by scanning")
		err = r.scan(first)
	default:
		if ierr := r.readIndex(int64(indexPos), connCount, chunkCount); ierr != nil {
			r.warn("bag index unusable, rebuilding it by scanning", zap.Error(ierr))
			r.reset()
			err = r.scan(first)
		} else {
			r.info.Indexed = true
		}
	}
	if err != nil {
		return nil, err
	}
	r.finishInfo()
	return r, nil
}

func (r *Reader) warn(msg string, fields ...zap.Field) {
	r.log.Warn(msg, fields...)
	s := msg
	for _, f := range fields {
		if f.Interface != nil {
			s += fmt.Sprintf(": %v", f.Interface)
		}
	}
	r.info.Warnings = append(r.info.Warnings, s)
}

func (r *Reader) reset() {
	r.conns = map[uint32]*Connection{}
	r.byTopic = map[string][]*Connection{}
	r.chunks = nil
	r.index = nil
}

// readRecordAt reads the record at off. Its data is cut to what the file
// holds; a record running past the end returns ErrTruncated with the header.
func (r *Reader) readRecordAt(off int64, withData bool) (h header, data []byte, next int64, err error) {
	var lb [4]byte
	if _, err := r.ra.ReadAt(lb[:], off); err != nil {
		return h, nil, 0, fmt.Errorf("bag: record at %d: %w", off, ErrTruncated)
	}
	hl := int64(binary.LittleEndian.Uint32(lb[:]))
	if hl > maxRecordPart || off+4+hl+4 > r.size {
		return h, nil, 0, fmt.Errorf("bag: record header at %d (%d bytes): %w", off, hl, ErrTruncated)
	}
	hb := make([]byte, hl+4)
	if _, err := r.ra.ReadAt(hb, off+4); err != nil {
		return h, nil, 0, fmt.Errorf("bag: record header at %d: %w", off, err)
	}
	h, err = parseHeader(hb[:hl])
	if err != nil {
		return h, nil, 0, err
	}
	dl := int64(binary.LittleEndian.Uint32(hb[hl:]))
	dataPos := off + 8 + hl
	next = dataPos + dl
	if dl > maxRecordPart {
		return h, nil, 0, fmt.Errorf("bag: record data length %d at %d is implausible", dl, off)
	}
	avail := min(dl, r.size-dataPos)
	if withData {
		data = make([]byte, avail)
		if _, err := r.ra.ReadAt(data, dataPos); err != nil && !errors.Is(err, io.EOF) {
			return h, nil, 0, fmt.Errorf("bag: record data at %d: %w", dataPos, err)
		}
	}
	if avail < dl {
		return h, data, next, fmt.Errorf("bag: record at %d wants %d data bytes, file has %d: %w", off, dl, avail, ErrTruncated)
	}
	return h, data, next, nil
}

func (r *Reader) readBagHeader() (indexPos uint64, connCount, chunkCount uint32, next int64, err error) {
	h, _, next, err := r.readRecordAt(int64(len(Magic)), false)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	op, err := h.op()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if op != OpBagHeader {
		return 0, 0, 0, 0, fmt.Errorf("bag: first record has op 0x%02x, want bag header 0x03", op)
	}
	if indexPos, err = h.uint64("index_pos"); err != nil {
		return 0, 0, 0, 0, err
	}
	if connCount, err = h.uint32("conn_count"); err != nil {
		return 0, 0, 0, 0, err
	}
	if chunkCount, err = h.uint32("chunk_count"); err != nil {
		return 0, 0, 0, 0, err
	}
	if indexPos != 0 && (indexPos < uint64(next) || indexPos > uint64(r.size)) {
		return 0, 0, 0, 0, fmt.Errorf("bag: index_pos %d outside the file (%d bytes)", indexPos, r.size)
	}
	return indexPos, connCount, chunkCount, next, nil
}

func (r *Reader) addConnection(c *Connection) {
	if _, dup := r.conns[c.ID]; dup {
		return
	}
	r.conns[c.ID] = c
	r.byTopic[c.Topic] = append(r.byTopic[c.Topic], c)
}

// readIndex loads connection and chunk info records from the index section,
// then each chunk's index data records.
func (r *Reader) readIndex(indexPos int64, connCount, chunkCount uint32) error {
	type ci struct {
		pos        int64
		start, end time.Time
	}
	var infos []ci
	for off := indexPos; off < r.size; {
		h, data, next, err := r.readRecordAt(off, true)
		if err != nil {
			return err
		}
		op, err := h.op()
		if err != nil {
			return err
		}
		switch op {
		case OpConnection:
			c, err := decodeConnection(h, data)
			if err != nil {
				return err
			}
			r.addConnection(c)
		case OpChunkInfo:
			pos, err := h.uint64("chunk_pos")
			if err != nil {
				return err
			}
			st, err := h.time("start_time")
			if err != nil {
				return err
			}
			en, err := h.time("end_time")
			if err != nil {
				return err
			}
			infos = append(infos, ci{int64(pos), st, en})
		default:
			return fmt.Errorf("bag: unexpected op 0x%02x in index section at %d", op, off)
		}
		off = next
	}
	if uint32(len(r.conns)) != connCount || uint32(len(infos)) != chunkCount {
		return fmt.Errorf("bag: index has %d connections and %d chunks, header says %d and %d",
			len(r.conns), len(infos), connCount, chunkCount)
	}
	for _, in := range infos {
		// A chunk whose record or index data is damaged costs only its own
		// messages: the other chunks are still read through the index.
		if err := r.indexChunk(in.pos, in.start, in.end); err != nil {
			r.info.DamagedChunks++
			r.warn("chunk damaged; its messages are skipped, every other message is read", zap.Int64("offset", in.pos), zap.Error(err))
		}
	}
	r.sortIndex()
	return nil
}

// indexChunk adds one chunk and its index data records, or nothing.
func (r *Reader) indexChunk(pos int64, start, end time.Time) error {
	h, _, next, err := r.readRecordAt(pos, false)
	if err != nil {
		return fmt.Errorf("bag: chunk at %d: %w", pos, err)
	}
	ref, err := chunkFromHeader(h, pos, next)
	if err != nil {
		return err
	}
	ref.start, ref.end = start, end
	ci := int32(len(r.chunks))
	mark := len(r.index)
	// Index data records follow the chunk until the next chunk.
	for off := next; off < r.size; {
		// Peek at the header first: the record after the last index data
		// record is the next chunk, whose data must not be read.
		// A record that does not read is the next chunk's damage (its
		// index entry says so), not this chunk's.
		ih, _, _, err := r.readRecordAt(off, false)
		if err != nil {
			break
		}
		if op, err := ih.op(); err != nil || op != OpIndexData {
			break
		}
		ih, data, inext, err := r.readRecordAt(off, true)
		if err == nil {
			err = r.addIndexData(ih, data, ci)
		}
		if err != nil {
			r.index = r.index[:mark]
			return fmt.Errorf("bag: index data after chunk at %d: %w", pos, err)
		}
		off = inext
	}
	r.chunks = append(r.chunks, ref)
	return nil
}

func chunkFromHeader(h header, pos, next int64) (chunkRef, error) {
	op, err := h.op()
	if err != nil {
		return chunkRef{}, err
	}
	if op != OpChunk {
		return chunkRef{}, fmt.Errorf("bag: record at %d has op 0x%02x, want chunk", pos, op)
	}
	comp, err := h.string("compression")
	if err != nil {
		return chunkRef{}, err
	}
	size, err := h.uint32("size")
	if err != nil {
		return chunkRef{}, err
	}
	hdrLen := int64(0)
	for _, f := range h.fields {
		hdrLen += 4 + int64(len(f.name)) + 1 + int64(len(f.value))
	}
	dataPos := pos + 8 + hdrLen
	return chunkRef{pos: pos, dataPos: dataPos, dataLen: next - dataPos, size: size, compression: comp}, nil
}

func (r *Reader) addIndexData(h header, data []byte, chunk int32) error {
	ver, err := h.uint32("ver")
	if err != nil {
		return err
	}
	if ver != 1 {
		return fmt.Errorf("bag: index data version %d unsupported", ver)
	}
	conn, err := h.uint32("conn")
	if err != nil {
		return err
	}
	count, err := h.uint32("count")
	if err != nil {
		return err
	}
	if uint64(count)*12 != uint64(len(data)) {
		return fmt.Errorf("bag: index data for connection %d: %d entries in %d bytes", conn, count, len(data))
	}
	if _, ok := r.conns[conn]; !ok {
		return fmt.Errorf("bag: index data for unknown connection %d", conn)
	}
	for i := 0; i < int(count); i++ {
		e := data[12*i:]
		r.index = append(r.index, msgRef{t: decodeTime(e), chunk: chunk, conn: conn, offset: binary.LittleEndian.Uint32(e[8:])})
	}
	return nil
}

func (r *Reader) sortIndex() {
	sort.SliceStable(r.index, func(i, j int) bool {
		a, b := &r.index[i], &r.index[j]
		if !a.t.Equal(b.t) {
			return a.t.Before(b.t)
		}
		if a.chunk != b.chunk {
			return a.chunk < b.chunk
		}
		return a.offset < b.offset
	})
}

func (r *Reader) finishInfo() {
	in := &r.info
	in.Chunks = len(r.chunks)
	in.Messages = len(r.index)
	in.Compression = map[string]int{}
	for _, c := range r.chunks {
		in.Compression[c.compression]++
	}
	in.Topics = map[string]TopicInfo{}
	for topic, cs := range r.byTopic {
		in.Topics[topic] = TopicInfo{Type: cs[0].Type, MD5Sum: cs[0].MD5Sum, Conns: len(cs)}
	}
	for _, m := range r.index {
		c := r.conns[m.conn]
		ti := in.Topics[c.Topic]
		ti.Messages++
		in.Topics[c.Topic] = ti
	}
	if len(r.index) > 0 {
		in.Start, in.End = r.index[0].t, r.index[len(r.index)-1].t
	}
}

// Info returns the bag summary (counts, time range, topics, warnings).
func (r *Reader) Info() Info { return r.info }

// Connections returns every connection, ordered by id.
func (r *Reader) Connections() []*Connection {
	out := make([]*Connection, 0, len(r.conns))
	for _, c := range r.conns {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Connection) int { return int(a.ID) - int(b.ID) })
	return out
}

// Topics returns the connections on topic (several when publishers differ).
func (r *Reader) Topics(topic string) []*Connection { return r.byTopic[topic] }

// Close closes the file if Open opened it.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	if err := r.closer.Close(); err != nil {
		return fmt.Errorf("bag: close: %w", err)
	}
	return nil
}
