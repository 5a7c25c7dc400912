package viz

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
)

// Frames renders the animation's frames: each camera annotated, side by
// side, with the caption underneath.
func (r *Recorder) Frames(caption string) []*image.RGBA {
	out := make([]*image.RGBA, 0, len(r.frames))
	for i := range r.frames {
		f := &r.frames[i]
		annotate(f)
		out = append(out, strip(f, fmt.Sprintf("%s  step %d", caption, i*r.cfg.Every)))
	}
	return out
}

// WriteGIF writes the annotated episode as an animated GIF (delay in
// hundredths of a second per frame) at path.
func (r *Recorder) WriteGIF(path, caption string, delay int) error {
	frames := r.Frames(caption)
	if len(frames) == 0 {
		return errors.New("viz: no frames to write")
	}
	anim := &gif.GIF{}
	for _, f := range frames {
		p := image.NewPaletted(f.Rect, palette.Plan9)
		draw.Draw(p, f.Rect, f, image.Point{}, draw.Src)
		anim.Image = append(anim.Image, p)
		anim.Delay = append(anim.Delay, delay)
	}
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	if err := gif.EncodeAll(fh, anim); err != nil {
		_ = fh.Close()
		return fmt.Errorf("viz: %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	return nil
}

// WriteTopDown writes a top-down (x, y in the base frame) PNG of the
// end-effector path, the predicted instances (coloured by confidence) and
// the objects' true positions, titled caption.
func (r *Recorder) WriteTopDown(path, caption string) error {
	if len(r.path) == 0 {
		return errors.New("viz: empty episode")
	}
	p := plot.New()
	p.Title.Text = caption
	p.X.Label.Text, p.Y.Label.Text = "x (m)", "y (m)"
	ee := make(plotter.XYs, len(r.path))
	for i, q := range r.path {
		ee[i] = plotter.XY{X: q[0], Y: q[1]}
	}
	l, err := plotter.NewLine(ee)
	if err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	l.Color, l.Width = planColor, vg.Points(1.5)
	p.Add(plotter.NewGrid(), l)
	p.Legend.Add("end effector", l)
	if len(r.predicted) > 0 {
		pts := make(plotter.XYs, len(r.predicted))
		for i, in := range r.predicted {
			pts[i] = plotter.XY{X: float64(in.Point[0]), Y: float64(in.Point[1])}
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("viz: %w", err)
		}
		s.GlyphStyleFunc = func(i int) draw2Glyph { return glyph(confidenceColor(r.predicted[i].Score), 1.5) }
		p.Add(s)
		p.Legend.Add("predicted instances", s)
	}
	if len(r.anchors) > 0 {
		pts := make(plotter.XYs, len(r.anchors))
		for i, a := range r.anchors {
			pts[i] = plotter.XY{X: float64(a[0]), Y: float64(a[1])}
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("viz: %w", err)
		}
		s.GlyphStyle = crossGlyph(color.RGBA{R: 200, G: 170, A: 255}, 2)
		p.Add(s)
		p.Legend.Add("anchors (grasp, place)", s)
	}
	if names := r.truthNames(); len(names) > 0 {
		pts := make(plotter.XYs, len(names))
		labels := make([]string, len(names))
		for i, n := range names {
			t := r.truth[n]
			pts[i], labels[i] = plotter.XY{X: t[0], Y: t[1]}, n
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("viz: %w", err)
		}
		s.GlyphStyle = glyph(color.RGBA{B: 200, A: 255}, 4)
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
		if err != nil {
			return fmt.Errorf("viz: %w", err)
		}
		p.Add(s, lb)
		p.Legend.Add("true objects", s)
	}
	c := vgimg.New(6*vg.Inch, 6*vg.Inch)
	p.Draw(drawCanvas(c))
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(fh); err != nil {
		_ = fh.Close()
		return fmt.Errorf("viz: %s: %w", path, err)
	}
	return fh.Close()
}

// WriteEpisode writes dir/name.gif (the annotated cameras) and
// dir/name_top.png (the top-down plot), both captioned.
func (r *Recorder) WriteEpisode(dir, name, caption string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	if err := r.WriteGIF(filepath.Join(dir, name+".gif"), caption, 20); err != nil {
		return err
	}
	return r.WriteTopDown(filepath.Join(dir, name+"_top.png"), caption)
}
