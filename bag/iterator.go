package bag

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag/cdr"
)

// Message is one message read from a bag. Data is the ROS 1 serialized
// payload; it stays valid after the iterator moves on.
type Message struct {
	Conn *Connection
	Time time.Time // receive time recorded by the bag
	Data []byte
}

// Decode deserializes the payload into dest (a pointer to a goroslib message
// struct). It first checks that dest is the connection's type (by md5sum, or
// by type name where the md5sum is unknown, "*"), so a mismatch is reported
// instead of producing garbage. CDR payloads (MCAP recordings from ROS 2) are
// decoded with package bag/cdr's rules.
func (m Message) Decode(types *TypeCache, dest any) error {
	ti, err := types.Info(dest)
	if err != nil {
		return err
	}
	if m.Conn.MD5Sum != "*" && m.Conn.MD5Sum != "" {
		if ti.MD5Sum != m.Conn.MD5Sum {
			return fmt.Errorf("bag: topic %s has type %s (md5 %s), cannot decode into %s (md5 %s)",
				m.Conn.Topic, m.Conn.Type, m.Conn.MD5Sum, ti.Type, ti.MD5Sum)
		}
	} else if NormalizeType(m.Conn.Type) != ti.Type {
		return fmt.Errorf("bag: topic %s has type %s, cannot decode into %s", m.Conn.Topic, m.Conn.Type, ti.Type)
	}
	switch m.Conn.Encoding {
	case "", "ros1":
		err = DecodeROS1(m.Data, dest)
	case "cdr":
		err = cdr.Decode(m.Data, dest)
	default:
		return fmt.Errorf("bag: topic %s has message encoding %q (supported: ros1, cdr)", m.Conn.Topic, m.Conn.Encoding)
	}
	if err != nil {
		return fmt.Errorf("topic %s: %w", m.Conn.Topic, err)
	}
	return nil
}

// NormalizeType maps a ROS 2 type name ("sensor_msgs/msg/Image") to the
// ROS 1 form ("sensor_msgs/Image"); ROS 1 names pass through.
func NormalizeType(t string) string {
	if i := strings.Index(t, "/msg/"); i >= 0 {
		return t[:i] + "/" + t[i+5:]
	}
	return t
}

// Query selects messages. Zero values select everything.
type Query struct {
	Topics []string
	Start  time.Time // inclusive
	End    time.Time // inclusive; zero means no end
}

// chunkCacheSize is how many decompressed chunks an iterator keeps; index
// order interleaves chunks only where their time ranges overlap.
const chunkCacheSize = 4

type cachedChunk struct {
	idx  int32
	data []byte
	err  error // why data is short or nil, for a damaged chunk
}

// Iterator walks messages in receive-time order.
type Iterator struct {
	r     *Reader
	ctx   context.Context
	refs  []msgRef
	i     int
	cur   Message
	err   error
	cache []cachedChunk
	// skipped counts unreadable messages; warned marks chunks already
	// reported.
	skipped int
	warned  map[int32]bool
}

// Messages returns an iterator over the messages selected by q, ordered by
// receive time (ties in file order).
func (r *Reader) Messages(ctx context.Context, q Query) *Iterator {
	refs := r.index
	if !q.Start.IsZero() {
		lo := sort.Search(len(refs), func(i int) bool { return !refs[i].t.Before(q.Start) })
		refs = refs[lo:]
	}
	if !q.End.IsZero() {
		hi := sort.Search(len(refs), func(i int) bool { return refs[i].t.After(q.End) })
		refs = refs[:hi]
	}
	if len(q.Topics) > 0 {
		want := map[uint32]bool{}
		for _, t := range q.Topics {
			for _, c := range r.byTopic[t] {
				want[c.ID] = true
			}
		}
		sel := make([]msgRef, 0, len(refs)/2)
		for _, m := range refs {
			if want[m.conn] {
				sel = append(sel, m)
			}
		}
		refs = sel
	}
	return &Iterator{r: r, ctx: ctx, refs: refs}
}

// Len is the number of messages the iterator will visit.
func (it *Iterator) Len() int { return len(it.refs) }

// Next advances to the next message; it returns false at the end or when
// the context ends. Messages in a chunk that turns out damaged (bad
// compression, corrupt record) are skipped with a warning and counted in
// Skipped; the rest of the bag is still read.
func (it *Iterator) Next() bool {
	for it.err == nil && it.i < len(it.refs) {
		if err := it.ctx.Err(); err != nil {
			it.err = err
			return false
		}
		ref := it.refs[it.i]
		it.i++
		chunk, err := it.chunk(ref.chunk)
		if err != nil && chunk == nil {
			it.skip(ref, err)
			continue
		}
		if int(ref.offset) >= len(chunk) {
			it.skip(ref, errors.Join(fmt.Errorf("bag: index points past the decodable data of chunk %d (offset %d of %d)", ref.chunk, ref.offset, len(chunk)), err))
			continue
		}
		hb, data, _, err := splitRecord(chunk[ref.offset:])
		if err != nil {
			it.skip(ref, fmt.Errorf("bag: message at chunk %d offset %d: %w", ref.chunk, ref.offset, err))
			continue
		}
		h, err := parseHeader(hb)
		if err == nil {
			var op byte
			if op, err = h.op(); err == nil && op != OpMessageData {
				err = fmt.Errorf("bag: index entry at chunk %d offset %d is not a message record", ref.chunk, ref.offset)
			}
		}
		if err != nil {
			it.skip(ref, err)
			continue
		}
		it.cur = Message{Conn: it.r.conns[ref.conn], Time: ref.t, Data: data}
		return true
	}
	return false
}

// skip counts an unreadable message and warns once per damaged chunk.
func (it *Iterator) skip(ref msgRef, err error) {
	it.skipped++
	if it.warned == nil {
		it.warned = map[int32]bool{}
	}
	if !it.warned[ref.chunk] {
		it.warned[ref.chunk] = true
		it.r.log.Warn("skipping unreadable messages of a damaged chunk", zap.Int64("chunk_pos", it.r.chunks[ref.chunk].pos), zap.Error(err))
	}
}

// Skipped is the number of indexed messages that could not be read.
func (it *Iterator) Skipped() int { return it.skipped }

func (it *Iterator) chunk(idx int32) ([]byte, error) {
	for i, c := range it.cache {
		if c.idx == idx {
			if i > 0 {
				copy(it.cache[1:i+1], it.cache[:i])
				it.cache[0] = c
			}
			return c.data, c.err
		}
	}
	ref := &it.r.chunks[idx]
	data, err := it.r.chunkBytes(ref)
	if err != nil {
		// Keep what decoded (a damaged stream yields its intact prefix) so
		// the messages before the damage stay readable.
		if len(data) == 0 {
			data = nil
		}
	}
	if len(it.cache) < chunkCacheSize {
		it.cache = append(it.cache, cachedChunk{})
	}
	copy(it.cache[1:], it.cache[:len(it.cache)-1])
	it.cache[0] = cachedChunk{idx: idx, data: data, err: err}
	return data, err
}

// Message returns the current message.
func (it *Iterator) Message() Message { return it.cur }

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error {
	if errors.Is(it.err, context.Canceled) {
		return fmt.Errorf("bag: iteration cancelled: %w", it.err)
	}
	return it.err
}
