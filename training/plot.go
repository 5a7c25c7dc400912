package training

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/vla3d/vla3d/viz"
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
	names := slices.Sorted(maps.Keys(keys))

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
	panels := []*plot.Plot{p}
	if loc := smoothFigure(recs, MetricInstanceErrorCM, window); len(loc) > 0 {
		q, err := figurePanel(loc, "instance localisation: reference point to pseudo-label centroid", "error (cm)", 0)
		if err != nil {
			return err
		}
		panels = append(panels, q)
	}
	if loc := smoothFigure(recs, MetricAnchorErrorCM, window); len(loc) > 0 {
		q, err := figurePanel(loc, "instance anchors: reference point to the demonstration's keyframe", "error (cm)", 2)
		if err != nil {
			return err
		}
		panels = append(panels, q)
	}
	if comp := smoothSeries(recs, "pred_cosine", window); len(comp) > 0 {
		q, err := figurePanel(comp, "predictor completion error at masked targets", "1 - cosine", 1)
		if err != nil {
			return err
		}
		panels = append(panels, q)
	}
	if q, err := validationPanel(recs); err != nil {
		return err
	} else if q != nil {
		panels = append(panels, q)
	}
	if len(panels) == 1 {
		if err := p.Save(9*vg.Inch, 5*vg.Inch, path); err != nil {
			return fmt.Errorf("save plot %s: %w", path, err)
		}
		return nil
	}
	return viz.SavePanels(panels, path)
}

// figurePanel is one linear-scale series under the loss plot.
func figurePanel(xy plotter.XYs, title, ylabel string, color int) (*plot.Plot, error) {
	q := plot.New()
	q.Title.Text = title
	q.X.Label.Text, q.Y.Label.Text = "step", ylabel
	q.Add(plotter.NewGrid())
	line, err := plotter.NewLine(xy)
	if err != nil {
		return nil, fmt.Errorf("plot %s: %w", title, err)
	}
	line.Color = plotutil.Color(color)
	q.Add(line)
	return q, nil
}

// smoothFigure is smoothSeries over a figure (Record.Metrics), on a linear
// scale (no floor).
func smoothFigure(recs []Record, name string, window int) plotter.XYs {
	moved := make([]Record, 0, len(recs))
	for _, r := range recs {
		if v, ok := r.Metrics[name]; ok {
			moved = append(moved, Record{Step: r.Step, Losses: map[string]float64{name: v}})
		}
	}
	return smoothSeries(moved, name, window)
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

// validationPanel plots every "val_" figure (closed-loop success, t=0 sweep)
// over the steps it was measured at; nil when there is none.
func validationPanel(recs []Record) (*plot.Plot, error) {
	names := map[string]bool{}
	for _, r := range recs {
		for k := range r.Metrics {
			if len(k) > 4 && k[:4] == "val_" {
				names[k] = true
			}
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	sorted := slices.Sorted(maps.Keys(names))
	q := plot.New()
	q.Title.Text = "validation on held-out seeds (closed-loop success, t=0 layout sweep)"
	q.X.Label.Text, q.Y.Label.Text = "step", "value"
	q.Add(plotter.NewGrid())
	for i, name := range sorted {
		xy := smoothFigure(recs, name, 1)
		line, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("plot %s: %w", name, err)
		}
		line.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		q.Add(line, pts)
		q.Legend.Add(name, line, pts)
	}
	q.Legend.Top = true
	return q, nil
}
