package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
)

// Projection is a reference point projected into every view.
type Projection struct {
	UV      *Node // [B,Q,V,2] sampling point normalized by image size (0..1 inside)
	Depth   *Node // [B,Q,V] z before the clamp
	Visible *Node // [B,Q,V] 1 when z > eps and the point falls inside the image
}

// Project projects reference points r [B,Q,3] (base frame) into every view
// with the depth clamp of the instance module:
//
//	(u, v, z) = K (R r + t),  z' = max(z, eps),  point = (u/z', v/z') / (W, H)
//
// camFromBase is [B,V,12] row-major [R|t], intrinsics [B,V,4] fx,fy,cx,cy.
func Project(cfg Config, r, camFromBase, intrinsics *Node) Projection {
	b, v := camFromBase.Shape().Dimensions[0], camFromBase.Shape().Dimensions[1]
	rt := Reshape(camFromBase, b, v, 3, 4)
	rot := Slice(rt, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, 3))
	trans := Squeeze(Slice(rt, AxisRange(), AxisRange(), AxisRange(), AxisElem(3)), -1) // [B,V,3]
	pc := Add(Einsum("bvij,bqj->bqvi", rot, r), InsertAxes(trans, 1))                   // [B,Q,V,3]
	x, y, z := takeElem(pc, -1, 0), takeElem(pc, -1, 1), takeElem(pc, -1, 2)
	k := InsertAxes(intrinsics, 1) // [B,1,V,4]
	fx := Squeeze(Slice(k, AxisRange(), AxisRange(), AxisRange(), AxisElem(0)), -1)
	fy := Squeeze(Slice(k, AxisRange(), AxisRange(), AxisRange(), AxisElem(1)), -1)
	cx := Squeeze(Slice(k, AxisRange(), AxisRange(), AxisRange(), AxisElem(2)), -1)
	cy := Squeeze(Slice(k, AxisRange(), AxisRange(), AxisRange(), AxisElem(3)), -1)
	zc := MaxScalar(z, cfg.DepthEps)
	u := DivScalar(Div(Add(Mul(fx, x), Mul(cx, z)), zc), float64(cfg.ImageWidth))
	vv := DivScalar(Div(Add(Mul(fy, y), Mul(cy, z)), zc), float64(cfg.ImageHeight))
	inside := LogicalAnd(LogicalAnd(GreaterThan(z, ConstAs(z, cfg.DepthEps)),
		LogicalAnd(GreaterOrEqual(u, ZerosLike(u)), LessOrEqual(u, OnesLike(u)))),
		LogicalAnd(GreaterOrEqual(vv, ZerosLike(vv)), LessOrEqual(vv, OnesLike(vv))))
	return Projection{UV: Stack([]*Node{u, vv}, -1), Depth: z, Visible: ConvertDType(inside, z.DType())}
}
