package mcapbag

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/foxglove/mcap/go/mcap"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
)

// Magic is the first 8 bytes of an MCAP file.
const Magic = "\x89MCAP0\r\n"

// Reader reads an MCAP file as a bag.Source. With a summary section it seeks
// through the chunk indexes in log-time order; without one (a recording cut
// short) it reads in file order up to the damage and keeps every whole
// message before it.
type Reader struct {
	ra      io.ReaderAt
	size    int64
	closer  io.Closer
	log     *zap.Logger
	indexed bool
	info    bag.Info
	conns   map[uint16]*bag.Connection
	schemas map[uint16]*mcap.Schema
	// robust: some chunk of the summary is damaged, so reads go chunk by
	// chunk (robust.go) and skip it instead of failing the whole file.
	robust bool
	chunks []chunkRef
}

var _ bag.Source = (*Reader)(nil)

// Open opens the MCAP file at path.
func Open(path string, log *zap.Logger) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mcapbag: open: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("mcapbag: stat: %w", err), f.Close())
	}
	r, err := NewReader(f, st.Size(), log)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", path, err), f.Close())
	}
	r.closer = f
	r.info.Path = path
	return r, nil
}

// NewReader reads an MCAP stream of size bytes from ra.
func NewReader(ra io.ReaderAt, size int64, log *zap.Logger) (*Reader, error) {
	if log == nil {
		log = zap.NewNop()
	}
	r := &Reader{ra: ra, size: size, log: log, conns: map[uint16]*bag.Connection{}, schemas: map[uint16]*mcap.Schema{}}
	r.info.Size = size
	r.info.Topics = map[string]bag.TopicInfo{}
	magic := make([]byte, len(Magic))
	if _, err := ra.ReadAt(magic, 0); err != nil || string(magic) != Magic {
		return nil, errors.New("mcapbag: not an MCAP file (bad magic)")
	}
	mr, err := mcap.NewReader(io.NewSectionReader(ra, 0, size))
	if err != nil {
		return nil, fmt.Errorf("mcapbag: %w", err)
	}
	info, ierr := mr.Info()
	if ierr == nil && info.Statistics != nil && len(info.ChunkIndexes) > 0 {
		r.indexed = true
		r.info.Indexed = true
		for id, s := range info.Schemas {
			r.schemas[id] = s
		}
		r.robust = r.checkChunks(info.ChunkIndexes)
		for id, ch := range info.Channels {
			r.addChannel(info.Schemas[ch.SchemaID], ch)
			ti := r.info.Topics[ch.Topic]
			ti.Messages += int(info.Statistics.ChannelMessageCounts[id])
			r.info.Topics[ch.Topic] = ti
		}
		r.info.Messages = int(info.Statistics.MessageCount)
		r.info.Chunks = len(info.ChunkIndexes)
		r.info.Compression = map[string]int{}
		for _, ci := range info.ChunkIndexes {
			c := string(ci.Compression)
			if c == "" {
				c = "none"
			}
			r.info.Compression[c]++
		}
		if r.info.Messages > 0 {
			r.info.Start = time.Unix(0, int64(info.Statistics.MessageStartTime)).UTC()
			r.info.End = time.Unix(0, int64(info.Statistics.MessageEndTime)).UTC()
		}
	} else {
		msg := "MCAP has no usable summary (recording cut short?); reading in file order and keeping every whole message"
		r.warn(msg, ierr)
		if err := r.countUnindexed(); err != nil {
			return nil, err
		}
	}
	for _, c := range r.conns {
		if c.Encoding != EncodingROS1 && c.Encoding != EncodingCDR {
			r.warn(fmt.Sprintf("topic %s has message encoding %q, which cannot be decoded (supported: ros1, cdr)", c.Topic, c.Encoding), nil)
		}
	}
	return r, nil
}

func (r *Reader) warn(msg string, err error) {
	if err != nil {
		r.log.Warn(msg, zap.Error(err))
		msg += ": " + err.Error()
	} else {
		r.log.Warn(msg)
	}
	r.info.Warnings = append(r.info.Warnings, msg)
}

func (r *Reader) addChannel(s *mcap.Schema, ch *mcap.Channel) *bag.Connection {
	if c, ok := r.conns[ch.ID]; ok {
		return c
	}
	c := &bag.Connection{ID: uint32(ch.ID), Topic: ch.Topic, MD5Sum: "*", Encoding: ch.MessageEncoding}
	if s != nil {
		c.Type, c.Def = bag.NormalizeType(s.Name), string(s.Data)
	}
	if md5, ok := ch.Metadata["md5sum"]; ok && md5 != "" {
		c.MD5Sum = md5
	}
	c.CallerID = ch.Metadata["callerid"]
	c.Latching = ch.Metadata["latching"] == "1"
	r.conns[ch.ID] = c
	ti := r.info.Topics[ch.Topic]
	ti.Type, ti.MD5Sum = c.Type, c.MD5Sum
	ti.Conns++
	r.info.Topics[ch.Topic] = ti
	return c
}

// countUnindexed walks the file once to learn its channels and counts.
func (r *Reader) countUnindexed() error {
	it := r.Read(context.Background(), bag.Query{})
	first := true
	for it.Next() {
		m := it.Message()
		ti := r.info.Topics[m.Conn.Topic]
		ti.Messages++
		r.info.Topics[m.Conn.Topic] = ti
		r.info.Messages++
		if first || m.Time.Before(r.info.Start) {
			r.info.Start = m.Time
		}
		if first || m.Time.After(r.info.End) {
			r.info.End = m.Time
		}
		first = false
	}
	return it.Err()
}

// Info returns the recording summary.
func (r *Reader) Info() bag.Info { return r.info }

// Read iterates the messages selected by q: in log-time order when the file is
// indexed, in file order otherwise.
func (r *Reader) Read(ctx context.Context, q bag.Query) bag.MessageIterator {
	if r.robust {
		return r.readRobust(ctx, q)
	}
	if !r.indexed {
		return r.readSequential(ctx, q)
	}
	it := &Iterator{r: r, ctx: ctx, q: q}
	mr, err := mcap.NewReader(io.NewSectionReader(r.ra, 0, r.size))
	if err != nil {
		it.err = fmt.Errorf("mcapbag: %w", err)
		return it
	}
	opts := []mcap.ReadOpt{mcap.UsingIndex(r.indexed)}
	if r.indexed {
		opts = append(opts, mcap.InOrder(mcap.LogTimeOrder))
	}
	if len(q.Topics) > 0 {
		opts = append(opts, mcap.WithTopics(q.Topics))
	}
	if !q.Start.IsZero() && q.Start.UnixNano() > 0 {
		opts = append(opts, mcap.AfterNanos(uint64(q.Start.UnixNano())))
	}
	if !q.End.IsZero() {
		end := uint64(0)
		if q.End.UnixNano() > 0 {
			end = uint64(q.End.UnixNano())
		}
		if end < math.MaxUint64 {
			end++ // Query.End is inclusive, mcap's end is exclusive
		}
		opts = append(opts, mcap.BeforeNanos(end))
	}
	it.mi, it.err = mr.Messages(opts...)
	if it.err != nil {
		it.err = fmt.Errorf("mcapbag: %w", it.err)
	}
	return it
}

// Iterator walks MCAP messages as bag.Messages.
type Iterator struct {
	r   *Reader
	ctx context.Context
	q   bag.Query
	mi  mcap.MessageIterator
	cur bag.Message
	err error
	end bool
	// fallback continues chunk by chunk after the library's indexed
	// iterator met a damaged chunk; delivered messages are skipped by
	// (time, count at that time).
	fallback  bag.MessageIterator
	lastT     time.Time
	atLastT   int
	skipLastT int
}

// Next advances to the next message.
func (it *Iterator) Next() bool {
	if it.fallback != nil {
		return it.nextFallback()
	}
	if it.err != nil || it.end {
		return false
	}
	if err := it.ctx.Err(); err != nil {
		it.err = fmt.Errorf("mcapbag: iteration cancelled: %w", err)
		return false
	}
	s, ch, m, err := it.mi.NextInto(nil)
	if err != nil {
		it.end = true
		if errors.Is(err, io.EOF) {
			return false
		}
		if !it.r.indexed {
			// The damage was announced at Open; what came before is kept.
			it.r.log.Warn("mcap read stopped at damaged or truncated data", zap.Error(err))
			return false
		}
		// A damaged chunk the header checks could not see (bad payload or
		// CRC): go on chunk by chunk, skipping it, after what was read.
		it.r.log.Warn("damaged MCAP chunk: reading on chunk by chunk, skipping it", zap.Error(err))
		it.end = false
		q := it.q
		if !it.lastT.IsZero() {
			q.Start = it.lastT
		}
		it.fallback, it.skipLastT = it.r.readRobust(it.ctx, q), it.atLastT
		return it.nextFallback()
	}
	c := it.r.conns[ch.ID]
	if c == nil {
		c = it.r.addChannel(s, ch)
	}
	it.cur = bag.Message{Conn: c, Time: time.Unix(0, int64(m.LogTime)).UTC(), Data: m.Data}
	it.note(it.cur.Time)
	return true
}

func (it *Iterator) note(t time.Time) {
	if t.Equal(it.lastT) {
		it.atLastT++
	} else {
		it.lastT, it.atLastT = t, 1
	}
}

func (it *Iterator) nextFallback() bool {
	for it.fallback.Next() {
		m := it.fallback.Message()
		if m.Time.Equal(it.lastT) && it.skipLastT > 0 {
			it.skipLastT-- // delivered before the damage
			continue
		}
		it.cur = m
		return true
	}
	it.err = it.fallback.Err()
	return false
}

// Message returns the current message; its Data stays valid.
func (it *Iterator) Message() bag.Message { return it.cur }

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// Close closes the file if Open opened it.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	if err := r.closer.Close(); err != nil {
		return fmt.Errorf("mcapbag: close: %w", err)
	}
	return nil
}
