package training

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Record is one line of the metrics log (JSON lines): the scalar losses and
// diagnostics of one optimizer step.
type Record struct {
	Step      int                `json:"step"`
	Stage     Stage              `json:"stage"`
	StageStep int                `json:"stage_step"`
	Time      time.Time          `json:"time"`
	LR        float64            `json:"lr"`
	GradNorm  float64            `json:"grad_norm"`
	StepSec   float64            `json:"step_sec"`
	Losses    map[string]float64 `json:"losses"`
	// Metrics are figures that are no loss (MetricInstanceErrorCM).
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// MetricsLog appends Records to a JSON-lines file.
type MetricsLog struct {
	f *os.File
	w *bufio.Writer
}

// OpenMetricsLog opens path for appending after dropping records with
// Step > keepUpTo: after a resume, steps past the checkpoint are redone and
// must not appear twice. keepUpTo < 0 keeps everything.
func OpenMetricsLog(path string, keepUpTo int) (*MetricsLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("metrics dir: %w", err)
	}
	if keepUpTo >= 0 {
		recs, err := ReadMetrics(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		kept := recs[:0]
		for _, r := range recs {
			if r.Step <= keepUpTo {
				kept = append(kept, r)
			}
		}
		if err := writeRecords(path, kept); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open metrics log: %w", err)
	}
	return &MetricsLog{f: f, w: bufio.NewWriter(f)}, nil
}

func writeRecords(path string, recs []Record) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("rewrite metrics log: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return fmt.Errorf("rewrite metrics log: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("rewrite metrics log: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("rewrite metrics log: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rewrite metrics log: %w", err)
	}
	return nil
}

// Write appends r; it is flushed by Flush (called at each checkpoint) or Close.
func (m *MetricsLog) Write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("metrics record: %w", err)
	}
	if _, err := m.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("metrics write: %w", err)
	}
	return nil
}

// Flush pushes buffered records to the file.
func (m *MetricsLog) Flush() error {
	if err := m.w.Flush(); err != nil {
		return fmt.Errorf("metrics flush: %w", err)
	}
	return nil
}

// Close flushes and closes the log.
func (m *MetricsLog) Close() error {
	ferr := m.Flush()
	if err := m.f.Close(); err != nil {
		return fmt.Errorf("metrics close: %w", err)
	}
	return ferr
}

// ReadMetrics parses a metrics log, skipping a torn last line (a kill can
// leave one) but failing on corrupt lines elsewhere.
func ReadMetrics(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	defer f.Close()
	return ParseMetrics(f, path)
}

// ParseMetrics decodes a metrics log from r (name is used in errors).
func ParseMetrics(r io.Reader, name string) ([]Record, error) {
	path := name
	var recs []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var pending error
	for sc.Scan() {
		if pending != nil {
			return nil, pending
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			pending = fmt.Errorf("metrics %s: line %d: %w", path, len(recs)+1, err)
			continue
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Step < recs[j].Step })
	return recs, nil
}
