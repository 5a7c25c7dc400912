package dataset

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/bag/mcapbag"
	"github.com/vla3d/vla3d/bag/rosbag2"
)

// OpenSource opens a recording: a ROS 1 bag or an MCAP file (told apart by
// its magic), a rosbag2 directory (metadata.yaml with MCAP or sqlite3
// storage) or a rosbag2 .db3 file.
func OpenSource(path string, log *zap.Logger) (bag.Source, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if rosbag2.IsRecording(path) || strings.HasSuffix(path, ".db3") {
		return rosbag2.Open(path, log)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	magic := make([]byte, 8)
	_, rerr := io.ReadFull(f, magic)
	if cerr := f.Close(); cerr != nil {
		return nil, fmt.Errorf("dataset: %w", cerr)
	}
	if rerr != nil {
		return nil, fmt.Errorf("dataset: %s: too short to be a recording: %w", path, rerr)
	}
	switch {
	case string(magic) == mcapbag.Magic:
		return mcapbag.Open(path, log)
	case strings.HasPrefix(string(magic), "#ROSBAG"):
		return bag.Open(path, bag.WithLogger(log))
	default:
		return nil, fmt.Errorf("dataset: %s is neither a ROS bag, an MCAP file nor a rosbag2 recording", path)
	}
}

// Episode locates one episode: a recording and a span of it.
type Episode struct {
	Path string
	Span Span
}

// Key identifies the episode across runs (path and span).
func (e Episode) Key() string {
	return fmt.Sprintf("%s#%d@%d-%d", e.Path, e.Span.Index, e.Span.Start.UnixNano(), e.Span.End.UnixNano())
}

// Dataset is an ordered list of episodes over recordings; steps are read on
// demand, one episode at a time.
type Dataset struct {
	cfg      Config
	episodes []Episode
}

// ExpandPaths turns files and directories (searched recursively for *.bag,
// *.mcap, *.db3 and rosbag2 directories, each of which is one recording)
// into a sorted list of recordings.
func ExpandPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if !st.IsDir() || rosbag2.IsRecording(p) {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && rosbag2.IsRecording(path) {
				out = append(out, path)
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".bag") || strings.HasSuffix(path, ".mcap") || strings.HasSuffix(path, ".db3")) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Open indexes the episodes of every recording under paths. A recording
// that cannot be opened or split is skipped with a warning unless it is the
// only one.
func Open(ctx context.Context, paths []string, cfg Config) (*Dataset, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	files, err := ExpandPaths(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("dataset: no recordings (*.bag, *.mcap, *.db3, rosbag2 directories) found")
	}
	d := &Dataset{cfg: cfg}
	var errs []error
	for _, p := range files {
		spans, err := fileSpans(ctx, p, cfg)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			cfg.Logger.Warn("skipping recording", zap.String("path", p), zap.Error(err))
			errs = append(errs, err)
			continue
		}
		for _, s := range spans {
			d.episodes = append(d.episodes, Episode{Path: p, Span: s})
		}
	}
	if len(d.episodes) == 0 {
		return nil, fmt.Errorf("dataset: no usable episode: %w", errors.Join(errs...))
	}
	return d, nil
}

func fileSpans(ctx context.Context, path string, cfg Config) ([]Span, error) {
	src, err := OpenSource(path, cfg.Logger)
	if err != nil {
		return nil, err
	}
	spans, err := Spans(ctx, src, cfg)
	return spans, errors.Join(err, src.Close())
}

// Config returns the configuration the dataset was opened with.
func (d *Dataset) Config() Config { return d.cfg }

// Episodes lists the episodes in dataset order.
func (d *Dataset) Episodes() []Episode { return d.episodes }

// Len is the number of episodes.
func (d *Dataset) Len() int { return len(d.episodes) }

// Split divides the episodes into training and validation sets: the
// valFraction of episodes with the smallest seeded hash of their key go to
// validation (at least one when valFraction > 0 and there are two or more
// episodes). Whole episodes stay on one side, so no validation frame has a
// near-duplicate neighbour in training; the choice of an episode does not
// change when others are added.
func (d *Dataset) Split(valFraction float64, seed uint64) (train, val *Dataset) {
	type keyed struct {
		h uint64
		i int
	}
	ks := make([]keyed, len(d.episodes))
	for i, e := range d.episodes {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d|%s", seed, e.Key())
		ks[i] = keyed{h.Sum64(), i}
	}
	sort.Slice(ks, func(a, b int) bool { return ks[a].h < ks[b].h })
	nVal := int(valFraction*float64(len(ks)) + 0.5)
	if valFraction > 0 && nVal == 0 && len(ks) > 1 {
		nVal = 1
	}
	if nVal >= len(ks) && len(ks) > 1 {
		nVal = len(ks) - 1
	}
	isVal := make([]bool, len(ks))
	for _, k := range ks[:nVal] {
		isVal[k.i] = true
	}
	train, val = &Dataset{cfg: d.cfg}, &Dataset{cfg: d.cfg}
	for i, e := range d.episodes {
		if isVal[i] {
			val.episodes = append(val.episodes, e)
		} else {
			train.episodes = append(train.episodes, e)
		}
	}
	return train, val
}

// Order is the episode visiting order of an epoch: a permutation fixed by
// (seed, epoch), so a resumed run replays the same sequence.
func (d *Dataset) Order(seed uint64, epoch int) []int {
	return rand.New(rand.NewPCG(seed, uint64(epoch))).Perm(len(d.episodes))
}

// ReadEpisode streams episode i's steps to fn (see package-level ReadEpisode).
func (d *Dataset) ReadEpisode(ctx context.Context, i int, fn func(*Step) error) (EpisodeStats, error) {
	e := d.episodes[i]
	src, err := OpenSource(e.Path, d.cfg.Logger)
	if err != nil {
		return EpisodeStats{}, err
	}
	st, err := ReadEpisode(ctx, src, e.Span, d.cfg, fn)
	if cerr := src.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return st, fmt.Errorf("dataset: %s episode %d: %w", e.Path, e.Span.Index, err)
	}
	return st, nil
}

// Steps streams every step of one epoch, episodes in Order(seed, epoch),
// steps in time order within an episode. Only one episode is in memory.
func (d *Dataset) Steps(ctx context.Context, seed uint64, epoch int, fn func(ep int, s *Step) error) error {
	for _, i := range d.Order(seed, epoch) {
		if _, err := d.ReadEpisode(ctx, i, func(s *Step) error { return fn(i, s) }); err != nil {
			return err
		}
	}
	return nil
}
