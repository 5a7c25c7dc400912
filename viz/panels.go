package viz

import (
	"fmt"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Panel sizes of SavePanels: one panel is PanelWidth x PanelHeight.
const (
	PanelWidth  = 9 * vg.Inch
	PanelHeight = 3.5 * vg.Inch
)

// SavePanels stacks the plots vertically, aligned, into one PNG at path
// (training curves, ablation bars: every figure of the project's reports).
func SavePanels(panels []*plot.Plot, path string) error {
	img := vgimg.New(PanelWidth, PanelHeight*vg.Length(len(panels)))
	grid := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		grid[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(grid, draw.Tiles{Rows: len(panels), Cols: 1}, draw.New(img))
	for i, p := range panels {
		p.Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save plot %s: %w", path, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("save plot %s: %w", path, err)
	}
	return f.Close()
}
