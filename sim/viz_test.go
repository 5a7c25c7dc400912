package sim

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteImages writes every camera's colour, depth and labels as PNG when
// VLA3D_SIM_VIZ names a directory (a debugging aid, skipped otherwise).
func TestWriteImages(t *testing.T) {
	dir := os.Getenv("VLA3D_SIM_VIZ")
	if dir == "" {
		t.Skip("set VLA3D_SIM_VIZ=<dir> to write sample images")
	}
	env, err := New(Config{Width: 224, Height: 224})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	for _, task := range []string{TaskPickPlace, TaskOcclusion} {
		if err := env.Reset(ctx, EpisodeSpec{Task: task, Split: SplitNone, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		obs, err := env.Observe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range obs.Cameras {
			w, h := c.Color.Width, c.Color.Height
			rgb := image.NewRGBA(image.Rect(0, 0, w, h))
			dep := image.NewGray(image.Rect(0, 0, w, h))
			lab := image.NewRGBA(image.Rect(0, 0, w, h))
			for i := 0; i < w*h; i++ {
				x, y := i%w, i/w
				rgb.Set(x, y, color.RGBA{c.Color.Pix[3*i], c.Color.Pix[3*i+1], c.Color.Pix[3*i+2], 255})
				z := c.Depth.Meters[i]
				dep.Set(x, y, color.Gray{uint8(min(255, max(0, z*100)))})
				l := c.Labels.IDs[i]
				lab.Set(x, y, color.RGBA{uint8(l * 37), uint8(l * 91), uint8(l * 53), 255})
			}
			for name, img := range map[string]image.Image{"rgb": rgb, "depth": dep, "labels": lab} {
				f, err := os.Create(filepath.Join(dir, task+"_"+c.Name+"_"+name+".png"))
				if err != nil {
					t.Fatal(err)
				}
				if err := png.Encode(f, img); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
