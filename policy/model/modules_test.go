package model

import (
	"fmt"
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestTrainingOutputShapes checks every auxiliary tensor of the training
// graph of row C.
func TestTrainingOutputShapes(t *testing.T) {
	cfg, _ := smallConfig().Row("C")
	cfg.ActionHead = HeadFlow
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const b = 2
	e := newExampleBatch(cfg, b, 5)
	names := []string{"actions", "class", "boxes", "masks", "refs", "inst_tokens", "inst_refs",
		"pred", "target", "loss_mask", "comp_coords", "comp_tokens", "velocity", "velocity_target"}
	out := runGraph(t, newTestContext(), cfg, e, func(ctx *context.Context, in Inputs) []*Node {
		ctx.SetTraining(in.Images.Graph(), true)
		o := m.Forward(ctx, in)
		return []*Node{o.Actions, o.ClassLogits, o.Boxes, o.MaskLogits, o.RefPoints, o.InstanceTokens, o.InstanceRefs,
			o.PredictorPred, o.PredictorTarget, o.PredictorMask, o.CompletionCoords, o.CompletionTokens,
			o.FlowVelocity, o.FlowTarget}
	})
	q, v, d, c := cfg.Probes, cfg.Cameras, cfg.Width, cfg.CompletionQueries()
	mm := v * maskedPerView(cfg)
	want := [][]int{
		{b, cfg.Horizon, cfg.ActionDim}, {b, q}, {b, q, v, 4}, {b, q, v, cfg.ImageHeight / 4, cfg.ImageWidth / 4},
		{b, q, 3}, {b, cfg.KeepInstances, d}, {b, cfg.KeepInstances, 3},
		{b, mm, d}, {b, mm, d}, {b, mm}, {b, c, 3}, {b, c, d},
		{b, cfg.Horizon, cfg.ActionDim}, {b, cfg.Horizon, cfg.ActionDim},
	}
	for i, w := range want {
		if got := out[i].Shape().Dimensions; !dimsEqual(got, w...) {
			t.Errorf("%s: shape %v, want %v", names[i], got, w)
		}
	}
	// Boxes are sigmoid outputs; the loss mask covers about MaskRatio of tokens.
	for _, x := range tensors.MustCopyFlatData[float32](out[2]) {
		if x <= 0 || x >= 1 {
			t.Fatalf("box coordinate %v outside (0,1)", x)
		}
	}
	// Slots are filled except where the token had no valid depth (~1/11 here).
	var filled float64
	for _, x := range tensors.MustCopyFlatData[float32](out[9]) {
		filled += float64(x)
	}
	if frac := filled / float64(b*mm); frac < 0.75 || frac > 1 {
		t.Errorf("%.2f of target slots carry loss, want most of them", frac)
	}
}

// TestGradientsReachTrainableVariables builds a loss on every output of the
// training graph and checks that each trainable variable gets a non-zero
// gradient, while the EMA teacher (not trainable, stop-gradient) gets none.
// The routing module is an exact identity at init (zero output layer and
// zero gate layer), so those two are perturbed first; otherwise the layers
// behind them correctly get zero gradient.
func TestGradientsReachTrainableVariables(t *testing.T) {
	for _, head := range []string{HeadL1, HeadFlow} {
		if testing.Short() && head == HeadFlow {
			continue
		}
		t.Run(head, func(t *testing.T) {
			cfg, _ := smallConfig().Row("C")
			cfg.ActionHead = head
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			e := newExampleBatch(cfg, 2, 9)
			ctx := newTestContext()
			fwd := func(ctx *context.Context, in Inputs) *Outputs {
				ctx.SetTraining(in.Images.Graph(), true)
				return m.Forward(ctx, in)
			}
			// First pass creates and initialises the variables.
			runGraph(t, ctx, cfg, e, func(ctx *context.Context, in Inputs) []*Node { return []*Node{fwd(ctx, in).Actions} })
			for _, scope := range []string{"/aggregation/routing/output/dense", "/aggregation/routing/gate/fc2/dense"} {
				w := ctx.GetVariableByScopeAndName(scope, "weights")
				if w == nil {
					t.Fatalf("routing variable %s not found", scope)
				}
				perturb := make([]float32, w.Shape().Size())
				for i := range perturb {
					perturb[i] = float32(math.Sin(float64(i))) * 0.1
				}
				w.MustSetValue(tensors.FromFlatDataAndDimensions(perturb, w.Shape().Dimensions...))
			}

			var vars []*context.Variable
			out := runGraph(t, ctx.Reuse(), cfg, e, func(ctx *context.Context, in Inputs) []*Node {
				o := fwd(ctx, in)
				loss := sumSquares(o.Actions, o.ClassLogits, o.Boxes, o.MaskLogits, o.RefPoints,
					Mul(o.PredictorPred, InsertAxes(o.PredictorMask, -1)), o.PredictorTarget, o.FlowVelocity)
				g := loss.Graph()
				var nodes []*Node
				vars = vars[:0]
				for v := range ctx.IterVariables() {
					if v.InUseByGraph(g) && v.DType().IsFloat() && v.Name() != "#rngState" {
						vars = append(vars, v)
						nodes = append(nodes, v.ValueGraph(g))
					}
				}
				grads := Gradient(loss, nodes...)
				res := make([]*Node, len(grads))
				for i, gr := range grads {
					res[i] = ReduceAllSum(Abs(gr))
				}
				return res
			})
			var teacher, checked int
			for i, v := range vars {
				norm := float64(tensors.MustCopyFlatData[float32](out[i])[0])
				isTeacher := len(v.Scope()) >= len(ScopePredictorTeacher) && v.Scope()[:len(ScopePredictorTeacher)] == ScopePredictorTeacher
				switch {
				case isTeacher:
					teacher++
					if v.Trainable {
						t.Errorf("teacher variable %s is trainable", v.ScopeAndName())
					}
					if norm != 0 {
						t.Errorf("teacher variable %s got gradient %g", v.ScopeAndName(), norm)
					}
				case v.Trainable:
					checked++
					if norm == 0 || math.IsNaN(norm) {
						t.Errorf("trainable %s: |grad| = %g", v.ScopeAndName(), norm)
					}
				}
			}
			if teacher == 0 || checked < 50 {
				t.Errorf("checked %d trainable and %d teacher variables; expected many of both", checked, teacher)
			}
			t.Logf("%d trainable variables with gradient, %d teacher variables without", checked, teacher)
		})
	}
}

// sumSquares is sum over nodes of mean(x^2).
func sumSquares(nodes ...*Node) *Node {
	var total *Node
	for _, n := range nodes {
		if n == nil {
			continue
		}
		s := ReduceAllMean(Square(n))
		if total == nil {
			total = s
		} else {
			total = Add(total, s)
		}
	}
	return total
}

// TestRoutingIdentityAtInit: uncertainty-guided routing returns its input
// instance tokens bit-for-bit at initialisation, whatever the gate bias.
func TestRoutingIdentityAtInit(t *testing.T) {
	for _, bias := range []float64{0, 2, -3} {
		t.Run(fmt.Sprint(bias), func(t *testing.T) {
			cfg := smallConfig()
			cfg.GateBias = bias
			const b, k, c = 2, 5, 9
			d := cfg.Width
			cfg.RouteK = 3
			inst := make([]float32, b*k*d)
			comp := make([]float32, b*c*d)
			refs := make([]float32, b*k*3)
			pos := make([]float32, b*c*3)
			logits := make([]float32, b*k)
			ok := make([]float32, b*c)
			for i := range inst {
				inst[i] = float32(math.Sin(float64(i) * 0.7))
			}
			for i := range comp {
				comp[i] = float32(math.Cos(float64(i) * 0.3))
			}
			for i := range refs {
				refs[i] = float32(math.Sin(float64(i)))
			}
			for i := range pos {
				pos[i] = float32(math.Cos(float64(i) * 1.3))
			}
			for i := range logits {
				logits[i] = float32(i) - 3
			}
			for i := range ok {
				ok[i] = float32(i % 4 / 3) // some invalid
			}
			exec, err := context.NewExec(testBackend(t), newTestContext(), func(ctx *context.Context, p []*Node) []*Node {
				return []*Node{Routing(ctx.In("aggregation").In("routing"), cfg, RoutingArgs{
					Instances: p[0], Refs: p[1], Logits: p[2], Completion: p[3], CompletionPos: p[4], CompletionOK: p[5],
				})}
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Exec(
				tensors.FromFlatDataAndDimensions(inst, b, k, d), tensors.FromFlatDataAndDimensions(refs, b, k, 3),
				tensors.FromFlatDataAndDimensions(logits, b, k), tensors.FromFlatDataAndDimensions(comp, b, c, d),
				tensors.FromFlatDataAndDimensions(pos, b, c, 3), tensors.FromFlatDataAndDimensions(ok, b, c))
			if err != nil {
				t.Fatal(err)
			}
			got := tensors.MustCopyFlatData[float32](out[0])
			for i := range got {
				if got[i] != inst[i] {
					t.Fatalf("routing changed token value %d: %v -> %v", i, inst[i], got[i])
				}
			}
		})
	}
}
