package model

import "math"

// MatchWeights weight the terms of the instance module's matching cost.
type MatchWeights struct {
	Class, BoxL1, GIoU, Center3D float64
	FocalAlpha, FocalGamma       float64
}

// DefaultMatchWeights are Deformable-DETR's class/box/GIoU weights plus a
// unit weight on the 3D centroid distance (metres).
func DefaultMatchWeights() MatchWeights {
	return MatchWeights{Class: 2, BoxL1: 5, GIoU: 2, Center3D: 1, FocalAlpha: 0.25, FocalGamma: 2}
}

// ProbePrediction is one probe's output, host side.
type ProbePrediction struct {
	Logit float64
	Boxes [][4]float64 // per view, normalized cx,cy,w,h
	Ref   [3]float64   // metres
}

// InstanceTarget is one pseudo ground-truth instance.
type InstanceTarget struct {
	Boxes    [][4]float64 // per view, normalized cx,cy,w,h
	Visible  []bool       // per view: the instance has a box in that view
	Centroid [3]float64   // metres
}

// MatchCost returns the Q x G cost matrix (row-major) of the instance
// module's Hungarian matching:
//
//	C_ij = mean over views v where target j is visible of
//	         (w_cls focal_cls(p_i) + w_L1 |b_iv - b_jv|_1 - w_GIoU GIoU(b_iv, b_jv))
//	       + w_3D |r_i - c_j|_1
//
// focal_cls(p) = alpha (1-p)^gamma (-log p) - (1-alpha) p^gamma (-log(1-p))
// (the class term does not depend on the view, so its mean is itself).
// A target visible in no view contributes only the class and 3D terms.
func MatchCost(preds []ProbePrediction, targets []InstanceTarget, w MatchWeights) []float64 {
	cost := make([]float64, len(preds)*len(targets))
	for i, p := range preds {
		prob := 1 / (1 + math.Exp(-p.Logit))
		const eps = 1e-8
		cls := w.FocalAlpha*math.Pow(1-prob, w.FocalGamma)*(-math.Log(prob+eps)) -
			(1-w.FocalAlpha)*math.Pow(prob, w.FocalGamma)*(-math.Log(1-prob+eps))
		for j, t := range targets {
			var sum float64
			var n int
			for v, vis := range t.Visible {
				if !vis {
					continue
				}
				var l1 float64
				for k := range 4 {
					l1 += math.Abs(p.Boxes[v][k] - t.Boxes[v][k])
				}
				sum += w.BoxL1*l1 - w.GIoU*GIoU(p.Boxes[v], t.Boxes[v])
				n++
			}
			c := w.Class * cls
			if n > 0 {
				c += sum / float64(n)
			}
			for k := range 3 {
				c += w.Center3D * math.Abs(p.Ref[k]-t.Centroid[k])
			}
			cost[i*len(targets)+j] = c
		}
	}
	return cost
}

// GIoU is the generalized IoU of two cx,cy,w,h boxes, in [-1, 1].
func GIoU(a, b [4]float64) float64 {
	ax0, ay0, ax1, ay1 := a[0]-a[2]/2, a[1]-a[3]/2, a[0]+a[2]/2, a[1]+a[3]/2
	bx0, by0, bx1, by1 := b[0]-b[2]/2, b[1]-b[3]/2, b[0]+b[2]/2, b[1]+b[3]/2
	iw := math.Max(0, math.Min(ax1, bx1)-math.Max(ax0, bx0))
	ih := math.Max(0, math.Min(ay1, by1)-math.Max(ay0, by0))
	inter := iw * ih
	union := a[2]*a[3] + b[2]*b[3] - inter
	hull := (math.Max(ax1, bx1) - math.Min(ax0, bx0)) * (math.Max(ay1, by1) - math.Min(ay0, by0))
	if union <= 0 || hull <= 0 {
		return 0
	}
	iou := inter / union
	return iou - (hull-union)/hull
}
