package training

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/training/losses"
)

// Matching of instance probes to pseudo ground truth happens once per sample
// on the host (perception.Hungarian) on a cost matrix the graph computes:
//
//	C_qg = w_cls·focalcost(p_q) + mean over views v visible for g of
//	       (w_L1·|b_qv − b_gv|₁ − w_GIoU·GIoU(b_qv, b_gv)) + w_3D·|r_q − c_g|₁
//
// The costs come from an extra forward pass on the same batch with the same
// weights just before the update (DETR matches on the current prediction;
// reusing the previous step's costs would match another batch). On CPU that
// pass costs about a third of a step; it runs only while the instance module
// trains (stage 1).

// matchCost builds C [B,Q,G] from the instance outputs and labels.
func matchCost(w LossWeights, logits, boxes, refs, gtBoxes, gtBoxValid, gtCentroids *Node) *Node {
	dims := boxes.Shape().Dimensions // [B,Q,V,4]
	b, q, v := dims[0], dims[1], dims[2]
	g := gtBoxes.Shape().Dimensions[1]
	dt := logits.DType()

	// Focal classification cost (Deformable DETR): positive minus negative focal term.
	p := Sigmoid(logits)
	const eps = 1e-8
	pos := MulScalar(Mul(powGamma(OneMinus(p), w.FocalGamma), Neg(Log(AddScalar(p, eps)))), w.FocalAlpha)
	neg := MulScalar(Mul(powGamma(p, w.FocalGamma), Neg(Log(AddScalar(OneMinus(p), eps)))), 1-w.FocalAlpha)
	cls := BroadcastToDims(ExpandAxes(Sub(pos, neg), -1), b, q, g) // [B,Q,G]

	pb := BroadcastToDims(ExpandAxes(boxes, 2), b, q, g, v, 4)
	gb := BroadcastToDims(ExpandAxes(ConvertDType(gtBoxes, dt), 1), b, q, g, v, 4)
	l1 := ReduceSum(Abs(Sub(pb, gb)), -1) // [B,Q,G,V]
	giou := losses.GIoU(pb, gb)           // [B,Q,G,V]
	perView := Sub(MulScalar(l1, w.BoxL1), MulScalar(giou, w.GIoU))
	vis := BroadcastToDims(ExpandAxes(ConvertDType(gtBoxValid, dt), 1), b, q, g, v)
	viewMean := Div(ReduceSum(Mul(perView, vis), -1), MaxScalar(ReduceSum(vis, -1), 1))

	pr := BroadcastToDims(ExpandAxes(refs, 2), b, q, g, 3)
	gc := BroadcastToDims(ExpandAxes(ConvertDType(gtCentroids, dt), 1), b, q, g, 3)
	d3 := ReduceSum(Abs(Sub(pr, gc)), -1)

	return Add(Add(MulScalar(cls, w.Focal), viewMean), MulScalar(d3, w.Center3D))
}

func powGamma(x *Node, gamma float64) *Node {
	switch gamma {
	case 0:
		return OnesLike(x)
	case 1:
		return x
	case 2:
		return Mul(x, x)
	}
	return Pow(MaxScalar(x, 1e-12), Scalar(x.Graph(), x.DType(), gamma))
}

// Matcher turns cost matrices into one-hot assignments with perception's
// Hungarian solver, reusing its buffers.
type Matcher struct {
	h      perception.Hungarian
	cost   []float64
	assign []int
}

// Match fills match [B,Q,G] (one-hot rows for matched probes, zeros
// elsewhere) from cost [B,Q,G], matching each sample's counts[b] valid
// instances to distinct probes.
func (m *Matcher) Match(cost []float32, b, q, g int, counts []int, match []float32) error {
	if len(cost) != b*q*g || len(match) != b*q*g || len(counts) != b {
		return fmt.Errorf("match: sizes cost %d match %d counts %d for %dx%dx%d", len(cost), len(match), len(counts), b, q, g)
	}
	clear(match)
	for s := range b {
		n := counts[s]
		if n == 0 {
			continue
		}
		if n > g || n > q {
			return fmt.Errorf("match: sample %d has %d instances for %d slots and %d probes", s, n, g, q)
		}
		m.cost = m.cost[:0]
		for i := range q {
			row := cost[(s*q+i)*g:]
			for j := range n {
				m.cost = append(m.cost, float64(row[j]))
			}
		}
		if cap(m.assign) < q {
			m.assign = make([]int, q)
		}
		assign := m.assign[:q]
		if _, err := m.h.Solve(m.cost, q, n, assign); err != nil {
			return fmt.Errorf("match sample %d: %w", s, err)
		}
		for i, j := range assign {
			if j >= 0 {
				match[(s*q+i)*g+j] = 1
			}
		}
	}
	return nil
}
