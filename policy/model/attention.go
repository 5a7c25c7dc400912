package model

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// attnArgs describes one multi-head attention call. Angles (from RoPE3D) are
// applied to q and k only, never to v, so logits depend on relative 3D
// position alone. KeyMask is [B,Tk] with 1 for keys that may be attended.
type attnArgs struct {
	Heads     int
	Rope      *RoPE3D
	QAngles   *Node // [B,Tq,dh/2] or nil
	KAngles   *Node // [B,Tk,dh/2] or nil
	KeyMask   *Node // [B,Tk] or nil
	LogitBias *Node // [B,heads|1,Tq,Tk] added to logits, or nil
}

// attention is multi-head scaled dot-product attention from queries x
// [B,Tq,d] to keys/values kv [B,Tk,d]; output [B,Tq,d].
func attention(ctx *context.Context, x, kv *Node, a attnArgs) *Node {
	d := x.Shape().Dimensions[2]
	dh := d / a.Heads
	q := splitHeads(dense(ctx, "query", x, d), a.Heads)
	k := splitHeads(dense(ctx, "key", kv, d), a.Heads)
	v := splitHeads(dense(ctx, "value", kv, d), a.Heads)
	if a.Rope != nil {
		if a.QAngles != nil {
			q = a.Rope.Rotate(q, a.QAngles)
		}
		if a.KAngles != nil {
			k = a.Rope.Rotate(k, a.KAngles)
		}
	}
	logits := MulScalar(Einsum("bhqc,bhkc->bhqk", q, k), 1/math.Sqrt(float64(dh)))
	if a.KeyMask != nil {
		logits = Add(logits, keyBias(a.KeyMask))
	}
	if a.LogitBias != nil {
		logits = Add(logits, a.LogitBias)
	}
	w := Softmax(logits, -1)
	o := Einsum("bhqk,bhkc->bhqc", w, v)
	return dense(ctx, "output", mergeHeads(o), d)
}

// splitHeads reshapes [B,T,d] to [B,heads,T,d/heads].
func splitHeads(x *Node, heads int) *Node {
	dims := x.Shape().Dimensions
	return TransposeAllAxes(Reshape(x, dims[0], dims[1], heads, dims[2]/heads), 0, 2, 1, 3)
}

// mergeHeads is the inverse of splitHeads.
func mergeHeads(x *Node) *Node {
	dims := x.Shape().Dimensions
	return Reshape(TransposeAllAxes(x, 0, 2, 1, 3), dims[0], dims[2], dims[1]*dims[3])
}

// block is a pre-norm transformer encoder block: self-attention (RoPE on q,k
// when angles are given) then a feed-forward network, both residual.
func block(ctx *context.Context, x *Node, a attnArgs, ffnHidden int) *Node {
	h := layerNorm(ctx, "norm1", x)
	x = Add(x, attention(ctx.In("self_attention"), h, h, a))
	return ffn(ctx, x, ffnHidden)
}

// ffn is the residual feed-forward half of a block.
func ffn(ctx *context.Context, x *Node, hidden int) *Node {
	d := x.Shape().Dimensions[x.Rank()-1]
	return Add(x, mlp(ctx.In("ffn"), layerNorm(ctx, "norm_ffn", x), hidden, d))
}
