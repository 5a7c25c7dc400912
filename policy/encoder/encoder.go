package encoder

import (
	"errors"
	"fmt"
	"os"

	ortapi "github.com/yalue/onnxruntime_go"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/policy/ort/ortenv"
)

// Options configures Load. The size fields are the policy's expectations:
// set, they are checked against the model (and fill its dynamic axes).
type Options struct {
	// LibraryPath is the ONNX Runtime library (see ortenv.ResolveLibrary).
	LibraryPath string
	// Normalize is NormalizeNone (images in [0,1]) or NormalizeImageNet.
	Normalize string
	// ImageHeight, ImageWidth are the policy's image size.
	ImageHeight, ImageWidth int
	// Patches is the policy's patch tokens per view (policy.Spec.PatchesPerView).
	Patches int
	// FeatureDim is the Dv the policy was trained with (0: any).
	FeatureDim int
	// IntraOpThreads bounds ONNX Runtime's per-op parallelism (0: its default).
	IntraOpThreads int
	// Session, when set, creates the session by calling create with session
	// options of its choice and returns the provider used (package ort passes
	// its TensorRT -> CUDA -> CPU fallback). Default: the CPU.
	Session func(create func(*ortapi.SessionOptions) error) (provider string, err error)
	Logger  *zap.Logger
}

// Encoder is a loaded frozen encoder with its tensors bound to the session.
type Encoder struct {
	path      string
	sig       signature
	normalize string
	provider  string
	session   *ortapi.AdvancedSession
	in, out   *ortapi.Tensor[float32]
	release   func() error
}

// Load opens the ONNX encoder at path and checks it against the contract
// (see the package documentation) and opts.
func Load(path string, opts Options) (_ *Encoder, err error) {
	if err := validNormalize(opts.Normalize); err != nil {
		return nil, fmt.Errorf("encoder %s: %w", path, err)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	lib, err := ortenv.ResolveLibrary(opts.LibraryPath)
	if err != nil {
		return nil, err
	}
	release, err := ortenv.Acquire(lib)
	if err != nil {
		return nil, err
	}
	e := &Encoder{path: path, normalize: opts.Normalize, release: release}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.Close())
		}
	}()
	ins, outs, err := ortenv.Signature(path)
	if err != nil {
		return nil, fmt.Errorf("encoder: %s is not a loadable ONNX model: %w", path, err)
	}
	if e.sig, err = resolve(ins, outs, opts); err != nil {
		return nil, fmt.Errorf("encoder %s: %w", path, err)
	}
	if e.in, err = ortapi.NewEmptyTensor[float32](e.sig.inShape()); err != nil {
		return nil, fmt.Errorf("encoder: allocating input: %w", err)
	}
	if e.out, err = ortapi.NewEmptyTensor[float32](e.sig.outShape()); err != nil {
		return nil, fmt.Errorf("encoder: allocating output: %w", err)
	}
	create := func(so *ortapi.SessionOptions) error {
		var e2 error
		e.session, e2 = ortapi.NewAdvancedSession(path, []string{InputImage}, []string{OutputFeatures},
			[]ortapi.Value{e.in}, []ortapi.Value{e.out}, so)
		return e2
	}
	session := opts.Session
	if session == nil {
		session = cpuSession(opts.IntraOpThreads)
	}
	if e.provider, err = session(create); err != nil {
		return nil, fmt.Errorf("encoder %s: %w", path, err)
	}
	// A warm-up run on a blank image: a model whose computed output does not
	// match its declared shape fails here, not on the first control frame,
	// and ONNX Runtime's first-run costs are paid at load.
	if err := e.session.Run(); err != nil {
		return nil, fmt.Errorf("encoder %s: warm-up run: %w", path, err)
	}
	if opts.Logger != nil {
		opts.Logger.Info("visual encoder loaded", zap.String("encoder", path), zap.String("provider", e.provider),
			zap.Int("patches", e.sig.N), zap.Int("feature_dim", e.sig.Dv), zap.Bool("feature_map", e.sig.featureMap),
			zap.String("normalize", e.normalize))
	}
	return e, nil
}

// cpuSession is the default session factory: the CPU provider.
func cpuSession(threads int) func(func(*ortapi.SessionOptions) error) (string, error) {
	return func(create func(*ortapi.SessionOptions) error) (string, error) {
		so, err := ortapi.NewSessionOptions()
		if err != nil {
			return "", fmt.Errorf("session options: %w", err)
		}
		if threads > 0 {
			if err := so.SetIntraOpNumThreads(threads); err != nil {
				return "", errors.Join(fmt.Errorf("intra-op threads: %w", err), so.Destroy())
			}
		}
		return "cpu", errors.Join(create(so), so.Destroy())
	}
}

// Encode runs the encoder on every view of images ([V,3,H,W], RGB in
// [0,1]) and writes the patch tokens to dst ([V,N,Dv]).
func (e *Encoder) Encode(images, dst []float32) error {
	if e.session == nil {
		return errors.New("encoder: closed")
	}
	view := 3 * e.sig.H * e.sig.W
	if len(images) == 0 || len(images)%view != 0 {
		return fmt.Errorf("encoder: %d image values are not a whole number of [3,%d,%d] views", len(images), e.sig.H, e.sig.W)
	}
	v, tok := len(images)/view, e.sig.N*e.sig.Dv
	if len(dst) != v*tok {
		return fmt.Errorf("encoder: destination has %d values, %d views of [%d,%d] need %d", len(dst), v, e.sig.N, e.sig.Dv, v*tok)
	}
	in, out := e.in.GetData(), e.out.GetData()
	for k := range v {
		fillImage(in, images[k*view:(k+1)*view], e.normalize)
		if err := e.session.Run(); err != nil {
			return fmt.Errorf("encoder: view %d: %w", k, err)
		}
		tokens(dst[k*tok:(k+1)*tok], out, e.sig)
	}
	return nil
}

// Path is the encoder file.
func (e *Encoder) Path() string { return e.path }

// Patches is N, the patch tokens per view.
func (e *Encoder) Patches() int { return e.sig.N }

// FeatureDim is Dv, the channels per patch token.
func (e *Encoder) FeatureDim() int { return e.sig.Dv }

// ImageSize is the encoder's input height and width.
func (e *Encoder) ImageSize() (h, w int) { return e.sig.H, e.sig.W }

// Normalize is the input normalisation mode.
func (e *Encoder) Normalize() string { return e.normalize }

// Provider is the execution provider the session runs on.
func (e *Encoder) Provider() string { return e.provider }

// Close releases the session, its tensors and the environment reference.
func (e *Encoder) Close() error {
	var errs []error
	if e.session != nil {
		errs = append(errs, e.session.Destroy())
		e.session = nil
	}
	if e.in != nil {
		errs = append(errs, e.in.Destroy())
		e.in = nil
	}
	if e.out != nil {
		errs = append(errs, e.out.Destroy())
		e.out = nil
	}
	if e.release != nil {
		errs = append(errs, e.release())
		e.release = nil
	}
	return errors.Join(errs...)
}
