package training

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress is a terminal progress bar with ETA that shows the latest losses.
type Progress struct {
	bar *progressbar.ProgressBar
}

// NewProgress starts a bar over total steps, already at done (resume).
func NewProgress(w io.Writer, total, done int, label string) *Progress {
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("step"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowDescriptionAtLineEnd(),
	)
	if done > 0 {
		_ = bar.Set(done)
	}
	return &Progress{bar: bar}
}

// Step advances the bar by one and shows losses (sorted by name).
func (p *Progress) Step(losses map[string]float64) {
	p.bar.Describe(FormatLosses(losses))
	_ = p.bar.Add(1)
}

// Finish completes the bar.
func (p *Progress) Finish() { _ = p.bar.Finish() }

// FormatLosses renders "total=0.123 action=0.045 ..." with total first.
func FormatLosses(losses map[string]float64) string {
	keys := make([]string, 0, len(losses))
	for k := range losses {
		if k != "total" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	if v, ok := losses["total"]; ok {
		fmt.Fprintf(&b, "total=%.4g", v)
	}
	for _, k := range keys {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%.4g", k, losses[k])
	}
	return b.String()
}
