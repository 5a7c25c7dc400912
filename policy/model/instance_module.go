package model

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// InstanceOutput is the Object-Centric 3D Instance Module's result.
type InstanceOutput struct {
	// All Q probes (for matching and the instance losses).
	ClassLogits *Node // [B,Q]
	Boxes       *Node // [B,Q,V,4] cx,cy,w,h normalized
	MaskLogits  *Node // [B,Q,V,H/4,W/4]
	RefPoints   *Node // [B,Q,3] metres, base frame
	// The K most confident probes in descending confidence.
	Tokens *Node // [B,K,d]
	Refs   *Node // [B,K,3]
	Logits *Node // [B,K]
}

// InstanceArgs are the instance module's inputs.
type InstanceArgs struct {
	Fused       FusionOutput
	Intrinsics  *Node // [B,V,4]
	CamFromBase *Node // [B,V,12]
	// Heads selects whether the box and mask heads are built (training only:
	// the inference graph needs only class logits, tokens and references).
	Heads bool
}

// InstanceModule is the Object-Centric 3D Instance Module (scope
// "instance_module"). Q probes hold a semantic state q_i and a 3D reference
// point r_i (initialised inside the workspace box). Each layer:
//
//  1. self-attention among probes (3D RoPE on their reference points);
//  2. r_i is projected into every view with the depth clamp and deformable
//     cross-attention samples the pyramid around it, giving attn_v;
//  3. occlusion-aware gating: w_v = softmax_v(s_v / tau), tau learnable,
//     s_v = MLP(q_i + attn_v) with views where r_i is behind the camera or
//     outside the image pushed to -1e4; q <- q + sum_v w_v attn_v;
//  4. feed-forward network;
//  5. bounded refinement r <- r + lambda tanh(MLP(q)), lambda in metres.
//
// The K most confident probes (by class logit) become instance tokens.
func InstanceModule(ctx *context.Context, cfg Config, a InstanceArgs) InstanceOutput {
	ctx = ctx.In(ScopeInstanceModule)
	mem := a.Fused.Memory
	g := mem.Graph()
	b := mem.Shape().Dimensions[0]
	d, nq := cfg.Width, cfg.Probes

	levels, maskMap := Pyramid(ctx.In("pyramid"), cfg, mem)

	q := BroadcastToDims(learned(ctx, g, "probe_state", 1, nq, d), b, nq, d)
	r := BroadcastToDims(InsertAxes(initialReferences(ctx, cfg, g), 0), b, nq, 3)
	rope := RoPE3D{HeadDim: cfg.HeadDim(), Base: cfg.RoPEBase, Scale: cfg.RoPEScale}
	logTau := ctx.In("occlusion_gating").WithInitializer(constInit(0)).
		VariableWithShape("log_tau", shapeOf(mem.DType())).ValueGraph(g)

	var proj Projection
	for i := range cfg.InstanceLayers {
		c := ctx.Inf("layer_%d", i)
		angles := rope.Angles(r)
		h := layerNorm(c, "norm1", q)
		q = Add(q, attention(c.In("self_attention"), h, h, attnArgs{Heads: cfg.Heads, Rope: &rope, QAngles: angles, KAngles: angles}))

		proj = Project(cfg, r, a.CamFromBase, a.Intrinsics)
		h = layerNorm(c, "norm2", q)
		attn := DeformableAttention(c.In("deformable_attention"), cfg, h, proj.UV, levels) // [B,Q,V,d]
		s := Squeeze(mlp(c.In("occlusion_gating"), Add(InsertAxes(h, 2), attn), d, 1), -1) // [B,Q,V]
		s = Add(s, MulScalar(OneMinus(proj.Visible), -1e4))
		w := Softmax(Div(s, Exp(logTau)), -1)
		q = Add(q, ReduceSum(Mul(InsertAxes(w, -1), attn), 2))

		q = ffn(c, q, d*cfg.MLPRatio)
		r = Add(r, MulScalar(Tanh(mlp(c.In("refinement"), layerNorm(c, "norm_refine", q), d, 3)), cfg.RefineBound))
	}
	q = layerNorm(ctx, "norm_out", q)
	out := InstanceOutput{RefPoints: r}
	out.ClassLogits = Squeeze(dense(ctx, "class_head", q, 1), -1)

	if a.Heads {
		proj = Project(cfg, r, a.CamFromBase, a.Intrinsics)
		out.Boxes, out.MaskLogits = viewHeads(ctx, cfg, q, proj, maskMap)
	}

	sel := selectTop(out.ClassLogits, cfg.KeepInstances) // [B,K,Q]
	out.Tokens = Einsum("bkq,bqd->bkd", sel, q)
	out.Refs = Einsum("bkq,bqc->bkc", sel, r)
	out.Logits = Squeeze(Einsum("bkq,bqc->bkc", sel, InsertAxes(out.ClassLogits, -1)), -1)
	return out
}

// initialReferences returns r_0 [Q,3] = centre + half-extent * tanh(theta):
// learnable but always inside the configured workspace box.
func initialReferences(ctx *context.Context, cfg Config, g *Graph) *Node {
	theta := learned(ctx, g, "reference_init", cfg.Probes, 3)
	theta = MulScalar(theta, 1/0.02*0.5) // N(0, 0.5^2) spread over the box
	var centre, half [3]float32
	for i := range 3 {
		centre[i] = float32((cfg.WorkspaceMax[i] + cfg.WorkspaceMin[i]) / 2)
		half[i] = float32((cfg.WorkspaceMax[i] - cfg.WorkspaceMin[i]) / 2)
	}
	return Add(Const(g, [][]float32{centre[:]}), Mul(Const(g, [][]float32{half[:]}), Tanh(theta)))
}

// viewHeads predicts per-view boxes and mask logits from q_i plus a
// view-specific positional encoding: a learned view embedding and a Fourier
// encoding of the projected reference point.
func viewHeads(ctx *context.Context, cfg Config, q *Node, proj Projection, maskMap Level) (boxes, masks *Node) {
	g := q.Graph()
	d := cfg.Width
	c := ctx.In("view_heads")
	pe := dense(c, "point_encoding", Fourier(proj.UV, 4), d) // [B,Q,V,d]
	h := Add(Add(InsertAxes(q, 2), pe), learned(c, g, "view_embedding", 1, 1, cfg.Cameras, d))
	boxes = Logistic(mlp(c.In("box_head"), h, d, 4))
	me := mlp(c.In("mask_head"), h, d, cfg.MaskDim)      // [B,Q,V,c]
	masks = Einsum("bqvc,bvyxc->bqvyx", me, maskMap.Map) // [B,Q,V,h,w]
	masks = MulScalar(masks, 1/math.Sqrt(float64(cfg.MaskDim)))
	return boxes, masks
}
