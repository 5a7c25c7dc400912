package model

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// PredictorOutput is the Coordinate-Driven 3D Self-Supervised Predictor's
// result.
type PredictorOutput struct {
	// Training only, at the M = V*round(MaskRatio*N) masked target slots:
	// predictions, stop-gradient EMA-teacher targets, and the loss mask (0 for
	// slots whose token had no valid depth or that a custom mask left empty).
	Pred, Target, LossMask *Node // [B,M,d], [B,M,d], [B,M]
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
	// Mask [B,V,N] (1 = masked target), training only; sampled with
	// AsymmetricMask when nil. Each view keeps at most round(MaskRatio*N)
	// targets (the lowest-index ones) so shapes stay static.
	Mask *Node
}

// tokenSet is a set of tokens with everything the predictor attends with.
type tokenSet struct {
	Memory, Points, Angles *Node // [B,T,d], [B,T,3], [B,T,dh/2]
	Views                  *Node // [1|B,T,V] one-hot view (or mean weights)
	Mask                   *Node // [B,T] attendable
}

// Predictor is the Coordinate-Driven 3D Self-Supervised Predictor (I-JEPA
// style, scope "predictor").
//
// Context tokens = ContextEncoder(M): a projection of M plus Fourier3D(P) and
// a view embedding, then one 3D-RoPE transformer block. Target queries =
// mask token + Fourier3D(target coords) + target-view embedding; each
// predictor block does cross-attention targets->context then
// self-attention among targets, both with 3D RoPE on q and k, then a
// feed-forward network.
//
// Training: asymmetric multi-view masking picks the targets; the student
// encoder sees only the visible tokens, the predictor queries the masked
// ones, and the targets come from the EMA teacher (same encoder, scope
// predictor/teacher, non-trainable, stop-gradient) over all tokens. Visible
// and masked tokens are gathered into fixed-size slots with one-hot
// contractions, so no compute is spent on positions the loss ignores.
//
// Completion (training and inference): no masking; the predictor is queried
// at the completion coordinates. Completion queries belong to no single
// view, so their view embedding is the mean of the view embeddings.
func Predictor(ctx *context.Context, cfg Config, a PredictorArgs) PredictorOutput {
	// The student encoder and the blocks run twice in training (masked and
	// unmasked context) with shared weights.
	ctx = ctx.In(ScopePredictor).Checked(false)
	f := a.Fused
	g := f.Memory.Graph()
	b := f.Memory.Shape().Dimensions[0]
	t, v, n := cfg.Tokens(), cfg.Cameras, cfg.Patches()
	rope := RoPE3D{HeadDim: cfg.HeadDim(), Base: cfg.RoPEBase, Scale: cfg.RoPEScale}
	var out PredictorOutput

	all := tokenSet{Memory: f.Memory, Points: f.Points, Angles: f.Angles, Views: Const(g, tokenViews(1, v, n)), Mask: f.Valid}
	full := contextEncoder(ctx.In(scopeContextEncoder), cfg, all, &rope)
	nc := a.CompletionCoords.Shape().Dimensions[1]
	queries := tokenSet{Points: a.CompletionCoords, Angles: rope.Angles(a.CompletionCoords),
		Views: Const(g, fill3(1, nc, v, 1/float32(v))), Mask: a.CompletionValid}
	out.Completion = predictorBlocks(ctx, cfg, full, all, queries, &rope)
	if !a.Training {
		return out
	}

	mask := a.Mask
	if mask == nil {
		mask = AsymmetricMask(ctx, cfg, g, b)
	}
	count := maskedPerView(cfg)
	targetSel := slotSelection(mask, count)              // [B,M,T]
	visibleSel := slotSelection(OneMinus(mask), n-count) // [B,Tv,T]
	targets := selectTokens(targetSel, all, b, t)
	visible := selectTokens(visibleSel, all, b, t)

	student := contextEncoder(ctx.In(scopeContextEncoder), cfg, visible, &rope)
	out.Pred = predictorBlocks(ctx, cfg, student, visible, targets, &rope)
	out.LossMask = targets.Mask

	teacherCtx := ctx.In(ScopeTeacher)
	teacher := StopGradient(contextEncoder(teacherCtx, cfg, all, &rope))
	out.Target = Einsum("bmt,btd->bmd", targetSel, teacher)
	for tv := range teacherCtx.IterVariablesInScope() {
		tv.SetTrainable(false)
	}
	return out
}

// maskedPerView is round(MaskRatio * N), the targets per view.
func maskedPerView(cfg Config) int {
	return int(math.Round(cfg.MaskRatio * float64(cfg.Patches())))
}

// slotSelection turns a per-view 0/1 selection [B,V,N] into the one-hot
// matrix [B,V*count,V*N] placing view v's selected tokens, in index order,
// in slots v*count .. v*count+count-1 (extra ones are dropped, missing ones
// leave all-zero rows). Built from comparisons and a triangular matmul.
func slotSelection(sel *Node, count int) *Node {
	g := sel.Graph()
	dims := sel.Shape().Dimensions
	b, v, n := dims[0], dims[1], dims[2]
	// Rank within the view = number of selected tokens with lower index.
	lower := make([][]float32, n)
	for i := range lower {
		lower[i] = make([]float32, n)
		for j := range i {
			lower[i][j] = 1 // row i counts j < i
		}
	}
	rank := Einsum("bvj,ij->bvi", sel, Const(g, lower)) // [B,V,N]
	slots := Iota(g, shapeOf(dtypeF32, 1, 1, count, 1), 2)
	onehot := Mul(ConvertDType(Equal(InsertAxes(rank, 2), slots), dtypeF32), InsertAxes(sel, 2)) // [B,V,count,N]
	// Block-diagonal over views: slot (v, c) reads token (v, j).
	eye := make([][]float32, v)
	for i := range eye {
		eye[i] = make([]float32, v)
		eye[i][i] = 1
	}
	full := Einsum("bvcn,vw->bvcwn", onehot, Const(g, eye))
	return Reshape(full, b, v*count, v*n)
}

// selectTokens gathers a token set through a one-hot selection [B,M,T].
func selectTokens(sel *Node, s tokenSet, b, t int) tokenSet {
	views := BroadcastToDims(s.Views, b, t, s.Views.Shape().Dimensions[2])
	return tokenSet{
		Memory: Einsum("bmt,btd->bmd", sel, s.Memory),
		Points: Einsum("bmt,btd->bmd", sel, s.Points),
		Angles: Einsum("bmt,btd->bmd", sel, s.Angles),
		Views:  Einsum("bmt,btd->bmd", sel, views),
		Mask:   Squeeze(Einsum("bmt,btd->bmd", sel, InsertAxes(s.Mask, -1)), -1),
	}
}

// contextEncoder builds context tokens from memory: projection + Fourier3D of
// the points + view embedding, then one 3D-RoPE block over the set.
func contextEncoder(ctx *context.Context, cfg Config, s tokenSet, rope *RoPE3D) *Node {
	g := s.Memory.Graph()
	d := cfg.Width
	x := dense(ctx, "projection", s.Memory, d)
	x = Add(x, dense(ctx, "fourier3d", Fourier(s.Points, cfg.FourierBands), d))
	view := learned(ctx, g, "view_embedding", cfg.Cameras, d)
	x = Add(x, Einsum("btv,vd->btd", s.Views, view))
	x = block(ctx.In("block"), x, attnArgs{Heads: cfg.Heads, Rope: rope, QAngles: s.Angles, KAngles: s.Angles, KeyMask: s.Mask}, d*cfg.MLPRatio)
	return layerNorm(ctx, "norm_out", x)
}

// predictorBlocks runs the predictor's hybrid-attention blocks for the
// queries q against context tokens (encoded) of the set c.
func predictorBlocks(ctx *context.Context, cfg Config, encoded *Node, c, q tokenSet, rope *RoPE3D) *Node {
	g := encoded.Graph()
	d := cfg.Width
	qc := ctx.In("query")
	viewEmb := learned(qc, g, "view_embedding", cfg.Cameras, d)
	x := Add(learned(qc, g, "mask_token", 1, 1, d), dense(qc, "fourier3d", Fourier(q.Points, cfg.FourierBands), d))
	x = Add(x, Einsum("btv,vd->btd", q.Views, viewEmb))
	for i := range cfg.PredictorLayers {
		l := ctx.Inf("block_%d", i)
		h := layerNorm(l, "norm_cross", x)
		x = Add(x, attention(l.In("cross_attention"), h, encoded, attnArgs{Heads: cfg.Heads, Rope: rope, QAngles: q.Angles, KAngles: c.Angles, KeyMask: c.Mask}))
		h = layerNorm(l, "norm_self", x)
		x = Add(x, attention(l.In("self_attention"), h, h, attnArgs{Heads: cfg.Heads, Rope: rope, QAngles: q.Angles, KAngles: q.Angles, KeyMask: q.Mask}))
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
