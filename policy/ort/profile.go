package ort

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// ProfileRow is the time ONNX Runtime spent in one kind of node, summed over
// a profile (see Options.ProfilePrefix).
type ProfileRow struct {
	Key   string  // op type, or node name with ByNode
	Calls int     // node executions
	US    float64 // microseconds in all of them
	Share float64 // of the profile's node time
}

// SummarizeProfile reads an ONNX Runtime profile (Chrome trace JSON) and
// totals its node events ("<name>_kernel_time") by op type, or by node name
// when byNode, largest first. Session and model-run events are left out, so
// the shares are of the time spent inside kernels.
func SummarizeProfile(path string, byNode bool) ([]ProfileRow, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ort profile: %w", err)
	}
	var events []struct {
		Cat  string  `json:"cat"`
		Name string  `json:"name"`
		Dur  float64 `json:"dur"`
		Args struct {
			OpName string `json:"op_name"`
		} `json:"args"`
	}
	if err := json.Unmarshal(raw, &events); err != nil {
		return nil, fmt.Errorf("ort profile %s: %w", path, err)
	}
	rows := map[string]*ProfileRow{}
	var total float64
	for _, ev := range events {
		name, ok := strings.CutSuffix(ev.Name, "_kernel_time")
		if ev.Cat != "Node" || !ok {
			continue
		}
		key := ev.Args.OpName
		if byNode || key == "" {
			key = name
		}
		r := rows[key]
		if r == nil {
			r = &ProfileRow{Key: key}
			rows[key] = r
		}
		r.Calls++
		r.US += ev.Dur
		total += ev.Dur
	}
	out := make([]ProfileRow, 0, len(rows))
	for _, r := range rows {
		if total > 0 {
			r.Share = r.US / total
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].US > out[j].US || out[i].US == out[j].US && out[i].Key < out[j].Key })
	return out, nil
}
