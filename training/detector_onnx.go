package training

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"

	ortapi "github.com/yalue/onnxruntime_go"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/policy/ort"
	"github.com/vla3d/vla3d/policy/ort/ortenv"
)

// ONNX detector I/O contract (names are exact; axes marked -1 may be
// dynamic in the model):
//
//	input  "image"  float32 [1, 3, H, W]  RGB in [0,1]; a fixed H, W
//	                                      differing from the view is met by
//	                                      bilinear resizing
//	output "boxes"  float32 [1, K, 4]     normalized x1, y1, x2, y2
//	output "scores" float32 [1, K]        confidence in [0,1]
//	output "masks"  float32 [1, K, h, w]  full-image masks at any scale h, w:
//	                                      probabilities, or logits with
//	                                      ONNXDetectorOptions.MaskLogits
//
// Other outputs are ignored. Detections scoring below ScoreThreshold are
// dropped; masks are resized bilinearly to the view's (label) scale and
// thresholded at MaskThreshold; detections whose mask is then empty are
// dropped. The 3D centroids come later, from the masks and depth, exactly
// as for recorded labels (DetectionAssembler).
const (
	DetectorInputImage   = "image"
	DetectorOutputBoxes  = "boxes"
	DetectorOutputScores = "scores"
	DetectorOutputMasks  = "masks"
)

// ONNXDetectorOptions configures LoadONNXDetector.
type ONNXDetectorOptions struct {
	// LibraryPath is the ONNX Runtime library ("" = ort.ResolveLibrary's
	// default: $VLA3D_ORT_LIB, then the project copy).
	LibraryPath string
	// ScoreThreshold drops less confident detections (0 = 0.5).
	ScoreThreshold float32
	// MaskThreshold binarizes mask probabilities (0 = 0.5).
	MaskThreshold float32
	// MaskLogits: the "masks" output holds logits (a sigmoid is applied).
	MaskLogits bool
	// Threads is ONNX Runtime's intra-op thread count (0 = 1: pseudo
	// labelling runs next to the trainer on a small CPU).
	Threads int
	Log     *zap.Logger
}

// ONNXDetector is a Detector running an ONNX model through ONNX Runtime.
// Not safe for concurrent use.
type ONNXDetector struct {
	opts    ONNXDetectorOptions
	session *ortapi.DynamicAdvancedSession
	release func() error
	// inH, inW are the model's fixed input size (0 = dynamic axis).
	inH, inW int
	input    []float32
}

var _ Detector = (*ONNXDetector)(nil)

// LoadONNXDetector opens the detector model at path and checks it against
// the I/O contract above.
func LoadONNXDetector(path string, o ONNXDetectorOptions) (_ *ONNXDetector, err error) {
	if o.ScoreThreshold == 0 {
		o.ScoreThreshold = 0.5
	}
	if o.MaskThreshold == 0 {
		o.MaskThreshold = 0.5
	}
	if o.Threads == 0 {
		o.Threads = 1
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("onnx detector: %w", err)
	}
	lib, err := ort.ResolveLibrary(o.LibraryPath)
	if err != nil {
		return nil, fmt.Errorf("onnx detector: %w", err)
	}
	release, err := ort.AcquireEnvironment(lib)
	if err != nil {
		return nil, fmt.Errorf("onnx detector: %w", err)
	}
	d := &ONNXDetector{opts: o, release: release}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.Close())
		}
	}()
	ins, outs, err := ortenv.Signature(path)
	if err != nil {
		return nil, fmt.Errorf("onnx detector: %s is not a loadable ONNX model: %w", path, err)
	}
	if d.inH, d.inW, err = checkDetectorIO(ins, outs); err != nil {
		return nil, fmt.Errorf("onnx detector %s: %w", path, err)
	}
	so, err := ortapi.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("onnx detector: %w", err)
	}
	defer func() { err = errors.Join(err, so.Destroy()) }()
	if err := so.SetIntraOpNumThreads(o.Threads); err != nil {
		return nil, fmt.Errorf("onnx detector: %w", err)
	}
	d.session, err = ortapi.NewDynamicAdvancedSession(path, []string{DetectorInputImage},
		[]string{DetectorOutputBoxes, DetectorOutputScores, DetectorOutputMasks}, so)
	if err != nil {
		return nil, fmt.Errorf("onnx detector %s: %w", path, err)
	}
	o.Log.Info("onnx detector loaded", zap.String("model", path), zap.Int("input_h", d.inH), zap.Int("input_w", d.inW))
	return d, nil
}

// checkDetectorIO verifies the contract and returns the fixed input size
// (0 for dynamic axes).
func checkDetectorIO(ins, outs []ortapi.InputOutputInfo) (h, w int, err error) {
	contract := fmt.Sprintf("want input %q [1,3,H,W] and outputs %q [1,K,4], %q [1,K], %q [1,K,h,w], all float32",
		DetectorInputImage, DetectorOutputBoxes, DetectorOutputScores, DetectorOutputMasks)
	if len(ins) != 1 || ins[0].Name != DetectorInputImage {
		names := make([]string, len(ins))
		for i, in := range ins {
			names[i] = in.Name
		}
		return 0, 0, fmt.Errorf("model inputs %q: %s", names, contract)
	}
	fixed := func(x int64, want int64) bool { return x < 0 || x == want }
	in := ins[0]
	if in.DataType != ortapi.TensorElementDataTypeFloat || len(in.Dimensions) != 4 || !fixed(in.Dimensions[0], 1) || !fixed(in.Dimensions[1], 3) {
		return 0, 0, fmt.Errorf("input %q is %s %v: %s", in.Name, in.DataType, in.Dimensions, contract)
	}
	h, w = max(int(in.Dimensions[2]), 0), max(int(in.Dimensions[3]), 0)
	ranks := map[string]int{DetectorOutputBoxes: 3, DetectorOutputScores: 2, DetectorOutputMasks: 4}
	found := map[string]ortapi.InputOutputInfo{}
	for _, o := range outs {
		if r, ok := ranks[o.Name]; ok {
			if o.DataType != ortapi.TensorElementDataTypeFloat || len(o.Dimensions) != r || !fixed(o.Dimensions[0], 1) {
				return 0, 0, fmt.Errorf("output %q is %s %v: %s", o.Name, o.DataType, o.Dimensions, contract)
			}
			found[o.Name] = o
		}
	}
	for name := range ranks {
		if _, ok := found[name]; !ok {
			return 0, 0, fmt.Errorf("no output %q: %s", name, contract)
		}
	}
	if b := found[DetectorOutputBoxes].Dimensions; b[2] >= 0 && b[2] != 4 {
		return 0, 0, fmt.Errorf("output %q has %d box values, want 4: %s", DetectorOutputBoxes, b[2], contract)
	}
	return h, w, nil
}

// Detect implements Detector.
func (d *ONNXDetector) Detect(ctx context.Context, v DetectorView) (_ []Detection, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d.session == nil {
		return nil, errors.New("onnx detector: closed")
	}
	W, H := v.Width, v.Height
	if W <= 0 || H <= 0 || len(v.Image) != 3*W*H {
		return nil, fmt.Errorf("onnx detector: %d image values for a %dx%d view", len(v.Image), W, H)
	}
	ih, iw := d.inH, d.inW
	if ih == 0 {
		ih = H
	}
	if iw == 0 {
		iw = W
	}
	img := v.Image
	if ih != H || iw != W {
		if cap(d.input) < 3*ih*iw {
			d.input = make([]float32, 3*ih*iw)
		}
		img = d.input[:3*ih*iw]
		for c := range 3 {
			resizeBilinear(v.Image[c*H*W:(c+1)*H*W], W, H, img[c*ih*iw:(c+1)*ih*iw], iw, ih)
		}
	}
	in, err := ortapi.NewTensor(ortapi.NewShape(1, 3, int64(ih), int64(iw)), img)
	if err != nil {
		return nil, fmt.Errorf("onnx detector: %w", err)
	}
	outs := make([]ortapi.Value, 3)
	defer func() {
		err = errors.Join(err, in.Destroy())
		for _, o := range outs {
			if o != nil {
				err = errors.Join(err, o.Destroy())
			}
		}
	}()
	if err := d.session.Run([]ortapi.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("onnx detector: %w", err)
	}
	var t [3]*ortapi.Tensor[float32]
	for i, o := range outs {
		f, ok := o.(*ortapi.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("onnx detector: output %d is %T, want a float32 tensor", i, o)
		}
		t[i] = f
	}
	bs, ss, ms := t[0].GetShape(), t[1].GetShape(), t[2].GetShape()
	k := int(ss[1])
	if int(bs[1]) != k || bs[2] != 4 || int(ms[1]) != k {
		return nil, fmt.Errorf("onnx detector: outputs disagree on K: boxes %v, scores %v, masks %v", bs, ss, ms)
	}
	boxes, scores, masks := t[0].GetData(), t[1].GetData(), t[2].GetData()
	mh, mw := int(ms[2]), int(ms[3])
	prob := make([]float32, W*H)
	var out []Detection
	for i := range k {
		if !(scores[i] >= d.opts.ScoreThreshold) {
			continue
		}
		resizeBilinear(masks[i*mh*mw:(i+1)*mh*mw], mw, mh, prob, W, H)
		det := Detection{Score: scores[i], Mask: make([]uint8, W*H)}
		on := 0
		for p, x := range prob {
			if d.opts.MaskLogits {
				x = float32(1 / (1 + math.Exp(-float64(x))))
			}
			if x >= d.opts.MaskThreshold {
				det.Mask[p] = 1
				on++
			}
		}
		if on == 0 {
			continue
		}
		for j := range 4 {
			det.Box[j] = min(max(boxes[4*i+j], 0), 1)
		}
		out = append(out, det)
	}
	return out, nil
}

// Close releases the session and the ONNX Runtime environment reference.
func (d *ONNXDetector) Close() error {
	var err error
	if d.session != nil {
		err = d.session.Destroy()
		d.session = nil
	}
	if d.release != nil {
		err = errors.Join(err, d.release())
		d.release = nil
	}
	return err
}

// resizeBilinear samples src (sw x sh) at dst's pixel centres (dw x dh)
// with bilinear interpolation, edges clamped (align_corners=false).
func resizeBilinear(src []float32, sw, sh int, dst []float32, dw, dh int) {
	sx, sy := float64(sw)/float64(dw), float64(sh)/float64(dh)
	for y := range dh {
		fy := min(max((float64(y)+0.5)*sy-0.5, 0), float64(sh-1))
		y0 := int(fy)
		y1 := min(y0+1, sh-1)
		ay := float32(fy - float64(y0))
		for x := range dw {
			fx := min(max((float64(x)+0.5)*sx-0.5, 0), float64(sw-1))
			x0 := int(fx)
			x1 := min(x0+1, sw-1)
			ax := float32(fx - float64(x0))
			top := src[y0*sw+x0]*(1-ax) + src[y0*sw+x1]*ax
			bot := src[y1*sw+x0]*(1-ax) + src[y1*sw+x1]*ax
			dst[y*dw+x] = top*(1-ay) + bot*ay
		}
	}
}
