package eval

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"sort"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DimNames names the action dimensions in plots and tables (an array: the
// caller gets a copy).
func DimNames() [Dims]string {
	return [Dims]string{"dx", "dy", "dz", "droll", "dpitch", "dyaw", "gripper"}
}

// PlotEpisode draws predicted against recorded actions of one episode, one
// panel per action dimension, into a PNG at path. The report must have been
// made with Options.KeepSeries.
func PlotEpisode(er *EpisodeReport, path string) error {
	if len(er.Steps) == 0 {
		return errors.New("eval: episode has no scored steps to plot (run with KeepSeries)")
	}
	const rows, cols = 4, 2
	names := DimNames()
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	pred := color.RGBA{R: 214, G: 39, B: 40, A: 255}
	rec := color.RGBA{R: 31, G: 119, B: 180, A: 255}
	for k := range Dims {
		p := plot.New()
		p.Title.Text = names[k]
		p.X.Label.Text = "step"
		pp, rp := make(plotter.XYs, len(er.Steps)), make(plotter.XYs, len(er.Steps))
		for i, s := range er.Steps {
			pp[i] = plotter.XY{X: float64(i), Y: float64(s.Predicted[k])}
			rp[i] = plotter.XY{X: float64(i), Y: float64(s.Recorded[k])}
		}
		rl, err := plotter.NewLine(rp)
		if err != nil {
			return fmt.Errorf("eval: plot: %w", err)
		}
		rl.Color, rl.Width = rec, vg.Points(1.5)
		pl, err := plotter.NewLine(pp)
		if err != nil {
			return fmt.Errorf("eval: plot: %w", err)
		}
		pl.Color, pl.Width, pl.Dashes = pred, vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(plotter.NewGrid(), rl, pl)
		if k == 0 {
			p.Legend.Add("recorded", rl)
			p.Legend.Add("predicted", pl)
			p.Legend.Top = true
		}
		plots[k/cols][k%cols] = p
	}
	// The eighth panel summarises the episode's errors.
	sum := plot.New()
	sum.Title.Text = fmt.Sprintf("L1 per dim (episode %d, %d steps)", er.Episode, er.Metrics.N)
	vals := make(plotter.Values, Dims)
	for k := range Dims {
		vals[k] = er.Metrics.L1[k]
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(10))
	if err != nil {
		return fmt.Errorf("eval: plot: %w", err)
	}
	bars.Color = rec
	sum.Add(bars)
	sum.NominalX(names[:]...)
	plots[3][1] = sum

	img := vgimg.New(vg.Points(900), vg.Points(1000))
	dc := draw.New(img)
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, t, dc)
	for r := range rows {
		for c := range cols {
			if plots[r][c] != nil {
				plots[r][c].Draw(canvases[r][c])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("eval: plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		return errors.Join(fmt.Errorf("eval: plot: %w", err), f.Close())
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("eval: plot: %w", err)
	}
	return nil
}

// WriteText prints the report as aligned tables.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "episode\tsteps\tfailures\tdropped\tmean L1\tmean L2\tgripper acc\tsource\n")
	row := func(name string, m *Metrics, fails, dropped int, src string) {
		acc := "n/a"
		if m.GripperN > 0 {
			acc = fmt.Sprintf("%.3f", m.GripperAccuracy)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.5f\t%.5f\t%s\t%s\n", name, m.N, fails, dropped, m.MeanL1, m.MeanL2, acc, src)
	}
	fails, dropped := 0, 0
	for i := range r.Episodes {
		e := &r.Episodes[i]
		src := "recorded"
		if e.Derived {
			src = "derived"
		}
		row(fmt.Sprintf("%s#%d", e.Path, e.Episode), &e.Metrics, e.Failures, e.Dropped, src)
		fails += e.Failures
		dropped += e.Dropped
	}
	row("overall", &r.Overall, fails, dropped, "")
	if len(r.Dropped) > 0 {
		reasons := make([]string, 0, len(r.Dropped))
		for k := range r.Dropped {
			reasons = append(reasons, k)
		}
		sort.Strings(reasons)
		fmt.Fprintf(tw, "\ndropped sets\tcount\n")
		for _, k := range reasons {
			fmt.Fprintf(tw, "%s\t%d\n", k, r.Dropped[k])
		}
	}
	fmt.Fprintf(tw, "\ndim\tL1\tL2\n")
	names := DimNames()
	for k := range Dims {
		fmt.Fprintf(tw, "%s\t%.5f\t%.5f\n", names[k], r.Overall.L1[k], r.Overall.L2[k])
	}
	if len(r.HorizonL1) > 0 {
		fmt.Fprintf(tw, "\nchunk step\tmean L1 (motion)\n")
		for k, v := range r.HorizonL1 {
			fmt.Fprintf(tw, "%d\t%.5f\n", k, v)
		}
	}
	fmt.Fprintf(tw, "\nstage\tcount\tmean ms\tp50 ms\tp95 ms\tmax ms\n")
	for _, s := range []string{StageAssemble, StagePrepare, StagePredict, StageInference} {
		l, ok := r.Latency[s]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\n", s, l.Count, l.MeanMS, l.P50MS, l.P95MS, l.MaxMS)
	}
	fmt.Fprintf(tw, "\nreplayed %.1f s of recording in %.2f s (%.1fx real time)\n", r.RecordedSeconds, r.WallSeconds, r.Speedup)
	for _, w := range r.Warnings {
		fmt.Fprintf(tw, "warning: %s\n", w)
	}
	if r.DamagedChunks > 0 {
		fmt.Fprintf(tw, "damaged chunks skipped: %d (their messages are lost; see the warnings)\n", r.DamagedChunks)
	}
	for _, sk := range r.Skipped {
		fmt.Fprintf(tw, "skipped recording %s: %s\n", sk.Path, sk.Error)
	}
	return tw.Flush()
}
