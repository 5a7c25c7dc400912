package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// PredictorOutput is the Coordinate-Driven 3D Self-Supervised Predictor's
// result.
type PredictorOutput struct {
	// Training only: predictions and stop-gradient EMA-teacher targets at
	// every token position, and the loss mask (masked and valid tokens).
	Pred, Target, LossMask *Node // [B,T,d], [B,T,d], [B,T]
	// Completion tokens: the predictor queried at the completion coordinates
	// with the full (unmasked) context, [B,C,d].
	Completion *Node
}

// PredictorArgs are the predictor's inputs.
type PredictorArgs struct {
	Fused            FusionOutput
	CompletionCoords *Node // [B,C,3]
	CompletionValid  *Node // [B,C]
	Training         bool
	Mask             *Node // [B,V,N] 1 = masked target; training only, sampled when nil
}

// Predictor is the Coordinate-Driven 3D Self-Supervised Predictor (I-JEPA
// style, scope "predictor").
//
// Context tokens = ContextEncoder(M) where the encoder adds Fourier3D(P) and
// a view embedding to a projection of M and runs one RoPE block over the
// visible tokens. Target queries = mask token + Fourier3D(target coords) +
// target-view embedding; each predictor block does cross-attention
// targets->context then self-attention among targets, both with 3D RoPE on
// q and k, then a feed-forward network.
//
// Training: asymmetric multi-view masking picks the targets; the student
// encoder sees only visible tokens; targets come from the EMA teacher (same
// encoder, scope predictor/teacher, non-trainable) over all tokens. To keep
// shapes static every token position is a query; LossMask marks the ones the
// loss uses, and self-attention among targets is restricted to them.
//
// Completion (training and inference): no masking; the predictor is queried
// at the completion coordinates. Completion queries belong to no single
// view, so their view embedding is the mean of the view embeddings.
func Predictor(ctx *context.Context, cfg Config, a PredictorArgs) PredictorOutput {
	// The student encoder and the blocks run twice in training (masked and
	// unmasked context) with shared weights.
	ctx = ctx.In("predictor").Checked(false)
	f := a.Fused
	g := f.Memory.Graph()
	b := f.Memory.Shape().Dimensions[0]
	t, v, n := cfg.Tokens(), cfg.Cameras, cfg.Patches()
	rope := RoPE3D{HeadDim: cfg.HeadDim(), Base: cfg.RoPEBase, Scale: cfg.RoPEScale}
	var out PredictorOutput

	// Completion queries: mean view embedding.
	meanView := Const(g, fill3(1, a.CompletionCoords.Shape().Dimensions[1], v, 1/float32(v)))
	full := contextEncoder(ctx.In("context_encoder"), cfg, f, f.Valid, &rope)
	out.Completion = predictorBlocks(ctx, cfg, full, f.Angles, f.Valid, a.CompletionCoords, meanView, a.CompletionValid, &rope)
	if !a.Training {
		return out
	}

	mask := a.Mask
	if mask == nil {
		mask = AsymmetricMask(ctx, cfg, g, b)
	}
	mask = Reshape(mask, b, t)
	out.LossMask = Mul(mask, f.Valid)
	visible := Mul(OneMinus(mask), f.Valid)
	student := contextEncoder(ctx.In("context_encoder"), cfg, f, visible, &rope)
	tokenView := Const(g, tokenViews(1, v, n))
	out.Pred = predictorBlocks(ctx, cfg, student, f.Angles, visible, f.Points, tokenView, out.LossMask, &rope)

	teacherCtx := ctx.In("teacher")
	out.Target = StopGradient(contextEncoder(teacherCtx, cfg, f, f.Valid, &rope))
	for tv := range teacherCtx.IterVariablesInScope() {
		tv.SetTrainable(false)
	}
	return out
}

// contextEncoder builds context tokens from memory M: projection + Fourier3D
// of P + view embedding, then one 3D-RoPE block attending to keys in mask.
func contextEncoder(ctx *context.Context, cfg Config, f FusionOutput, mask *Node, rope *RoPE3D) *Node {
	g := f.Memory.Graph()
	d := cfg.Width
	x := dense(ctx, "projection", f.Memory, d)
	x = Add(x, dense(ctx, "fourier3d", Fourier(f.Points, cfg.FourierBands), d))
	view := learned(ctx, g, "view_embedding", cfg.Cameras, d)
	x = Add(x, Einsum("btv,vd->btd", Const(g, tokenViews(1, cfg.Cameras, cfg.Patches())), view))
	x = block(ctx.In("block"), x, attnArgs{Heads: cfg.Heads, Rope: rope, QAngles: f.Angles, KAngles: f.Angles, KeyMask: mask}, d*cfg.MLPRatio)
	return layerNorm(ctx, "norm_out", x)
}

// predictorBlocks runs the predictor's hybrid-attention blocks for queries
// at coords [B,Tq,3] with view weights [1|B,Tq,V] against context tokens.
func predictorBlocks(ctx *context.Context, cfg Config, context_, ctxAngles, ctxMask, coords, views, qMask *Node, rope *RoPE3D) *Node {
	g := context_.Graph()
	d := cfg.Width
	c := ctx.In("query")
	viewEmb := learned(c, g, "view_embedding", cfg.Cameras, d)
	x := Add(learned(c, g, "mask_token", 1, 1, d), dense(c, "fourier3d", Fourier(coords, cfg.FourierBands), d))
	x = Add(x, Einsum("btv,vd->btd", views, viewEmb))
	qAngles := rope.Angles(coords)
	for i := range cfg.PredictorLayers {
		l := ctx.Inf("block_%d", i)
		h := layerNorm(l, "norm_cross", x)
		x = Add(x, attention(l.In("cross_attention"), h, context_, attnArgs{Heads: cfg.Heads, Rope: rope, QAngles: qAngles, KAngles: ctxAngles, KeyMask: ctxMask}))
		h = layerNorm(l, "norm_self", x)
		x = Add(x, attention(l.In("self_attention"), h, h, attnArgs{Heads: cfg.Heads, Rope: rope, QAngles: qAngles, KAngles: qAngles, KeyMask: qMask}))
		x = ffn(l, x, d*cfg.MLPRatio)
	}
	return dense(ctx, "head", layerNorm(ctx, "norm_out", x), d)
}

// tokenViews returns the [b,V*N,V] one-hot view of every token (view-major).
func tokenViews(b, v, n int) [][][]float32 {
	out := make([][][]float32, b)
	for i := range out {
		out[i] = make([][]float32, v*n)
		for t := range out[i] {
			out[i][t] = make([]float32, v)
			out[i][t][t/n] = 1
		}
	}
	return out
}

// fill3 returns an [a,b,c] array filled with x.
func fill3(a, b, c int, x float32) [][][]float32 {
	out := make([][][]float32, a)
	for i := range out {
		out[i] = make([][]float32, b)
		for j := range out[i] {
			out[i][j] = make([]float32, c)
			for k := range out[i][j] {
				out[i][j][k] = x
			}
		}
	}
	return out
}
