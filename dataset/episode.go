package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/observe"
)

// Span is one episode of a recording: the receive-time range it covers.
type Span struct {
	Index      int       // episode number within the recording
	Start, End time.Time // inclusive
	// Marker is the start marker's text (JSON for the simulator's bags).
	Marker string
}

// Cameras lists the camera names found in a recording: every <c> with a
// /<c>/color/image_raw topic, sorted.
func Cameras(info bag.Info) []string {
	var out []string
	for topic := range info.Topics {
		if c, ok := contract.CameraOfColorTopic(topic); ok {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// cameras resolves the configured camera list against a recording.
func (c *Config) cameras(info bag.Info) ([]observe.Camera, error) {
	cams := c.Cameras
	if len(cams) == 0 {
		cams = CameraNames(Cameras(info)...)
	}
	if len(cams) == 0 {
		return nil, fmt.Errorf("dataset: %s: no camera topics (/<camera>/color/image_raw)", info.Path)
	}
	for _, cam := range cams {
		for _, t := range []string{cam.ColorTopic, cam.DepthTopic} {
			if info.Topics[t].Messages == 0 {
				return nil, fmt.Errorf("dataset: %s: camera %q has no messages on %s", info.Path, cam.Name, t)
			}
		}
	}
	return cams, nil
}

// isEndMarker reports whether an episode marker's text (outside bytes) is
// the simulator's JSON end event; anything else, free text included, opens
// an episode.
func isEndMarker(text string) bool {
	var ev markerEvent
	return json.Unmarshal([]byte(text), &ev) == nil && ev.Event == "end"
}

// markerEvent is the part of the simulator's JSON marker that matters here.
type markerEvent struct {
	Event string `json:"event"`
}

// Spans splits a recording into episodes according to cfg.Split.
func Spans(ctx context.Context, src bag.Source, cfg Config) ([]Span, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	info := src.Info()
	if info.Messages == 0 {
		return nil, fmt.Errorf("dataset: %s: recording has no messages", info.Path)
	}
	mode := cfg.Split
	if mode == SplitAuto {
		mode = SplitGap
		if cfg.Topics.Episode != "" && info.Topics[cfg.Topics.Episode].Messages > 0 {
			mode = SplitMarker
		}
	}
	switch mode {
	case SplitFile:
		return []Span{{Start: info.Start, End: info.End}}, nil
	case SplitMarker:
		return markerSpans(ctx, src, cfg)
	default:
		return gapSpans(ctx, src, cfg)
	}
}

func markerSpans(ctx context.Context, src bag.Source, cfg Config) ([]Span, error) {
	info := src.Info()
	if info.Topics[cfg.Topics.Episode].Messages == 0 {
		return nil, fmt.Errorf("dataset: %s: split by marker but %s has no messages", info.Path, cfg.Topics.Episode)
	}
	var types bag.TypeCache
	var spans []Span
	open := false
	it := src.Read(ctx, bag.Query{Topics: []string{cfg.Topics.Episode}})
	for it.Next() {
		m := it.Message()
		var s std_msgs.String
		if err := m.Decode(&types, &s); err != nil {
			return nil, fmt.Errorf("dataset: episode marker: %w", err)
		}
		switch {
		case isEndMarker(s.Data):
			if open {
				spans[len(spans)-1].End = m.Time
				open = false
			}
		default: // a start event, or any free-text marker, opens an episode
			if open {
				spans[len(spans)-1].End = m.Time.Add(-time.Nanosecond)
			}
			spans = append(spans, Span{Index: len(spans), Start: m.Time, Marker: s.Data})
			open = true
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	if open {
		// No end marker (recording cut short): the episode runs to the end.
		spans[len(spans)-1].End = info.End
		cfg.Logger.Warn("last episode has no end marker; it runs to the end of the recording", zap.String("path", info.Path))
	}
	return spans, nil
}

func gapSpans(ctx context.Context, src bag.Source, cfg Config) ([]Span, error) {
	info := src.Info()
	cams, err := cfg.cameras(info)
	if err != nil {
		return nil, err
	}
	gap := cfg.Gap
	if gap <= 0 {
		return []Span{{Start: info.Start, End: info.End}}, nil
	}
	var spans []Span
	var last time.Time
	it := src.Read(ctx, bag.Query{Topics: []string{cams[0].ColorTopic}})
	for it.Next() {
		t := it.Message().Time
		switch {
		case len(spans) == 0:
			spans = append(spans, Span{Start: info.Start})
		case t.Sub(last) > gap:
			spans[len(spans)-1].End = last
			spans = append(spans, Span{Index: len(spans), Start: t})
		}
		last = t
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	if len(spans) == 0 {
		return nil, fmt.Errorf("dataset: %s: no images on %s", info.Path, cams[0].ColorTopic)
	}
	spans[len(spans)-1].End = info.End
	return spans, nil
}
