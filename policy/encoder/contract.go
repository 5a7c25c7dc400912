package encoder

import (
	"fmt"

	ortapi "github.com/yalue/onnxruntime_go"
)

// Tensor names of the encoder contract.
const (
	InputImage     = "image"
	OutputFeatures = "features"
)

// Normalisation modes of the input image.
const (
	NormalizeNone     = ""
	NormalizeImageNet = "imagenet"
)

// ImageNet channel statistics (torchvision's), what most exported vision
// backbones expect their inputs normalised with.
var (
	imageNetMean = [3]float32{0.485, 0.456, 0.406}
	imageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// signature is the encoder's resolved tensor layout at batch 1.
type signature struct {
	H, W       int  // input image size
	N, Dv      int  // patch tokens per view and channels per token
	featureMap bool // output is [1,Dv,h,w] rather than [1,N,Dv]
	mapH, mapW int  // feature-map grid when featureMap
}

// inShape and outShape are the bound tensors' shapes.
func (s signature) inShape() ortapi.Shape { return ortapi.NewShape(1, 3, int64(s.H), int64(s.W)) }
func (s signature) outShape() ortapi.Shape {
	if s.featureMap {
		return ortapi.NewShape(1, int64(s.Dv), int64(s.mapH), int64(s.mapW))
	}
	return ortapi.NewShape(1, int64(s.N), int64(s.Dv))
}

// resolve checks the model's declared tensors against the contract and the
// caller's expectations in o, and fixes every size.
func resolve(ins, outs []ortapi.InputOutputInfo, o Options) (signature, error) {
	var s signature
	if len(ins) != 1 || ins[0].Name != InputImage {
		return s, fmt.Errorf("want exactly one input %q [1,3,H,W], model has %s", InputImage, describe(ins))
	}
	in := ins[0]
	if in.DataType != ortapi.TensorElementDataTypeFloat {
		return s, fmt.Errorf("input %q has element type %s, want float32", in.Name, in.DataType)
	}
	d := in.Dimensions
	if len(d) != 4 || !batchOne(d[0]) || d[1] != 3 {
		return s, fmt.Errorf("input %q has shape %v, want [1,3,H,W]", in.Name, d)
	}
	var err error
	if s.H, err = size("image height", d[2], o.ImageHeight); err != nil {
		return s, err
	}
	if s.W, err = size("image width", d[3], o.ImageWidth); err != nil {
		return s, err
	}
	var out *ortapi.InputOutputInfo
	for i := range outs {
		if outs[i].Name == OutputFeatures {
			out = &outs[i]
		}
	}
	if out == nil {
		return s, fmt.Errorf("model has no output %q (outputs: %s)", OutputFeatures, describe(outs))
	}
	if out.DataType != ortapi.TensorElementDataTypeFloat {
		return s, fmt.Errorf("output %q has element type %s, want float32", out.Name, out.DataType)
	}
	d = out.Dimensions
	switch {
	case len(d) == 3 && batchOne(d[0]):
		// A static N is compared below, with the clearer message.
		if s.N = int(d[1]); d[1] <= 0 {
			if s.N, err = size("patch tokens per view", d[1], o.Patches); err != nil {
				return s, err
			}
		}
		if s.Dv, err = size("feature dim", d[2], o.FeatureDim); err != nil {
			return s, err
		}
	case len(d) == 4 && batchOne(d[0]):
		s.featureMap = true
		if d[2] <= 0 || d[3] <= 0 {
			return s, fmt.Errorf("output %q is a feature map with dynamic grid %v: export it with a static h,w", out.Name, d)
		}
		s.mapH, s.mapW, s.N = int(d[2]), int(d[3]), int(d[2]*d[3])
		if s.Dv, err = size("feature dim", d[1], o.FeatureDim); err != nil {
			return s, err
		}
	default:
		return s, fmt.Errorf("output %q has shape %v, want [1,N,Dv] patch tokens or a [1,Dv,h,w] feature map", out.Name, d)
	}
	if o.Patches > 0 && s.N != o.Patches {
		return s, fmt.Errorf("encoder emits %d patch tokens per view but the policy has %d patches per view", s.N, o.Patches)
	}
	if o.FeatureDim > 0 && s.Dv != o.FeatureDim {
		return s, fmt.Errorf("encoder emits %d-dim features but the policy expects %d", s.Dv, o.FeatureDim)
	}
	return s, nil
}

// batchOne accepts a static batch of 1 or a dynamic batch axis.
func batchOne(d int64) bool { return d == 1 || d < 0 }

// size resolves one axis: a static model axis must agree with want (when
// want is set); a dynamic one takes want, which must then be set.
func size(what string, model int64, want int) (int, error) {
	switch {
	case model > 0 && want > 0 && int(model) != want:
		return 0, fmt.Errorf("encoder %s is %d but the policy has %d", what, model, want)
	case model > 0:
		return int(model), nil
	case want > 0:
		return want, nil
	}
	return 0, fmt.Errorf("encoder %s is dynamic and no size was given for it", what)
}

func describe(infos []ortapi.InputOutputInfo) string {
	if len(infos) == 0 {
		return "none"
	}
	s := ""
	for i, in := range infos {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q %v", in.Name, in.Dimensions)
	}
	return s
}

// validNormalize checks a normalisation mode.
func validNormalize(mode string) error {
	switch mode {
	case NormalizeNone, NormalizeImageNet:
		return nil
	}
	return fmt.Errorf("unknown normalisation %q (want %q or %q)", mode, NormalizeNone, NormalizeImageNet)
}

// fillImage copies one [3,H,W] view into dst, normalising per channel.
func fillImage(dst, src []float32, mode string) {
	if mode != NormalizeImageNet {
		copy(dst, src)
		return
	}
	hw := len(src) / 3
	for c := range 3 {
		m, inv := imageNetMean[c], 1/imageNetStd[c]
		d, s := dst[c*hw:(c+1)*hw], src[c*hw:(c+1)*hw]
		for i := range s {
			d[i] = (s[i] - m) * inv
		}
	}
}

// tokens copies one view's encoder output into dst [N,Dv]: patch tokens
// as they are, a [Dv,h*w] feature map transposed to row-major tokens.
func tokens(dst, out []float32, s signature) {
	if !s.featureMap {
		copy(dst, out)
		return
	}
	n, dv := s.N, s.Dv
	for c := range dv {
		row := out[c*n : (c+1)*n]
		for t, x := range row {
			dst[t*dv+c] = x
		}
	}
}
