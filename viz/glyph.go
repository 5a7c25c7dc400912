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

// crossGlyph is a cross of the given colour and radius (points).
func crossGlyph(c color.Color, radius float64) draw.GlyphStyle {
	return draw.GlyphStyle{Color: c, Radius: vg.Points(radius), Shape: draw.CrossGlyph{}}
}

func drawCanvas(c *vgimg.Canvas) draw.Canvas { return draw.New(c) }
