package dataset

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/bag"
)

// Instructions returns the instruction in effect at the start of every
// episode (the latest one received at or before the episode starts, else the
// first one received during it; "" when there is none), reading only the
// instruction topic: far cheaper than decoding a step of each episode.
func (d *Dataset) Instructions(ctx context.Context) ([]string, error) {
	out := make([]string, len(d.episodes))
	if d.cfg.Topics.Instruction == "" {
		return out, nil
	}
	var types bag.TypeCache
	byPath := map[string][]int{}
	var order []string
	for i, e := range d.episodes {
		if byPath[e.Path] == nil {
			order = append(order, e.Path)
		}
		byPath[e.Path] = append(byPath[e.Path], i)
	}
	for _, path := range order {
		src, err := OpenSource(path, d.cfg.Logger)
		if err != nil {
			return nil, err
		}
		err = func() error {
			type timed struct {
				t    int64
				text string
			}
			var all []timed
			it := src.Read(ctx, bag.Query{Topics: []string{d.cfg.Topics.Instruction}})
			for it.Next() {
				m := it.Message()
				var s std_msgs.String
				if err := m.Decode(&types, &s); err != nil {
					return fmt.Errorf("dataset: %s: %w", path, err)
				}
				all = append(all, timed{m.Time.UnixNano(), s.Data})
			}
			if err := it.Err(); err != nil {
				return err
			}
			for _, i := range byPath[path] {
				sp := d.episodes[i].Span
				start, end := sp.Start.UnixNano(), sp.End.UnixNano()
				for _, x := range all { // time order
					if x.t <= start || out[i] == "" && x.t <= end {
						out[i] = x.text
					}
				}
			}
			return nil
		}()
		if cerr := src.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
