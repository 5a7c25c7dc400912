package training

import (
	"bytes"
	pngpkg "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricsLogResumeTruncatesAndPlots(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.jsonl")
	m, err := OpenMetricsLog(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 10; s++ {
		if err := m.Write(Record{Step: s, Stage: Stage1, Losses: map[string]float64{"action": 1 / float64(s), "zero": 0}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Simulate a torn last line from a kill.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"step":11,"los`)
	f.Close()
	recs, err := ReadMetrics(path)
	if err != nil || len(recs) != 10 {
		t.Fatalf("read %d records, %v", len(recs), err)
	}
	// Resume from a checkpoint at step 6: steps 7.. are dropped.
	m, err = OpenMetricsLog(path, 6)
	if err != nil {
		t.Fatal(err)
	}
	m.Write(Record{Step: 7, Losses: map[string]float64{"action": 0.1}})
	m.Close()
	recs, err = ReadMetrics(path)
	if err != nil || len(recs) != 7 || recs[6].Step != 7 {
		t.Fatalf("after resume: %d records, %v", len(recs), err)
	}
	png := filepath.Join(dir, "loss.png")
	if err := PlotLosses(recs, png, 3); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("png: %v", err)
	}
}

func TestFormatLossesAndProgress(t *testing.T) {
	got := FormatLosses(map[string]float64{"b": 2, "total": 3, "a": 1})
	if got != "total=3 a=1 b=2" {
		t.Fatalf("FormatLosses = %q", got)
	}
	var buf bytes.Buffer
	p := NewProgress(&buf, 3, 1, "stage 1")
	p.Step(map[string]float64{"total": 0.5})
	p.Finish()
	if !strings.Contains(buf.String(), "total=0.5") {
		t.Fatalf("progress output %q", buf.String())
	}
}

func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte(`{"step":1,"stage":1,"losses":{"action":0.5}}` + "\n" + `{"step":2,"los`))
	f.Add([]byte("not json\n{}\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ParseMetrics(bytes.NewReader(data), "fuzz")
		if err == nil {
			for i := 1; i < len(recs); i++ {
				if recs[i].Step < recs[i-1].Step {
					t.Fatalf("records not sorted by step")
				}
			}
		}
	})
}

// With the instance and anchor localisation figures and the predictor's
// loss, the plot stacks four panels: losses, instance localisation error
// (cm), anchor error (cm), completion error.
func TestPlotFigurePanels(t *testing.T) {
	var recs []Record
	for s := 1; s <= 20; s++ {
		recs = append(recs, Record{Step: s, Losses: map[string]float64{"action": 1 / float64(s), "pred_cosine": 0.9 - 0.02*float64(s)},
			Metrics: map[string]float64{MetricInstanceErrorCM: 30 - float64(s), MetricAnchorErrorCM: 20 - float64(s)}})
	}
	png := filepath.Join(t.TempDir(), "loss.png")
	if err := PlotLosses(recs, png, 3); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(png)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := pngpkg.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	// 9 x 3.5 in per panel at vgimg's default 96 dpi.
	if cfg.Width != 864 || cfg.Height != 4*336 {
		t.Fatalf("plot %dx%d, want four 864x336 panels", cfg.Width, cfg.Height)
	}
}
