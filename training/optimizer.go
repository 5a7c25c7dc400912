package training

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

// OptimizerScope holds the optimizer's state (step counter, moments). It is
// saved in checkpoints with the model and cleared at a stage change, since
// each stage runs its own warm-up + cosine schedule from step 1.
const OptimizerScope = "optimizer"

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter) and
// global-norm gradient clipping, written here rather than using GoMLX's Adam
// because that one clips per value, not by the global norm the paper uses.
type AdamW struct {
	Schedule     Schedule
	Beta1, Beta2 float64
	Epsilon      float64
	WeightDecay  float64
	// ClipNorm rescales all gradients together so their global L2 norm is at
	// most ClipNorm (0.5 in the paper); 0 disables clipping.
	ClipNorm float64
}

// DefaultAdamW returns the paper's optimizer settings around schedule s.
func DefaultAdamW(s Schedule) AdamW {
	return AdamW{Schedule: s, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: 0.01, ClipNorm: 0.5}
}

// StepStats are the scalar diagnostics of one update.
type StepStats struct {
	LR, GradNorm *Node
}

// decays reports whether AdamW's weight decay applies: matrices and
// embeddings decay; biases, norm gains and scalars (e.g. the gating
// temperature) do not.
func decays(v *context.Variable) bool {
	return v.Shape().Rank() >= 2 && !strings.Contains(v.Name(), "bias")
}

// TrainableInGraph lists the trainable variables g reads, in context order.
func TrainableInGraph(ctx *context.Context, g *Graph) []*context.Variable {
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) && v.DType().IsFloat() {
			vars = append(vars, v)
		}
	}
	return vars
}

// UpdateGraph differentiates loss w.r.t. every trainable variable used by its
// graph and sets their updated values. It must be called after the whole
// forward graph (and before any other SetValueGraph on those variables), so
// the gradients are taken w.r.t. the values the loss actually used.
func (o AdamW) UpdateGraph(ctx *context.Context, loss *Node) (StepStats, error) {
	g := loss.Graph()
	if !loss.Shape().IsScalar() {
		return StepStats{}, fmt.Errorf("optimizer: loss must be a scalar, got %s", loss.Shape())
	}
	vars := TrainableInGraph(ctx, g)
	if len(vars) == 0 {
		return StepStats{}, fmt.Errorf("optimizer: no trainable variable is used by the loss graph")
	}
	values := make([]*Node, len(vars))
	for i, v := range vars {
		values[i] = v.ValueGraph(g)
	}
	grads := Gradient(loss, values...)
	dt := dtypes.Float32

	sq := Scalar(g, dt, 0.0)
	for i := range grads {
		grads[i] = ConvertDType(grads[i], dt)
		sq = Add(sq, ReduceAllSum(Mul(grads[i], grads[i])))
	}
	gradNorm := Sqrt(sq)
	scale := Scalar(g, dt, 1.0)
	if o.ClipNorm > 0 {
		scale = MinScalar(Div(Scalar(g, dt, o.ClipNorm), MaxScalar(gradNorm, 1e-12)), 1.0)
	}

	octx := ctx.InAbsPath(context.RootScope + OptimizerScope).Checked(false)
	stepVar := octx.VariableWithValue("step", float32(0)).SetTrainable(false)
	step := AddScalar(stepVar.ValueGraph(g), 1)
	stepVar.SetValueGraph(step)
	lr := o.Schedule.graph(step)
	bc1 := OneMinus(Pow(Scalar(g, dt, o.Beta1), step))
	bc2 := OneMinus(Pow(Scalar(g, dt, o.Beta2), step))

	mctx := octx.WithInitializer(initializers.Zero)
	for i, v := range vars {
		grad := Mul(grads[i], scale)
		shape := shapes.Make(dt, v.Shape().Dimensions...)
		m1 := mctx.InAbsPath(momentScope(octx, "m", v)).VariableWithShape(v.Name(), shape).SetTrainable(false)
		m2 := mctx.InAbsPath(momentScope(octx, "v", v)).VariableWithShape(v.Name(), shape).SetTrainable(false)
		m := Add(MulScalar(m1.ValueGraph(g), o.Beta1), MulScalar(grad, 1-o.Beta1))
		s := Add(MulScalar(m2.ValueGraph(g), o.Beta2), MulScalar(Mul(grad, grad), 1-o.Beta2))
		m1.SetValueGraph(m)
		m2.SetValueGraph(s)
		update := Div(Div(m, bc1), AddScalar(Sqrt(Div(s, bc2)), o.Epsilon))
		w := ConvertDType(values[i], dt)
		if o.WeightDecay > 0 && decays(v) {
			update = Add(update, MulScalar(w, o.WeightDecay))
		}
		v.SetValueGraph(ConvertDType(Sub(w, Mul(lr, update)), v.DType()))
	}
	return StepStats{LR: lr, GradNorm: gradNorm}, nil
}

// ResetOptimizer deletes the optimizer state (moments and step), e.g. when a
// new stage starts its own schedule.
func ResetOptimizer(ctx *context.Context) error {
	if err := ctx.InAbsPath(context.RootScope + OptimizerScope).DeleteVariablesInScope(); err != nil {
		return fmt.Errorf("reset optimizer state: %w", err)
	}
	return nil
}

// momentScope mirrors v's scope under the optimizer scope, e.g.
// /optimizer/m/action_expert/dense_0 for /action_expert/dense_0.
func momentScope(octx *context.Context, kind string, v *context.Variable) string {
	scope := strings.TrimSuffix(v.Scope(), context.ScopeSeparator)
	return octx.Scope() + context.ScopeSeparator + kind + scope
}
