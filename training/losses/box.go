package losses

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// L1 is the elementwise absolute difference |pred − target|; used for box
// coordinates, 3D reference points and the L1 action head.
func L1(pred, target *Node) *Node {
	return Abs(Sub(pred, ConvertDType(target, pred.DType())))
}

// cxcywhToCorners splits a [...,4] cxcywh tensor into x0,y0,x1,y1 [...].
func cxcywhToCorners(b *Node) (x0, y0, x1, y1 *Node) {
	last := b.Rank() - 1
	cx := Squeeze(SliceAxis(b, last, AxisElem(0)), last)
	cy := Squeeze(SliceAxis(b, last, AxisElem(1)), last)
	w := Squeeze(SliceAxis(b, last, AxisElem(2)), last)
	h := Squeeze(SliceAxis(b, last, AxisElem(3)), last)
	hw, hh := MulScalar(w, 0.5), MulScalar(h, 0.5)
	return Sub(cx, hw), Sub(cy, hh), Add(cx, hw), Add(cy, hh)
}

// GIoU is the generalized IoU of two box sets in normalised cxcywh layout
// [...,4] → [...]. The loss term is 1 − GIoU. Widths/heights are clamped at 0
// so a head that momentarily predicts a negative size still gets a gradient
// from the enclosing-box term instead of NaN.
func GIoU(a, b *Node) *Node {
	b = ConvertDType(b, a.DType())
	ax0, ay0, ax1, ay1 := cxcywhToCorners(a)
	bx0, by0, bx1, by1 := cxcywhToCorners(b)
	areaA := Mul(MaxScalar(Sub(ax1, ax0), 0.0), MaxScalar(Sub(ay1, ay0), 0.0))
	areaB := Mul(MaxScalar(Sub(bx1, bx0), 0.0), MaxScalar(Sub(by1, by0), 0.0))
	iw := MaxScalar(Sub(Min(ax1, bx1), Max(ax0, bx0)), 0.0)
	ih := MaxScalar(Sub(Min(ay1, by1), Max(ay0, by0)), 0.0)
	inter := Mul(iw, ih)
	union := Sub(Add(areaA, areaB), inter)
	const eps = 1e-7
	iou := Div(inter, AddScalar(union, eps))
	cw := MaxScalar(Sub(Max(ax1, bx1), Min(ax0, bx0)), 0.0)
	ch := MaxScalar(Sub(Max(ay1, by1), Min(ay0, by0)), 0.0)
	enclose := AddScalar(Mul(cw, ch), eps)
	return Sub(iou, Div(Sub(enclose, AddScalar(union, eps)), enclose))
}
