package model

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// AggregationArgs are the inputs of Spatially-Conditioned Geometry
// Aggregation.
type AggregationArgs struct {
	Instances     *Node // [B,K,d] instance tokens
	InstanceRefs  *Node // [B,K,3] their reference points
	InstanceLogit *Node // [B,K] their class logits
	Completion    *Node // [B,C,d] completion tokens
	CompletionPos *Node // [B,C,3] their coordinates
	CompletionOK  *Node // [B,C] 0/1 validity
	EEPosition    *Node // [B,3] end effector, metres, base frame
}

// Aggregation is Spatially-Conditioned Geometry Aggregation (scope
// "aggregation"): the end-effector-relative encoding MLP(gamma(p - p_ee)) is
// added to every instance and completion token, then uncertainty-guided
// routing refines each instance with its nearest completion tokens.
// Returns the new instance and completion tokens.
func Aggregation(ctx *context.Context, cfg Config, a AggregationArgs) (instances, completion *Node) {
	ctx = ctx.In(ScopeAggregation).Checked(false) // the EE encoding is shared by both token sets
	ee := InsertAxes(a.EEPosition, 1)
	instances = Add(a.Instances, EERelativeEncoding(ctx, cfg, Sub(a.InstanceRefs, ee)))
	completion = Add(a.Completion, EERelativeEncoding(ctx, cfg, Sub(a.CompletionPos, ee)))
	instances = Routing(ctx.In("routing"), cfg, RoutingArgs{
		Instances: instances, Refs: a.InstanceRefs, Logits: a.InstanceLogit,
		Completion: completion, CompletionPos: a.CompletionPos, CompletionOK: a.CompletionOK,
	})
	return instances, completion
}

// EERelativeEncoding maps offsets d = p - p_ee [...,3] (metres) to
// MLP(gamma(d)) [..., width] with gamma = [sin(2^k pi d), cos(2^k pi d)]_{k<L}.
func EERelativeEncoding(ctx *context.Context, cfg Config, d *Node) *Node {
	return mlp(ctx.In("ee_encoding"), Fourier(d, cfg.EEBands), cfg.Width, cfg.Width)
}

// RoutingArgs are the inputs of uncertainty-guided routing.
type RoutingArgs struct {
	Instances, Refs, Logits                 *Node // [B,K,d], [B,K,3], [B,K]
	Completion, CompletionPos, CompletionOK *Node // [B,C,d], [B,C,3], [B,C]
}

// Routing is uncertainty-guided routing. For instance i and its RouteK
// nearest valid completion tokens j:
//
//	logit_ij = (W_q q_i).(W_k c_j)/sqrt(d) - beta ||r_i - p_j||^2   (beta > 0 learnable)
//	c_i      = W_o sum_j softmax_j(logit_ij) W_v c_j
//	u_i      = sigmoid(-class_logit_i)          (low confidence = high u)
//	g_i      = sigmoid(MLP([q_i; c_i; u_i]))
//	q_i     <- q_i + g_i * c_i
//
// The gate's last layer is zero-initialised with the constant bias GateBias.
// sigmoid never reaches 0, so to make the module an exact identity at
// initialisation W_o is zero-initialised too: c_i = 0 and q is returned
// unchanged, while W_o still receives gradient g*attn from the first step.
func Routing(ctx *context.Context, cfg Config, a RoutingArgs) *Node {
	g := a.Instances.Graph()
	d := cfg.Width
	diff := Sub(InsertAxes(a.Refs, 2), InsertAxes(a.CompletionPos, 1)) // [B,K,C,3]
	dist2 := ReduceSum(Square(diff), -1)                               // [B,K,C]
	ok := InsertAxes(a.CompletionOK, 1)                                // [B,1,C]
	// Invalid completion tokens rank last; neighbours must also be valid.
	rank := rankAscendingRows(Add(dist2, MulScalar(OneMinus(ok), 1e6)))
	nbr := Mul(ConvertDType(LessThan(rank, Scalar(g, dtypeF32, cfg.RouteK)), dtypeF32), ok)

	// beta = exp(log_beta) stays positive; Softplus would bring Log1p and
	// IsFinite into the exported graph.
	beta := Exp(ctx.WithInitializer(constInit(math.Log(cfg.RouteBeta))).VariableWithShape("log_beta", shapeOf(dtypeF32)).ValueGraph(g))
	q := dense(ctx, "query", a.Instances, d)
	k := dense(ctx, "key", a.Completion, d)
	val := dense(ctx, "value", a.Completion, d)
	logits := MulScalar(Einsum("bkd,bcd->bkc", q, k), 1/math.Sqrt(float64(d)))
	logits = Sub(logits, Mul(beta, dist2))
	logits = Add(logits, MulScalar(OneMinus(nbr), maskedNegInf))
	w := Mul(Softmax(logits, -1), nbr) // rows with no valid neighbour give c = 0
	c := denseZero(ctx, "output", Einsum("bkc,bcd->bkd", w, val), d, 0)

	u := InsertAxes(Logistic(Neg(a.Logits)), -1)
	h := gelu(dense(ctx.In("gate"), "fc1", Concatenate([]*Node{a.Instances, c, u}, -1), d))
	gate := Logistic(denseZero(ctx.In("gate"), "fc2", h, d, cfg.GateBias))
	return Add(a.Instances, Mul(gate, c))
}
