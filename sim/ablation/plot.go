package ablation

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/vla3d/vla3d/viz"
)

// WritePNG draws one grouped bar chart per task (success % per split, one
// bar per row) stacked into a PNG at path.
func (t *Table) WritePNG(path string) error {
	if len(t.Cells) == 0 {
		return fmt.Errorf("ablation plot: no cells")
	}
	var panels []*plot.Plot
	for _, task := range t.Config.Tasks {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: closed-loop success, %d episodes per bar", task, t.Config.Episodes)
		p.Y.Label.Text = "success (%)"
		p.Y.Min, p.Y.Max = 0, 100
		width := vg.Points(min(18, 120/float64(len(t.Rows))))
		for i, row := range t.Rows {
			vals := make(plotter.Values, len(t.Config.Splits))
			for j, s := range t.Config.Splits {
				if c, ok := t.Cell(row, task, s); ok {
					vals[j] = 100 * c.Rate()
				}
			}
			bars, err := plotter.NewBarChart(vals, width)
			if err != nil {
				return fmt.Errorf("ablation plot: %w", err)
			}
			bars.Color = plotutil.Color(i)
			bars.LineStyle.Width = 0
			bars.Offset = width * vg.Length(float64(i)-float64(len(t.Rows)-1)/2)
			p.Add(bars)
			p.Legend.Add(row, bars)
		}
		p.Legend.Top = true
		p.NominalX(t.Config.Splits...)
		panels = append(panels, p)
	}
	return viz.SavePanels(panels, path)
}
