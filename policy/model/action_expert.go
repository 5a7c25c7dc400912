package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// flowTimeBands is the Fourier bands of the flow-time embedding.
const flowTimeBands = 6

// ExpertOutput is the action expert's result.
type ExpertOutput struct {
	// Actions [B,H,A]: the L1 head's regression; for the flow head, the
	// Euler-integrated sample at inference and, in training, the one-step
	// estimate x_t + (1-t) v (for monitoring only).
	Actions *Node
	// Velocity and VelocityTarget [B,H,A] are set only for the flow head in
	// training: v_pred and a - noise at x_t = (1-t) noise + t a.
	Velocity, VelocityTarget *Node
}

// ExpertArgs are the action expert's inputs.
type ExpertArgs struct {
	Context, Mask *Node // tokens [B,T,d] and their 0/1 mask [B,T]
	// Condition [B,d], when set, is added to every action query (the
	// instance anchors' summary: where the instructed objects are).
	Condition *Node
	Noise     *Node // [B,H,A], flow head only
	Targets   *Node // [B,H,A] ground-truth normalized actions, flow training only
	FlowTime  *Node // [B] in [0,1], flow training only
	Training  bool
}

// ActionExpert decodes an action chunk (scope "action_expert"): H learned
// action queries attend to themselves and to the context tokens (base tokens
// plus any instance and completion tokens) for ExpertLayers layers.
//
// HeadL1 regresses the chunk directly (OpenVLA-OFT style). HeadFlow (pi0
// style) conditions the queries on the noisy chunk x_t and the time t and
// predicts the velocity; inference integrates dx/dt = v from x_0 = noise to
// t = 1 with FlowSteps Euler steps, unrolled in the graph so it stays
// deterministic given the noise input.
func ActionExpert(ctx *context.Context, cfg Config, a ExpertArgs) ExpertOutput {
	ctx = ctx.In(ScopeActionExpert)
	if cfg.ActionHead != HeadFlow {
		q := Zeros(a.Context.Graph(), shapeOf(a.Context.DType(), a.Context.Shape().Dimensions[0], cfg.Horizon, cfg.Width))
		return ExpertOutput{Actions: expertDecoder(ctx, cfg, a, q)}
	}
	g := a.Context.Graph()
	b := a.Context.Shape().Dimensions[0]
	// The decoder runs once per Euler step with shared weights.
	shared := ctx.Checked(false)
	if a.Training {
		t := InsertAxes(a.FlowTime, -1, -1) // [B,1,1]
		xt := Add(Mul(OneMinus(t), a.Noise), Mul(t, a.Targets))
		v := expertDecoder(shared, cfg, a, flowConditioning(shared, cfg, xt, a.FlowTime))
		est := Add(xt, Mul(OneMinus(t), v))
		return ExpertOutput{Actions: est, Velocity: v, VelocityTarget: Sub(a.Targets, a.Noise)}
	}
	x := a.Noise
	dt := 1 / float64(cfg.FlowSteps)
	for s := range cfg.FlowSteps {
		t := FillScalar(g, shapeOf(x.DType(), b), float64(s)*dt)
		v := expertDecoder(shared, cfg, a, flowConditioning(shared, cfg, x, t))
		x = Add(x, MulScalar(v, dt))
	}
	return ExpertOutput{Actions: x}
}

// flowConditioning embeds the noisy chunk x_t [B,H,A] and time t [B] into
// per-query offsets [B,H,d].
func flowConditioning(ctx *context.Context, cfg Config, xt, t *Node) *Node {
	c := ctx.In("flow_conditioning")
	te := mlp(c.In("time"), Fourier(InsertAxes(t, -1), flowTimeBands), cfg.Width, cfg.Width) // [B,d]
	return Add(dense(c, "action_in", xt, cfg.Width), InsertAxes(te, 1))
}

// expertDecoder runs the decoder layers from query offsets q [B,H,d] and
// returns the head output [B,H,A].
func expertDecoder(ctx *context.Context, cfg Config, a ExpertArgs, q *Node) *Node {
	g := q.Graph()
	d := cfg.Width
	x := Add(q, learned(ctx, g, "action_queries", 1, cfg.Horizon, d))
	if a.Condition != nil {
		x = Add(x, InsertAxes(a.Condition, 1))
	}
	for i := range cfg.ExpertLayers {
		c := ctx.Inf("layer_%d", i)
		h := layerNorm(c, "norm1", x)
		x = Add(x, attention(c.In("self_attention"), h, h, attnArgs{Heads: cfg.Heads}))
		h = layerNorm(c, "norm2", x)
		x = Add(x, attention(c.In("cross_attention"), h, a.Context, attnArgs{Heads: cfg.Heads, KeyMask: a.Mask}))
		x = ffn(c, x, d*cfg.MLPRatio)
	}
	return dense(ctx, "head", layerNorm(ctx, "norm_out", x), cfg.ActionDim)
}
