package training

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/vla3d/vla3d/policy/model"
)

// One sample, two probes, one valid instance (of two slots) matched to
// probe 1, one view, 2x2 masks: every term against float64.
func TestInstanceLossesReference(t *testing.T) {
	logits := []float64{-1.2, 0.7}
	boxes := []float64{0.3, 0.3, 0.2, 0.2, 0.52, 0.48, 0.3, 0.25}
	maskLogits := []float64{0, 0, 0, 0, 2, -1, 0.5, -3}
	refs := []float64{0, 0, 0, 0.5, 0.1, 0.2}
	gtBoxes := []float64{0.5, 0.5, 0.3, 0.3, 0, 0, 0, 0}
	gtVis := []float64{1, 0}
	gtMasks := []float64{1, 0, 1, 0, 0, 0, 0, 0}
	gtCent := []float64{0.45, 0.15, 0.1, 0, 0, 0}
	gtValid := []float64{1, 0}
	match := []float64{0, 0, 1, 0} // [B=1,Q=2,G=2]: probe 1 -> instance 0
	w := DefaultLossWeights()

	out := MustExecOnceN(goBackend(t), func(p []*Node) []*Node {
		o := &model.Outputs{ClassLogits: p[0], Boxes: p[1], MaskLogits: p[2], RefPoints: p[3]}
		in := stepInputs{GTBoxes: p[4], GTBoxValid: p[5], GTMasks: p[6], GTCentroids: p[7], GTValid: p[8], Match: p[9]}
		it := instanceLosses(w, o, in)
		return []*Node{it.Focal, it.BoxL1, it.GIoU, it.MaskCE, it.Dice, it.Center3D}
	}, tf32(logits, 1, 2), tf32(boxes, 1, 2, 1, 4), tf32(maskLogits, 1, 2, 1, 2, 2), tf32(refs, 1, 2, 3),
		tf32(gtBoxes, 1, 2, 1, 4), tf32(gtVis, 1, 2, 1), tf32(gtMasks, 1, 2, 1, 2, 2), tf32(gtCent, 1, 2, 3),
		tf32(gtValid, 1, 2), tf32(match, 1, 2, 2))

	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	focal := func(x, t float64) float64 {
		p := sig(x)
		ce := -(t*math.Log(p) + (1-t)*math.Log(1-p))
		pt := p*t + (1-p)*(1-t)
		return (w.FocalAlpha*t + (1-w.FocalAlpha)*(1-t)) * (1 - pt) * (1 - pt) * ce
	}
	var l1, bce, pt, ps, ts, c3 float64
	for k := range 4 {
		l1 += math.Abs(boxes[4+k] - gtBoxes[k])
		p := sig(maskLogits[4+k])
		bce += -(gtMasks[k]*math.Log(p) + (1-gtMasks[k])*math.Log(1-p)) / 4
		pt += p * gtMasks[k]
		ps += p
		ts += gtMasks[k]
	}
	for k := range 3 {
		c3 += math.Abs(refs[3+k] - gtCent[k])
	}
	want := []float64{
		focal(logits[0], 0) + focal(logits[1], 1),
		l1,
		1 - giouRef(boxes[4:8], gtBoxes[0:4]),
		bce,
		1 - (2*pt+1)/(ps+ts+1),
		c3,
	}
	names := []string{"focal", "box_l1", "giou", "mask_ce", "dice", "center_3d"}
	for i, o := range out {
		got := float64(tensors.MustCopyFlatData[float32](o)[0])
		if math.Abs(got-want[i]) > 1e-5*(1+math.Abs(want[i])) {
			t.Errorf("%s = %.7g, want %.7g", names[i], got, want[i])
		}
	}
}
