package rosbag2

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/bag/mcapbag"
)

// Open opens a rosbag2 recording: a directory with metadata.yaml (its
// storage files read in order as one recording), or a single .db3 file.
func Open(path string, log *zap.Logger) (bag.Source, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if strings.HasSuffix(path, ".db3") {
		return openDB3(path)
	}
	m, err := ReadMetadata(path)
	if err != nil {
		return nil, err
	}
	if m.CompressionFormat != "" || m.CompressionMode != "" {
		return nil, fmt.Errorf("rosbag2: %s: compressed recordings (%s, %s) are not supported; `ros2 bag convert` them uncompressed",
			path, m.CompressionFormat, m.CompressionMode)
	}
	if len(m.RelativeFilePaths) == 0 {
		return nil, fmt.Errorf("rosbag2: %s: metadata lists no storage files", path)
	}
	var parts []bag.Source
	closeAll := func() {
		for _, p := range parts {
			_ = p.Close()
		}
	}
	for _, rel := range m.RelativeFilePaths {
		if !filepath.IsLocal(rel) {
			closeAll()
			return nil, fmt.Errorf("rosbag2: %s: storage file %q is outside the recording", path, rel)
		}
		file := filepath.Join(path, rel)
		var src bag.Source
		switch m.StorageIdentifier {
		case "mcap":
			src, err = mcapbag.Open(file, log)
		case "sqlite3":
			src, err = openDB3(file)
		default:
			err = fmt.Errorf("rosbag2: %s: storage %q is not supported (mcap, sqlite3)", path, m.StorageIdentifier)
		}
		if err != nil {
			closeAll()
			return nil, err
		}
		parts = append(parts, src)
	}
	if len(parts) == 1 {
		return renamed{parts[0], path}, nil
	}
	return newChain(path, parts), nil
}

// renamed is a one-file recording reported under the directory's path.
type renamed struct {
	bag.Source
	path string
}

func (r renamed) Info() bag.Info {
	i := r.Source.Info()
	i.Path = r.path
	return i
}

// chain reads storage files one after another (rosbag2 splits by time).
type chain struct {
	parts []bag.Source
	info  bag.Info
}

func newChain(path string, parts []bag.Source) *chain {
	c := &chain{parts: parts, info: bag.Info{Path: path, Topics: map[string]bag.TopicInfo{}, Compression: map[string]int{}, Indexed: true}}
	for i, p := range parts {
		pi := p.Info()
		if i == 0 || pi.Start.Before(c.info.Start) {
			c.info.Start = pi.Start
		}
		if pi.End.After(c.info.End) {
			c.info.End = pi.End
		}
		c.info.Size += pi.Size
		c.info.Messages += pi.Messages
		c.info.Chunks += pi.Chunks
		c.info.Indexed = c.info.Indexed && pi.Indexed
		c.info.DamagedChunks += pi.DamagedChunks
		c.info.Warnings = append(c.info.Warnings, pi.Warnings...)
		for k, v := range pi.Compression {
			c.info.Compression[k] += v
		}
		for t, ti := range pi.Topics {
			cur := c.info.Topics[t]
			cur.Type, cur.MD5Sum = ti.Type, ti.MD5Sum
			cur.Messages += ti.Messages
			cur.Conns = max(cur.Conns, ti.Conns)
			c.info.Topics[t] = cur
		}
	}
	return c
}

func (c *chain) Info() bag.Info { return c.info }

func (c *chain) Close() error {
	var errs []error
	for _, p := range c.parts {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

func (c *chain) Read(ctx context.Context, q bag.Query) bag.MessageIterator {
	return &chainIter{c: c, ctx: ctx, q: q}
}

type chainIter struct {
	c   *chain
	ctx context.Context
	q   bag.Query
	i   int
	cur bag.MessageIterator
	err error
}

func (it *chainIter) Next() bool {
	for it.err == nil {
		if it.cur == nil {
			if it.i >= len(it.c.parts) {
				return false
			}
			it.cur = it.c.parts[it.i].Read(it.ctx, it.q)
			it.i++
		}
		if it.cur.Next() {
			return true
		}
		it.err = it.cur.Err()
		it.cur = nil
	}
	return false
}

func (it *chainIter) Message() bag.Message { return it.cur.Message() }
func (it *chainIter) Err() error           { return it.err }

// db3 is one sqlite3 storage file.
type db3 struct {
	path  string
	d     *db
	conns map[int64]*bag.Connection
	info  bag.Info
}

func openDB3(path string) (*db3, error) {
	d, err := openDB(path, true)
	if err != nil {
		return nil, err
	}
	s := &db3{path: path, d: d, conns: map[int64]*bag.Connection{},
		info: bag.Info{Path: path, Topics: map[string]bag.TopicInfo{}, Compression: map[string]int{}, Indexed: true}}
	if err := s.load(); err != nil {
		_ = d.close()
		return nil, err
	}
	return s, nil
}

func (s *db3) load() error {
	st, err := s.d.prepare("SELECT id, name, type, serialization_format FROM topics")
	if err != nil {
		return fmt.Errorf("%w (not a rosbag2 .db3?)", err)
	}
	defer st.close()
	for {
		if err := st.step(); errors.Is(err, errDone) {
			break
		} else if err != nil {
			return err
		}
		id, name, typ, format := st.int64(0), st.text(1), st.text(2), st.text(3)
		if format == "" {
			format = "cdr"
		}
		c := &bag.Connection{ID: uint32(id), Topic: name, Type: bag.NormalizeType(typ), MD5Sum: "*", Encoding: format}
		s.conns[id] = c
		ti := s.info.Topics[name]
		ti.Type, ti.MD5Sum, ti.Conns = c.Type, c.MD5Sum, ti.Conns+1
		s.info.Topics[name] = ti
	}
	cnt, err := s.d.prepare("SELECT topic_id, COUNT(*), MIN(timestamp), MAX(timestamp) FROM messages GROUP BY topic_id")
	if err != nil {
		return err
	}
	defer cnt.close()
	first := true
	for {
		if err := cnt.step(); errors.Is(err, errDone) {
			break
		} else if err != nil {
			return err
		}
		c, ok := s.conns[cnt.int64(0)]
		if !ok {
			continue
		}
		n, lo, hi := int(cnt.int64(1)), time.Unix(0, cnt.int64(2)), time.Unix(0, cnt.int64(3))
		ti := s.info.Topics[c.Topic]
		ti.Messages += n
		s.info.Topics[c.Topic] = ti
		s.info.Messages += n
		if first || lo.Before(s.info.Start) {
			s.info.Start = lo
		}
		if first || hi.After(s.info.End) {
			s.info.End = hi
		}
		first = false
	}
	return nil
}

func (s *db3) Info() bag.Info { return s.info }
func (s *db3) Close() error   { return s.d.close() }

// Read iterates messages in timestamp order. A database error part way
// (a damaged file) ends the iteration with Err; everything read before it
// was delivered.
func (s *db3) Read(ctx context.Context, q bag.Query) bag.MessageIterator {
	it := &db3Iter{s: s, ctx: ctx}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Start.IsZero() {
		lo = q.Start.UnixNano()
	}
	if !q.End.IsZero() {
		hi = q.End.UnixNano()
	}
	if len(q.Topics) > 0 {
		it.topics = map[string]bool{}
		for _, t := range q.Topics {
			it.topics[t] = true
		}
	}
	it.st, it.err = s.d.prepare("SELECT topic_id, timestamp, data FROM messages WHERE timestamp >= ?1 AND timestamp <= ?2 ORDER BY timestamp, id")
	if it.err == nil {
		it.err = it.st.bind(lo, hi)
	}
	return it
}

type db3Iter struct {
	s      *db3
	ctx    context.Context
	st     *stmt
	topics map[string]bool
	cur    bag.Message
	err    error
	done   bool
}

func (it *db3Iter) Next() bool {
	for !it.done && it.err == nil {
		if err := it.ctx.Err(); err != nil {
			it.err = err
			break
		}
		err := it.st.step()
		if errors.Is(err, errDone) {
			it.done = true
			break
		}
		if err != nil {
			it.err = fmt.Errorf("rosbag2: %s: %w", it.s.path, err)
			break
		}
		c, ok := it.s.conns[it.st.int64(0)]
		if !ok || (it.topics != nil && !it.topics[c.Topic]) {
			continue
		}
		it.cur = bag.Message{Conn: c, Time: time.Unix(0, it.st.int64(1)), Data: it.st.blob(2)}
		return true
	}
	if it.st != nil {
		it.st.close()
		it.st = nil
	}
	return false
}

func (it *db3Iter) Message() bag.Message { return it.cur }
func (it *db3Iter) Err() error           { return it.err }
