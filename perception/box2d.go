package perception

// 2D boxes are [4]float32 in pixel (or normalised) units. XYXY is
// (x1, y1, x2, y2) with x1 <= x2, y1 <= y2; CXCYWH is (cx, cy, w, h).
// Inverted boxes (x2 < x1) have zero area.

// XYXYToCXCYWH converts corner form to centre form.
func XYXYToCXCYWH(b [4]float32) [4]float32 {
	return [4]float32{(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]}
}

// CXCYWHToXYXY converts centre form to corner form.
func CXCYWHToXYXY(b [4]float32) [4]float32 {
	return [4]float32{b[0] - b[2]/2, b[1] - b[3]/2, b[0] + b[2]/2, b[1] + b[3]/2}
}

// BoxArea is the area of an XYXY box (0 when inverted).
func BoxArea(b [4]float32) float64 {
	return float64(max(0, b[2]-b[0])) * float64(max(0, b[3]-b[1]))
}

func boxUnionInter(a, b [4]float32) (union, inter float64) {
	iw := float64(max(0, min(a[2], b[2])-max(a[0], b[0])))
	ih := float64(max(0, min(a[3], b[3])-max(a[1], b[1])))
	inter = iw * ih
	return BoxArea(a) + BoxArea(b) - inter, inter
}

// BoxIoU is intersection over union of two XYXY boxes; 0 when the union is empty.
func BoxIoU(a, b [4]float32) float64 {
	union, inter := boxUnionInter(a, b)
	if union <= 0 {
		return 0
	}
	return inter / union
}

// BoxGIoU is generalised IoU (Rezatofighi et al., 2019) of two XYXY boxes:
// IoU - (C - U)/C with C the area of the smallest enclosing box; in [-1, 1].
// When the enclosing box is empty (both boxes degenerate) it equals IoU.
func BoxGIoU(a, b [4]float32) float64 {
	union, inter := boxUnionInter(a, b)
	iou := 0.0
	if union > 0 {
		iou = inter / union
	}
	c := float64(max(a[2], b[2])-min(a[0], b[0])) * float64(max(a[3], b[3])-min(a[1], b[1]))
	if c <= 0 {
		return iou
	}
	return iou - (c-union)/c
}

// NormalizeBox divides an XYXY pixel box (pixel-edge convention, see
// Pinhole) by the image size, giving [0,1] coordinates like the model's
// sampling points.
func NormalizeBox(b [4]float32, width, height int) [4]float32 {
	w, h := float32(width), float32(height)
	return [4]float32{b[0] / w, b[1] / h, b[2] / w, b[3] / h}
}
