package training

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// PlotLosses draws every loss series of recs against the global step into a
// PNG at path, on a log y axis (loss terms span orders of magnitude), with a
// moving average of window steps to make trends readable on noisy batches.
func PlotLosses(recs []Record, path string, window int) error {
	if len(recs) == 0 {
		return fmt.Errorf("plot losses: no records")
	}
	keys := map[string]bool{}
	for _, r := range recs {
		for k := range r.Losses {
			keys[k] = true
		}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)

	p := plot.New()
	p.Title.Text = "vla3d training losses"
	p.X.Label.Text = "step"
	p.Y.Label.Text = "loss (moving average)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	for i, name := range names {
		xy := smoothSeries(recs, name, window)
		if len(xy) == 0 {
			continue
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		line.Color = plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i / 7)
		p.Add(line)
		p.Legend.Add(name, line)
	}
	p.Legend.Top = true
	if err := p.Save(9*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("save plot %s: %w", path, err)
	}
	return nil
}

// smoothSeries is the trailing moving average of one loss, floored at 1e-6
// so the log axis accepts exact zeros.
func smoothSeries(recs []Record, name string, window int) plotter.XYs {
	if window < 1 {
		window = 1
	}
	var xy plotter.XYs
	var buf []float64
	var sum float64
	for _, r := range recs {
		v, ok := r.Losses[name]
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		buf = append(buf, v)
		sum += v
		if len(buf) > window {
			sum -= buf[0]
			buf = buf[1:]
		}
		xy = append(xy, plotter.XY{X: float64(r.Step), Y: math.Max(sum/float64(len(buf)), 1e-6)})
	}
	return xy
}
