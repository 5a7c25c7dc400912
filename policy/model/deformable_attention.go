package model

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// DeformableAttention is the instance module's multi-view deformable
// cross-attention: for probe i and view v,
//
//	attn_v = W_o sum_h sum_l sum_k A_hlk * W F_l(point_v + offset_hlk)
//
// where offsets (in feature-map pixels of level l) and A (softmax over the
// L*K samples of each head) are predicted from the probe state q, and point_v
// is the projected reference point. Returns attn [B,Q,V,d]. The value
// projection W is linear like the pyramid's decoders, so it is folded into
// them: levels arrive as W F_l, computed once and shared by all decoder
// layers (saving a d x d projection of every map position per layer).
//
// Bilinear sampling is written densely: the sample at pixel position (x, y)
// is sum_j relu(1-|x-x_j|) relu(1-|y-y_j|) F_j over all map positions j,
// which is exactly bilinear interpolation with zero padding outside the map.
// It needs only Abs/Max/Mul and matmuls (no Gather), is differentiable in the
// sampling position everywhere, and at the pyramid sizes used here (<= 12x12
// per level) costs less than the attention around it.
func DeformableAttention(ctx *context.Context, cfg Config, q *Node, uv *Node, levels []Level) *Node {
	b, nq := q.Shape().Dimensions[0], q.Shape().Dimensions[1]
	v, d, heads, keys := cfg.Cameras, cfg.Width, cfg.Heads, cfg.DeformKeys
	dh := d / heads
	nl := len(levels)

	// Deformable-DETR initialisation: offsets start as a fixed pattern (head h
	// looks along direction 2*pi*h/heads, key k at k+1 pixels) and weights
	// start uniform; both layers' weights start at zero.
	offsets := denseInit(ctx, "sampling_offsets", q, offsetPattern(heads, nl, keys))
	offsets = Reshape(offsets, b, nq, heads, nl, keys, 2)
	weights := denseInit(ctx, "attention_weights", q, make([]float32, heads*nl*keys))
	weights = Softmax(Reshape(weights, b, nq, heads, nl*keys), -1)
	weights = Reshape(weights, b, nq, heads, nl, keys)

	var sum *Node
	for l, lv := range levels {
		val := Reshape(lv.Map, b, v, lv.H, lv.W, heads, dh) // W F_l, see Pyramid
		off := takeElem(offsets, 3, l)                      // [B,Q,heads,K,2]
		// Pixel coordinates with pixel centres at integers: x = u*W - 0.5.
		size := Const(q.Graph(), []float32{float32(lv.W), float32(lv.H)})
		pix := Sub(Mul(InsertAxes(uv, 3, 3), ExpandLeftToRank(size, 6)), ConstAs(uv, 0.5)) // [B,Q,V,1,1,2]
		pix = Add(pix, InsertAxes(off, 2))                                                 // [B,Q,V,heads,K,2]
		px, py := takeElem(pix, -1, 0), takeElem(pix, -1, 1)
		samp := bilinearSample(val, px, py)
		a := takeElem(weights, 3, l) // [B,Q,heads,K]
		contrib := Einsum("bqhk,bvhqkc->bqvhc", a, samp)
		if sum == nil {
			sum = contrib
		} else {
			sum = Add(sum, contrib)
		}
	}
	return dense(ctx, "output", Reshape(sum, b, nq, v, d), d)
}

// hatWeights returns relu(1 - |p - j|) for j = 0..n-1, appended as a last
// axis: the bilinear interpolation weights of position p on a 1D grid.
func hatWeights(p *Node, n int) *Node {
	grid := Iota(p.Graph(), shapeOf(p.DType(), n), 0)
	dist := Abs(Sub(InsertAxes(p, -1), ExpandLeftToRank(grid, p.Rank()+1)))
	return relu(OneMinus(dist))
}

// bilinearSample samples val [B,V,h,w,heads,c] at pixel positions px, py
// [B,Q,V,heads,K] (pixel centres at integers) with zero padding; returns
// [B,V,heads,Q,K,c]. The separable hat weights are combined into one
// [.., h*w] weight per sample (an elementwise outer product) so the sampling
// is a single batched matmul contracting all h*w positions.
func bilinearSample(val, px, py *Node) *Node {
	dims := val.Shape().Dimensions
	b, v, h, w, heads, c := dims[0], dims[1], dims[2], dims[3], dims[4], dims[5]
	q, k := px.Shape().Dimensions[1], px.Shape().Dimensions[4]
	wx := hatWeights(px, w)                          // [B,Q,V,heads,K,w]
	wy := hatWeights(py, h)                          // [B,Q,V,heads,K,h]
	w2 := Mul(InsertAxes(wy, -1), InsertAxes(wx, 5)) // [B,Q,V,heads,K,h,w]
	w2 = Reshape(TransposeAllAxes(w2, 0, 2, 3, 1, 4, 5, 6), b, v, heads, q, k, h*w)
	vals := Reshape(TransposeAllAxes(val, 0, 1, 4, 2, 3, 5), b, v, heads, h*w, c)
	return Einsum("bvhqkp,bvhpc->bvhqkc", w2, vals)
}

// offsetPattern is the initial bias of the sampling offsets, laid out
// [heads, levels, keys, 2].
func offsetPattern(heads, levels, keys int) []float32 {
	out := make([]float32, 0, heads*levels*keys*2)
	for h := range heads {
		ang := 2 * math.Pi * float64(h) / float64(heads)
		for range levels {
			for k := range keys {
				out = append(out, float32(math.Cos(ang)*float64(k+1)), float32(math.Sin(ang)*float64(k+1)))
			}
		}
	}
	return out
}
