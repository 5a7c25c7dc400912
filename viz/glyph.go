package viz

import (
	"image/color"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

type draw2Glyph = draw.GlyphStyle

func glyph(c color.Color, radius float64) draw.GlyphStyle {
	return draw.GlyphStyle{Color: c, Radius: vg.Points(radius), Shape: draw.CircleGlyph{}}
}

func drawCanvas(c *vgimg.Canvas) draw.Canvas { return draw.New(c) }
