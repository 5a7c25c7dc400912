package viz

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

var (
	planColor       = color.RGBA{R: 255, G: 50, B: 200, A: 255}
	completionColor = color.RGBA{R: 80, G: 150, B: 255, A: 255}
	anchorColor     = color.RGBA{R: 255, G: 255, B: 0, A: 255}
	captionBG       = color.RGBA{A: 255}
	captionFG       = color.RGBA{R: 255, G: 255, B: 255, A: 255}
)

// captionHeight is the text band under the camera strip.
const captionHeight = 16

func set(img *image.RGBA, x, y int, c color.RGBA) {
	if image.Pt(x, y).In(img.Rect) {
		img.SetRGBA(x, y, c)
	}
}

// disc fills a circle of radius r at (cx, cy).
func disc(img *image.RGBA, cx, cy, r float64, c color.RGBA) {
	for y := int(math.Floor(cy - r)); y <= int(math.Ceil(cy+r)); y++ {
		for x := int(math.Floor(cx - r)); x <= int(math.Ceil(cx+r)); x++ {
			if dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy; dx*dx+dy*dy <= r*r {
				set(img, x, y, c)
			}
		}
	}
}

// line draws a 1-pixel segment.
func line(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	n := int(math.Ceil(math.Max(math.Abs(x1-x0), math.Abs(y1-y0)))) + 1
	if n > 4096 {
		return // a point projected absurdly far: skip rather than loop
	}
	for i := range n {
		t := float64(i) / float64(max(n-1, 1))
		set(img, int(math.Floor(x0+t*(x1-x0))), int(math.Floor(y0+t*(y1-y0))), c)
	}
}

// annotate draws a frame's predictions into each of its views.
func annotate(f *frame) {
	for i := range f.views {
		v := &f.views[i]
		for _, c := range f.completion {
			if x, y, ok := v.Project(c); ok {
				disc(v.Image, x, y, 0.8, completionColor)
			}
		}
		var px, py float64
		have := false
		for _, q := range f.plan {
			x, y, ok := v.Project(q)
			if ok && have {
				line(v.Image, px, py, x, y, planColor)
			}
			px, py, have = x, y, ok
		}
		for _, in := range f.instances {
			if x, y, ok := v.Project(in.Point); ok {
				disc(v.Image, x, y, 1.5+2.5*float64(in.Score), color.RGBA{A: 255})
				disc(v.Image, x, y, 1+2.5*float64(in.Score), confidenceColor(in.Score))
			}
		}
		for _, a := range f.anchors { // a yellow cross: where the policy will grasp or place
			if x, y, ok := v.Project(a); ok {
				line(v.Image, x-3, y, x+3, y, anchorColor)
				line(v.Image, x, y-3, x, y+3, anchorColor)
			}
		}
	}
}

// strip lays a frame's views side by side over a caption band.
func strip(f *frame, caption string) *image.RGBA {
	w, h := 0, 0
	for _, v := range f.views {
		w += v.Image.Rect.Dx()
		h = max(h, v.Image.Rect.Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h+captionHeight))
	draw.Draw(out, out.Rect, image.NewUniform(captionBG), image.Point{}, draw.Src)
	x := 0
	for _, v := range f.views {
		r := v.Image.Rect
		draw.Draw(out, image.Rect(x, 0, x+r.Dx(), r.Dy()), v.Image, r.Min, draw.Src)
		x += r.Dx()
	}
	d := font.Drawer{Dst: out, Src: image.NewUniform(captionFG), Face: basicfont.Face7x13,
		Dot: fixed.P(2, h+captionHeight-4)}
	d.DrawString(caption)
	return out
}
