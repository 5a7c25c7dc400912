// Package mcapbag reads and writes MCAP recordings (github.com/foxglove/mcap)
// as bag.Sources: ROS 1 payloads ("ros1msg" schemas, "ros1" message
// encoding, profile "ros1") and, for reading, ROS 2 payloads ("ros2msg"
// schemas, "cdr" encoding) decoded by package bag/cdr.
package mcapbag

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/bag/cdr"
)

// Message encodings this package writes.
const (
	EncodingROS1 = "ros1"
	EncodingCDR  = "cdr"
)

// WriterOptions configures a Writer. The zero value writes lz4-compressed
// chunks of 1 MiB with ROS 1 payloads.
type WriterOptions struct {
	Compression string // "lz4" (default), "zstd" or "none"
	ChunkSize   int64
	// Encoding is EncodingROS1 (default; profile "ros1") or EncodingCDR
	// (profile "ros2", as ROS 2's rosbag2 writes).
	Encoding string
}

type channelKey struct{ topic, typ string }

// Writer writes an MCAP file. It is not safe for concurrent use.
type Writer struct {
	w        *mcap.Writer
	f        io.Closer
	encoding string
	schemas  map[string]uint16
	channels map[channelKey]uint16
	seq      map[uint16]uint32
	types    bag.TypeCache
}

// Create creates (truncating) an MCAP file at path.
func Create(path string, opts WriterOptions) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("mcapbag: create: %w", err)
	}
	w, err := NewWriter(f, opts)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	w.f = f
	return w, nil
}

// NewWriter starts an MCAP stream on dst.
func NewWriter(dst io.Writer, opts WriterOptions) (*Writer, error) {
	mo := &mcap.WriterOptions{Chunked: true, ChunkSize: opts.ChunkSize, IncludeCRC: true}
	if mo.ChunkSize <= 0 {
		mo.ChunkSize = 1 << 20
	}
	switch opts.Compression {
	case "", "lz4":
		mo.Compression = mcap.CompressionLZ4
	case "zstd":
		mo.Compression = mcap.CompressionZSTD
	case "none":
		mo.Compression = mcap.CompressionNone
	default:
		return nil, fmt.Errorf("mcapbag: unknown compression %q (lz4, zstd, none)", opts.Compression)
	}
	profile := "ros1"
	switch opts.Encoding {
	case "", EncodingROS1:
		opts.Encoding = EncodingROS1
	case EncodingCDR:
		profile = "ros2"
	default:
		return nil, fmt.Errorf("mcapbag: unknown message encoding %q (ros1, cdr)", opts.Encoding)
	}
	mw, err := mcap.NewWriter(dst, mo)
	if err != nil {
		return nil, fmt.Errorf("mcapbag: %w", err)
	}
	if err := mw.WriteHeader(&mcap.Header{Profile: profile, Library: "vla3d"}); err != nil {
		return nil, fmt.Errorf("mcapbag: header: %w", err)
	}
	return &Writer{w: mw, encoding: opts.Encoding, schemas: map[string]uint16{},
		channels: map[channelKey]uint16{}, seq: map[uint16]uint32{}}, nil
}

// ros2Type turns "pkg/Name" into rosbag2's "pkg/msg/Name".
func ros2Type(t string) string {
	for i := 0; i < len(t); i++ {
		if t[i] == '/' {
			return t[:i] + "/msg/" + t[i+1:]
		}
	}
	return t
}

func (w *Writer) channel(topic string, ti bag.TypeInfo) (uint16, error) {
	key := channelKey{topic, ti.Type}
	if id, ok := w.channels[key]; ok {
		return id, nil
	}
	sid, ok := w.schemas[ti.Type]
	if !ok {
		sid = uint16(len(w.schemas) + 1) // schema id 0 is reserved
		s := &mcap.Schema{ID: sid, Name: ti.Type, Encoding: "ros1msg", Data: []byte(ti.Def)}
		if w.encoding == EncodingCDR {
			// A ROS 1 definition is close to the ROS 2 one for the types we
			// write; the reader trusts the Go struct, not this text.
			s.Name, s.Encoding = ros2Type(ti.Type), "ros2msg"
		}
		if err := w.w.WriteSchema(s); err != nil {
			return 0, fmt.Errorf("mcapbag: schema %s: %w", ti.Type, err)
		}
		w.schemas[ti.Type] = sid
	}
	id := uint16(len(w.channels))
	meta := map[string]string{}
	if w.encoding == EncodingROS1 {
		meta["md5sum"] = ti.MD5Sum
	}
	if err := w.w.WriteChannel(&mcap.Channel{ID: id, SchemaID: sid, Topic: topic, MessageEncoding: w.encoding, Metadata: meta}); err != nil {
		return 0, fmt.Errorf("mcapbag: channel %s: %w", topic, err)
	}
	w.channels[key] = id
	return id, nil
}

// WriteMsg serializes msg (a pointer to a goroslib message struct) in the
// writer's encoding and writes it on topic with log time t.
func (w *Writer) WriteMsg(topic string, t time.Time, msg any) error {
	ti, err := w.types.Info(msg)
	if err != nil {
		return err
	}
	id, err := w.channel(topic, ti)
	if err != nil {
		return err
	}
	var data []byte
	if w.encoding == EncodingCDR {
		data, err = cdr.Encode(msg)
	} else {
		data, err = bag.EncodeROS1(msg)
	}
	if err != nil {
		return fmt.Errorf("mcapbag: %s: %w", topic, err)
	}
	ns := uint64(0)
	if !t.IsZero() && t.UnixNano() > 0 {
		ns = uint64(t.UnixNano())
	}
	w.seq[id]++
	if err := w.w.WriteMessage(&mcap.Message{ChannelID: id, Sequence: w.seq[id], LogTime: ns, PublishTime: ns, Data: data}); err != nil {
		return fmt.Errorf("mcapbag: write %s: %w", topic, err)
	}
	return nil
}

// Close writes the summary section and closes the file if Create opened it.
func (w *Writer) Close() error {
	err := w.w.Close()
	if err != nil {
		err = fmt.Errorf("mcapbag: close: %w", err)
	}
	if w.f != nil {
		err = errors.Join(err, w.f.Close())
	}
	return err
}
