package rosbag2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/bag/cdr"
	"github.com/vla3d/vla3d/bag/mcapbag"
)

// Storage names a rosbag2 storage plugin.
const (
	StorageMCAP   = "mcap"
	StorageSQLite = "sqlite3"
)

// WriterOptions configures Create.
type WriterOptions struct {
	// (optional) Storage is StorageMCAP or StorageSQLite. It defaults to
	// StorageMCAP (rosbag2's default from Iron on).
	Storage string
	// (optional) Distro is written as ros_distro. It defaults to "jazzy".
	Distro string
}

// Writer writes one rosbag2 recording directory; metadata.yaml is written
// by Close. It is not safe for concurrent use.
type Writer struct {
	dir, file string
	storage   string
	distro    string
	mc        *mcapbag.Writer
	sq        *db
	insert    *stmt
	types     bag.TypeCache
	topics    map[string]*topicState
	order     []string
	start     time.Time
	end       time.Time
	count     int
}

type topicState struct {
	id      int64
	meta    TopicMetadata
	count   int
	latched bool
}

// Create makes dir (which must not exist yet) and its storage file.
func Create(dir string, o WriterOptions) (*Writer, error) {
	if o.Storage == "" {
		o.Storage = StorageMCAP
	}
	if o.Distro == "" {
		o.Distro = "jazzy"
	}
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("rosbag2: %s already exists", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("rosbag2: %w", err)
	}
	w := &Writer{dir: dir, storage: o.Storage, distro: o.Distro, topics: map[string]*topicState{}}
	base := filepath.Base(dir)
	var err error
	switch o.Storage {
	case StorageMCAP:
		w.file = base + "_0.mcap"
		w.mc, err = mcapbag.Create(filepath.Join(dir, w.file), mcapbag.WriterOptions{Encoding: mcapbag.EncodingCDR})
	case StorageSQLite:
		w.file = base + "_0.db3"
		err = w.createDB(filepath.Join(dir, w.file))
	default:
		err = fmt.Errorf("rosbag2: unknown storage %q (mcap, sqlite3)", o.Storage)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return w, nil
}

func (w *Writer) createDB(path string) error {
	d, err := openDB(path, false)
	if err != nil {
		return err
	}
	w.sq = d
	// The schema of rosbag2_storage_default_plugins (Humble).
	for _, sql := range []string{
		"PRAGMA journal_mode=MEMORY", "PRAGMA synchronous=OFF",
		"CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, serialization_format TEXT NOT NULL, offered_qos_profiles TEXT NOT NULL)",
		"CREATE TABLE messages(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, timestamp INTEGER NOT NULL, data BLOB NOT NULL)",
		"CREATE INDEX timestamp_idx ON messages (timestamp ASC)",
		"BEGIN",
	} {
		if err := d.exec(sql); err != nil {
			_ = d.close()
			return err
		}
	}
	w.insert, err = d.prepare("INSERT INTO messages (topic_id, timestamp, data) VALUES (?1, ?2, ?3)")
	return err
}

// WriteMsg serialises msg (a goroslib message struct pointer) as CDR and
// writes it on topic at t; latched marks the topic transient local in the
// metadata, so `ros2 bag play` re-latches it.
func (w *Writer) WriteMsg(topic string, t time.Time, msg any, latched bool) error {
	ts, ok := w.topics[topic]
	if !ok {
		ti, err := w.types.Info(msg)
		if err != nil {
			return fmt.Errorf("rosbag2: %s: %w", topic, err)
		}
		ts = &topicState{id: int64(len(w.topics) + 1), latched: latched,
			meta: TopicMetadata{Name: topic, Type: ros2Type(ti.Type), SerializationFormat: "cdr", OfferedQoSProfiles: qosProfile(latched)}}
		if w.sq != nil {
			st, err := w.sq.prepare("INSERT INTO topics (id, name, type, serialization_format, offered_qos_profiles) VALUES (?1, ?2, ?3, ?4, ?5)")
			if err != nil {
				return err
			}
			err = st.bind(ts.id, topic, ts.meta.Type, "cdr", ts.meta.OfferedQoSProfiles)
			if err == nil {
				if err = st.step(); errors.Is(err, errDone) {
					err = nil
				}
			}
			st.close()
			if err != nil {
				return err
			}
		}
		w.topics[topic] = ts
		w.order = append(w.order, topic)
	}
	if w.mc != nil {
		if err := w.mc.WriteMsg(topic, t, msg); err != nil {
			return err
		}
	} else {
		data, err := cdr.Encode(msg)
		if err != nil {
			return fmt.Errorf("rosbag2: %s: %w", topic, err)
		}
		if err := w.insert.bind(ts.id, t.UnixNano(), data); err != nil {
			return err
		}
		if err := w.insert.step(); !errors.Is(err, errDone) {
			return fmt.Errorf("rosbag2: write %s: %w", topic, err)
		}
	}
	ts.count++
	if w.count == 0 || t.Before(w.start) {
		w.start = t
	}
	if t.After(w.end) {
		w.end = t
	}
	w.count++
	return nil
}

// ros2Type turns "pkg/Name" into "pkg/msg/Name".
func ros2Type(t string) string {
	for i := 0; i < len(t); i++ {
		if t[i] == '/' {
			return t[:i] + "/msg/" + t[i+1:]
		}
	}
	return t
}

// Close finishes the storage file and writes metadata.yaml.
func (w *Writer) Close() error {
	var err error
	if w.mc != nil {
		err = w.mc.Close()
	}
	if w.sq != nil {
		w.insert.close()
		err = errors.Join(w.sq.exec("COMMIT"), w.sq.close())
	}
	m := Metadata{Version: 5, StorageIdentifier: w.storage, MessageCount: w.count,
		StartingTime: since{w.start.UnixNano()}, Duration: nanos{w.end.Sub(w.start).Nanoseconds()},
		RelativeFilePaths: []string{w.file}, RosDistro: w.distro}
	if w.storage == StorageMCAP {
		m.Version = 8
	}
	for _, name := range w.order {
		ts := w.topics[name]
		m.Topics = append(m.Topics, TopicWithCount{Topic: ts.meta, MessageCount: ts.count})
	}
	m.Files = []FileInfo{{Path: w.file, StartingTime: m.StartingTime, Duration: m.Duration, MessageCount: w.count}}
	return errors.Join(err, writeMetadata(w.dir, m))
}
