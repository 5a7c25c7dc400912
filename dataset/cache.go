package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/preprocess"
)

// cacheMagic ends every complete cache file; cacheVersion changes whenever
// the record layout does, so stale caches are rebuilt rather than misread.
const (
	cacheMagic   = "V3DCACHE"
	cacheVersion = 3 // 2: observations from the node's assembler; 3: per-record CRC
)

// CacheOptions configures the preprocessed-sample cache.
type CacheOptions struct {
	Dir        string
	Spec       policy.Spec
	Preprocess preprocess.Options
	// Labels stores each camera's instance ids and metric depth at model
	// size (nearest neighbour), for pseudo-label generation in training.
	Labels bool
}

// Record is one cached, preprocessed step.
type Record struct {
	Input   *policy.Input
	Action  [msgs.EEActionDim]float32
	Derived bool
	Episode int // index into the Dataset's episodes
	Step    int
	Stamp   time.Time
	Labels  []uint16  // [V,H,W] when CacheOptions.Labels
	Depth   []float32 // [V,H,W] metres, NaN invalid, when CacheOptions.Labels
}

// NewRecord allocates a Record sized for the cache.
func (c *Cache) NewRecord() *Record {
	r := &Record{Input: policy.NewInput(c.opts.Spec)}
	if c.opts.Labels {
		n := c.opts.Spec.Cameras * c.opts.Spec.ImageWidth * c.opts.Spec.ImageHeight
		r.Labels, r.Depth = make([]uint16, n), make([]float32, n)
	}
	return r
}

// cacheFooter is the JSON trailer of a cache file.
type cacheFooter struct {
	Version    int           `json:"version"`
	Key        string        `json:"key"`
	Episode    string        `json:"episode"`
	Count      int           `json:"count"`
	RecordSize int           `json:"record_size"`
	Actions    [][7]float32  `json:"actions"`
	Stats      *EpisodeStats `json:"stats,omitempty"`
}

type cacheFile struct {
	f       *os.File
	footer  cacheFooter
	episode int
}

// Cache is random access to the preprocessed steps of a Dataset, one file
// per episode. Reads are safe for concurrent use.
type Cache struct {
	opts       CacheOptions
	files      []*cacheFile
	starts     []int // first global index of each file
	n          int
	recordSize int
	// Decoded counts steps decoded from recordings while building (0 when
	// every episode was already cached).
	Decoded int64
}

// recordLayout is the byte size of one record.
func recordLayout(s policy.Spec, labels bool) int {
	v, n, hw := s.Cameras, s.PatchesPerView(), s.ImageWidth*s.ImageHeight
	size := 16 + 4*msgs.EEActionDim // stamp, step, flags + action
	size += 4 * (v*3*hw + v*n*3 + v*n + v*4 + v*12 + s.ProprioDim)
	size += 8 * s.InstructionLen
	if labels {
		size += v * hw * (2 + 4)
	}
	return size + crcSize
}

// crcSize is each record's trailing CRC-32 (IEEE) of its other bytes: a
// damaged record is detected, and its file rebuilt, never trained on.
const crcSize = 4

// sealRecord writes b's CRC into its last bytes.
func sealRecord(b []byte) {
	n := len(b) - crcSize
	binary.LittleEndian.PutUint32(b[n:], crc32.ChecksumIEEE(b[:n]))
}

// recordIntact checks b's CRC.
func recordIntact(b []byte) bool {
	n := len(b) - crcSize
	return n >= 0 && binary.LittleEndian.Uint32(b[n:]) == crc32.ChecksumIEEE(b[:n])
}

// ErrCorruptRecord is wrapped when a cached record fails its checksum.
var ErrCorruptRecord = errors.New("dataset: cache record fails its checksum")

// cacheKey hashes everything that changes the cached bytes.
func cacheKey(e Episode, cfg Config, opts CacheOptions) (string, error) {
	st, err := os.Stat(e.Path)
	if err != nil {
		return "", fmt.Errorf("dataset: %w", err)
	}
	abs, err := filepath.Abs(e.Path)
	if err != nil {
		return "", fmt.Errorf("dataset: %w", err)
	}
	cfg.Logger = nil
	b, err := json.Marshal(struct {
		V     int
		Path  string
		Size  int64
		MTime int64
		Key   string
		Cfg   Config
		Spec  policy.Spec
		Pre   preprocess.Options
		Lab   bool
	}{cacheVersion, abs, st.Size(), st.ModTime().UnixNano(), e.Key(), cfg, opts.Spec, opts.Preprocess, opts.Labels})
	if err != nil {
		return "", fmt.Errorf("dataset: cache key: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16]), nil
}

// Cache opens the preprocessed cache of every episode, building the missing
// ones (decoding each recording once). Episodes that yield no step are left
// out with a warning.
func (d *Dataset) Cache(ctx context.Context, opts CacheOptions) (*Cache, error) {
	if opts.Dir == "" {
		return nil, errors.New("dataset: cache directory not set")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	c := &Cache{opts: opts, recordSize: recordLayout(opts.Spec, opts.Labels)}
	for i, e := range d.episodes {
		key, err := cacheKey(e, d.cfg, opts)
		if err != nil {
			return nil, errors.Join(err, c.Close())
		}
		path := filepath.Join(opts.Dir, key+".v3c")
		cf, err := openCacheFile(path, key, c.recordSize)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				d.cfg.Logger.Warn("rebuilding unreadable cache file", zap.String("path", path), zap.Error(err))
			}
			if err := d.buildCacheFile(ctx, i, path, key, c); err != nil {
				return nil, errors.Join(err, c.Close())
			}
			if cf, err = openCacheFile(path, key, c.recordSize); err != nil {
				return nil, errors.Join(err, c.Close())
			}
		}
		if cf.footer.Count == 0 {
			d.cfg.Logger.Warn("episode has no usable step", zap.String("episode", e.Key()))
			_ = cf.f.Close()
			continue
		}
		cf.episode = i
		c.starts = append(c.starts, c.n)
		c.files = append(c.files, cf)
		c.n += cf.footer.Count
	}
	return c, nil
}

func openCacheFile(path, key string, recordSize int) (*cacheFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*cacheFile, error) { return nil, errors.Join(err, f.Close()) }
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	var tail [12]byte
	if st.Size() < 12 {
		return fail(fmt.Errorf("dataset: cache %s is truncated", path))
	}
	if _, err := f.ReadAt(tail[:], st.Size()-12); err != nil {
		return fail(err)
	}
	if string(tail[4:]) != cacheMagic {
		return fail(fmt.Errorf("dataset: cache %s is incomplete", path))
	}
	fl := int64(binary.LittleEndian.Uint32(tail[:4]))
	if fl > st.Size()-12 {
		return fail(fmt.Errorf("dataset: cache %s has a bad footer length", path))
	}
	fb := make([]byte, fl)
	if _, err := f.ReadAt(fb, st.Size()-12-fl); err != nil {
		return fail(err)
	}
	var cf cacheFile
	if err := json.Unmarshal(fb, &cf.footer); err != nil {
		return fail(fmt.Errorf("dataset: cache %s footer: %w", path, err))
	}
	ft := cf.footer
	if ft.Version != cacheVersion || ft.Key != key || ft.RecordSize != recordSize ||
		int64(ft.Count)*int64(recordSize)+12+fl != st.Size() || len(ft.Actions) != ft.Count {
		return fail(fmt.Errorf("dataset: cache %s does not match this configuration", path))
	}
	buf := make([]byte, recordSize)
	for k := range ft.Count {
		if _, err := f.ReadAt(buf, int64(k)*int64(recordSize)); err != nil {
			return fail(fmt.Errorf("dataset: cache %s: %w", path, err))
		}
		if !recordIntact(buf) {
			return fail(fmt.Errorf("%w: %s record %d", ErrCorruptRecord, path, k))
		}
	}
	cf.f = f
	return &cf, nil
}

// buildCacheFile decodes one episode, preprocesses every step and writes the
// records, atomically (temp file, then rename).
func (d *Dataset) buildCacheFile(ctx context.Context, i int, path, key string, c *Cache) error {
	pre, err := preprocess.New(c.opts.Spec, c.opts.Preprocess)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".building-*")
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	rec := c.NewRecord()
	buf := make([]byte, c.recordSize)
	footer := cacheFooter{Version: cacheVersion, Key: key, Episode: d.episodes[i].Key(), RecordSize: c.recordSize}
	skipped := 0
	st, err := d.ReadEpisode(ctx, i, func(s *Step) error {
		if err := pre.Process(&s.Obs, rec.Input); err != nil {
			// A step the node would refuse is not a training sample either.
			skipped++
			d.cfg.Logger.Debug("step rejected by preprocessing", zap.Int("step", s.Index), zap.Error(err))
			return nil
		}
		rec.Action, rec.Derived, rec.Step, rec.Stamp = s.Action, s.Derived, s.Index, s.Obs.Stamp
		if c.opts.Labels {
			if err := labelsAtModelSize(&s.Obs, c.opts.Spec, rec); err != nil {
				return err
			}
		}
		encodeRecord(rec, buf, c.opts.Labels)
		sealRecord(buf)
		if _, err := tmp.Write(buf); err != nil {
			return fmt.Errorf("dataset: cache write: %w", err)
		}
		footer.Actions = append(footer.Actions, s.Action)
		footer.Count++
		atomic.AddInt64(&c.Decoded, 1)
		return nil
	})
	if err != nil {
		return errors.Join(err, tmp.Close())
	}
	if skipped > 0 {
		d.cfg.Logger.Warn("steps rejected by preprocessing", zap.String("episode", footer.Episode), zap.Int("count", skipped))
	}
	footer.Stats = &st
	fb, err := json.Marshal(footer)
	if err != nil {
		return errors.Join(fmt.Errorf("dataset: %w", err), tmp.Close())
	}
	fb = binary.LittleEndian.AppendUint32(fb, uint32(len(fb)))
	fb = append(fb, cacheMagic...)
	if _, err := tmp.Write(fb); err != nil {
		return errors.Join(fmt.Errorf("dataset: cache write: %w", err), tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("dataset: cache close: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("dataset: cache rename: %w", err)
	}
	return nil
}

// labelsAtModelSize resizes labels and depth to the model image size.
func labelsAtModelSize(o *msgs.Observation, s policy.Spec, rec *Record) error {
	w, h := s.ImageWidth, s.ImageHeight
	for v := range o.Cameras {
		f := &o.Cameras[v]
		dl := rec.Labels[v*w*h : (v+1)*w*h]
		dd := rec.Depth[v*w*h : (v+1)*w*h]
		if err := perception.ResizeDepthNearest(f.Depth.Meters, f.Depth.Width, f.Depth.Height, dd, w, h); err != nil {
			return fmt.Errorf("dataset: depth resize: %w", err)
		}
		lw, lh := f.Labels.Width, f.Labels.Height
		if lw == 0 || len(f.Labels.IDs) < lw*lh {
			clear(dl)
			continue
		}
		// Nearest neighbour at pixel centres, the same sampling as the depth.
		for y := range h {
			sy := min((2*y+1)*lh/(2*h), lh-1)
			for x := range w {
				sx := min((2*x+1)*lw/(2*w), lw-1)
				dl[y*w+x] = f.Labels.IDs[sy*lw+sx]
			}
		}
	}
	return nil
}

func putF32s(b []byte, v []float32) []byte {
	for _, x := range v {
		binary.LittleEndian.PutUint32(b, math.Float32bits(x))
		b = b[4:]
	}
	return b
}

func getF32s(b []byte, v []float32) []byte {
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b))
		b = b[4:]
	}
	return b
}

func encodeRecord(r *Record, b []byte, labels bool) {
	binary.LittleEndian.PutUint64(b, uint64(r.Stamp.UnixNano()))
	binary.LittleEndian.PutUint32(b[8:], uint32(r.Step))
	var flags uint32
	if r.Derived {
		flags = 1
	}
	binary.LittleEndian.PutUint32(b[12:], flags)
	b = putF32s(b[16:], r.Action[:])
	in := r.Input
	for _, s := range [][]float32{in.Images, in.Points, in.PointValid, in.Intrinsics, in.CamFromBase, in.Proprio} {
		b = putF32s(b, s)
	}
	for _, t := range in.Instruction {
		binary.LittleEndian.PutUint64(b, uint64(t))
		b = b[8:]
	}
	if labels {
		for _, l := range r.Labels {
			binary.LittleEndian.PutUint16(b, l)
			b = b[2:]
		}
		putF32s(b, r.Depth)
	}
}

func decodeRecord(b []byte, r *Record, labels bool) {
	r.Stamp = time.Unix(0, int64(binary.LittleEndian.Uint64(b))).UTC()
	r.Step = int(binary.LittleEndian.Uint32(b[8:]))
	r.Derived = binary.LittleEndian.Uint32(b[12:])&1 != 0
	b = getF32s(b[16:], r.Action[:])
	in := r.Input
	in.Stamp = r.Stamp
	for _, s := range [][]float32{in.Images, in.Points, in.PointValid, in.Intrinsics, in.CamFromBase, in.Proprio} {
		b = getF32s(b, s)
	}
	for i := range in.Instruction {
		in.Instruction[i] = int64(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if labels {
		for i := range r.Labels {
			r.Labels[i] = binary.LittleEndian.Uint16(b)
			b = b[2:]
		}
		getF32s(b, r.Depth)
	}
}

// Len is the number of cached steps.
func (c *Cache) Len() int { return c.n }

// Spec is the spec the records were preprocessed for.
func (c *Cache) Spec() policy.Spec { return c.opts.Spec }

func (c *Cache) locate(i int) (*cacheFile, int, error) {
	if i < 0 || i >= c.n {
		return nil, 0, fmt.Errorf("dataset: step %d out of %d", i, c.n)
	}
	k := sort.Search(len(c.starts), func(k int) bool { return c.starts[k] > i }) - 1
	return c.files[k], i - c.starts[k], nil
}

// Read loads step i into dst (from NewRecord). buf, when at least
// RecordSize bytes, avoids an allocation.
func (c *Cache) Read(i int, dst *Record, buf []byte) error {
	f, j, err := c.locate(i)
	if err != nil {
		return err
	}
	if len(buf) < c.recordSize {
		buf = make([]byte, c.recordSize)
	}
	buf = buf[:c.recordSize]
	if _, err := f.f.ReadAt(buf, int64(j)*int64(c.recordSize)); err != nil {
		return fmt.Errorf("dataset: cache read: %w", err)
	}
	if !recordIntact(buf) {
		return fmt.Errorf("%w: step %d of episode %d", ErrCorruptRecord, j, f.episode)
	}
	decodeRecord(buf, dst, c.opts.Labels)
	dst.Episode = f.episode
	return nil
}

// RecordSize is the size in bytes of one cached record.
func (c *Cache) RecordSize() int { return c.recordSize }

// ActionChunk writes the horizon actions starting at step i into dst
// ([horizon, EEActionDim]) and valid[h] = 1 for actions inside the episode;
// past its end the last action is repeated with valid 0.
func (c *Cache) ActionChunk(i, horizon int, dst, valid []float32) error {
	f, j, err := c.locate(i)
	if err != nil {
		return err
	}
	if len(dst) < horizon*msgs.EEActionDim || len(valid) < horizon {
		return fmt.Errorf("dataset: action chunk buffers too small for horizon %d", horizon)
	}
	acts := f.footer.Actions
	for h := range horizon {
		k, v := j+h, float32(1)
		if k >= len(acts) {
			k, v = len(acts)-1, 0
		}
		copy(dst[h*msgs.EEActionDim:(h+1)*msgs.EEActionDim], acts[k][:])
		valid[h] = v
	}
	return nil
}

// ConstantActionStd is the normalization scale of an action dimension that
// never varies in the training data (1 mm or 1 mrad per step).
const ConstantActionStd = 1e-3

// ActionStats returns the per-dimension mean and standard deviation of
// every cached action (for Spec.ActionMean/ActionStd). A dimension that is
// constant in the data gets std ConstantActionStd: the model learns to output
// 0 there (normalized), and whatever it outputs instead is de-normalized into
// a negligible step rather than, with std 1, up to a radian or a metre per step.
func (c *Cache) ActionStats() (mean, std []float32) {
	var sum, sq [msgs.EEActionDim]float64
	n := 0
	for _, f := range c.files {
		for _, a := range f.footer.Actions {
			for k, v := range a {
				sum[k] += float64(v)
				sq[k] += float64(v) * float64(v)
			}
			n++
		}
	}
	mean, std = make([]float32, msgs.EEActionDim), make([]float32, msgs.EEActionDim)
	for k := range sum {
		if n == 0 {
			std[k] = 1
			continue
		}
		m := sum[k] / float64(n)
		v := sq[k]/float64(n) - m*m
		mean[k] = float32(m)
		std[k] = float32(math.Sqrt(math.Max(v, 0)))
		if std[k] < 1e-6 {
			std[k] = ConstantActionStd
		}
	}
	return mean, std
}

// Order is the sample visiting order of an epoch: a full permutation of the
// cached steps fixed by (seed, epoch).
func (c *Cache) Order(seed uint64, epoch int) []int {
	return rand.New(rand.NewPCG(seed, uint64(epoch))).Perm(c.n)
}

// Close closes every cache file.
func (c *Cache) Close() error {
	var errs []error
	for _, f := range c.files {
		if err := f.f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	c.files = nil
	return errors.Join(errs...)
}
