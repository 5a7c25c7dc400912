package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/vla3d/vla3d/msgs"
)

// runRender writes the first observation of an episode as PNGs (colour,
// depth, labels per camera): a quick look at a task and split.
func runRender(ctx context.Context, c *common, args []string) error {
	fs := newFlags("render", c)
	out := fs.String("out", "render", "output directory")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	log, env, err := c.setup()
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	defer env.Close()
	if err := env.Reset(ctx, c.spec()); err != nil {
		return err
	}
	obs, err := env.Observe(ctx)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for i := range obs.Cameras {
		cf := &obs.Cameras[i]
		imgs := map[string]image.Image{"color": colorImage(&cf.Color), "depth": depthImage(&cf.Depth)}
		if len(cf.Labels.IDs) > 0 {
			imgs["labels"] = labelImage(&cf.Labels)
		}
		for kind, img := range imgs {
			if err := writePNG(filepath.Join(*out, cf.Name+"_"+kind+".png"), img); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(c.stdout, "%s: %q, %d cameras written to %s\n", c.task, obs.Instruction, len(obs.Cameras), *out)
	return nil
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func colorImage(m *msgs.RGBImage) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, m.Width, m.Height))
	for i := 0; i < m.Width*m.Height; i++ {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = m.Pix[3*i], m.Pix[3*i+1], m.Pix[3*i+2], 255
	}
	return img
}

// depthImage maps depth to grey, near = bright, over the frame's valid range.
func depthImage(m *msgs.DepthImage) image.Image {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, z := range m.Meters {
		if z == z {
			lo, hi = math.Min(lo, float64(z)), math.Max(hi, float64(z))
		}
	}
	img := image.NewGray(image.Rect(0, 0, m.Width, m.Height))
	for i, z := range m.Meters {
		if z == z && hi > lo {
			img.Pix[i] = uint8(255 * (hi - float64(z)) / (hi - lo))
		}
	}
	return img
}

// labelImage gives every instance id a distinct colour (0 stays black).
func labelImage(m *msgs.LabelImage) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, m.Width, m.Height))
	for i, id := range m.IDs {
		c := color.RGBA{A: 255}
		if id != 0 {
			c.R, c.G, c.B = uint8(id*97), uint8(id*57+80), uint8(id*181+40)
		}
		img.SetRGBA(i%m.Width, i/m.Width, c)
	}
	return img
}
