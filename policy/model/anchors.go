package model

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// ScopeAnchors is the anchors' scope inside the instance module's.
const ScopeAnchors = "anchors"

// AnchorArgs are the inputs of InstanceAnchors.
type AnchorArgs struct {
	Memory *Node // [B,T,d] visual tokens (fused memory, or the base's patches)
	Points *Node // [B,T,3] their 3D centres, base frame, metres
	Valid  *Node // [B,T] 1 where the token had valid depth
	// Instruction tokens [B,L,d] and their mask [B,L]: the instruction picks
	// which instance each anchor is.
	Instruction, InstructionMask *Node
	EEPosition                   *Node // [B,3] end effector, metres
}

// AnchorOutput are the instructed instances' tokens.
type AnchorOutput struct {
	Points *Node // [B,K,3] reference points, base frame, metres
	// Turn [B,K,2] is (cos 4d, sin 4d) of the yaw turn d the gripper needs
	// to align with the anchored object's faces (boxes repeat every 90
	// degrees, hence 4d), read from what the anchor attended.
	Turn   *Node
	Tokens *Node // [B,K,d] what each anchor attended, with its EE-relative encoding
	// Condition [B,d] summarises the anchors for the action queries.
	Condition *Node
}

// InstanceAnchors are the instructed instances of the Object-Centric 3D
// Instance Module (scope "instance_module/anchors"): K reference points whose
// start is data-dependent, r0_k = sum_j a_kj P_j with a_k = softmax_j over
// the tokens with valid depth of (W_q q_k).(W_k m_j)/sqrt(d), the queries
// q_k conditioned on the instruction, then one bounded refinement
// r_k = r0_k + lambda tanh(MLP(f_k)) from the attended feature f_k.
//
// Probes anchored at fixed points of the workspace barely follow an object
// that moves 17 cm between layouts (DESIGN.md); a weighted mean of observed
// points is, by construction, where something was seen, and it reaches any
// layout. The trainer supervises r_k with the demonstration's keyframes
// (where the gripper closed and where it opened, training.AnchorTargets), and
// the action expert reads each anchor's end-effector-relative offset and
// turn (Turn) both as a context token and as a condition on its queries
// (Condition), so where the instructed object is, and how the gripper must
// turn to grasp it, reach the action head directly.
func InstanceAnchors(ctx *context.Context, cfg Config, a AnchorArgs) AnchorOutput {
	ctx = ctx.In(ScopeInstanceModule).In(ScopeAnchors)
	g := a.Memory.Graph()
	b, t, d := a.Memory.Shape().Dimensions[0], a.Memory.Shape().Dimensions[1], cfg.Width
	k := cfg.Anchors

	// Masked mean of the instruction tokens: what is asked for.
	im := InsertAxes(a.InstructionMask, -1)
	words := ReduceSum(im, 1)
	instr := Div(ReduceSum(Mul(a.Instruction, im), 1), Max(words, OnesLike(words)))
	instr.AssertDims(b, d)
	q := Add(learned(ctx, g, "queries", 1, k, d), InsertAxes(dense(ctx, "instruction", instr, d), 1))
	q = dense(ctx, "query", layerNorm(ctx, "norm_query", q), d)
	mem := layerNorm(ctx, "norm_memory", a.Memory)
	key := dense(ctx, "key", mem, d)
	logits := MulScalar(Einsum("bkc,btc->bkt", q, key), 1/math.Sqrt(float64(d)))
	logits = Add(logits, InsertAxes(MulScalar(OneMinus(a.Valid), maskedNegInf), 1))
	attn := Softmax(logits, -1)
	attn.AssertDims(b, k, t)
	start := Einsum("bkt,btc->bkc", attn, a.Points)
	feat := Einsum("bkt,btc->bkc", attn, dense(ctx, "value", mem, d))
	feat.AssertDims(b, k, d)

	offset := denseZero(ctx, "refine", gelu(dense(ctx, "refine_hidden", feat, d)), 3, 0)
	ref := Add(start, MulScalar(Tanh(offset), cfg.RefineBound))
	ref.AssertDims(b, k, 3)

	turn := dense(ctx, "turn", gelu(dense(ctx, "turn_hidden", feat, d)), 2)
	// The offset enters both as a Fourier encoding (as the aggregation's
	// EE-relative encoding) and linearly in decimetres: the expert's motion
	// toward a target is proportional to it.
	rel := Sub(ref, InsertAxes(a.EEPosition, 1))
	enc := Concatenate([]*Node{Fourier(rel, cfg.EEBands), MulScalar(rel, 10), turn}, -1)
	tokens := Add(Add(feat, mlp(ctx.In("ee_encoding"), enc, d, d)), learned(ctx, g, "anchor_embedding", 1, k, d))
	tokens = layerNorm(ctx, "norm_out", tokens)
	cond := dense(ctx, "condition", Reshape(tokens, b, k*d), d)
	return AnchorOutput{Points: ref, Turn: turn, Tokens: tokens, Condition: cond}
}
