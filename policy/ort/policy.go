package ort

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	ortapi "github.com/yalue/onnxruntime_go"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/encoder"
	"github.com/vla3d/vla3d/policy/ort/ortenv"
)

// Options configures Load and Run.
type Options struct {
	// LibraryPath is the ONNX Runtime shared library; see ResolveLibrary for
	// how it combines with $VLA3D_ORT_LIB and the project-local default.
	LibraryPath string
	// Providers in preference order (default DefaultProviders()).
	Providers []string
	// DeviceID selects the GPU for the CUDA and TensorRT providers.
	DeviceID int
	// TensorRTCacheDir, when set, keeps built TensorRT engines (and timing
	// caches) there, so only the first start pays the minutes-long build.
	TensorRTCacheDir string
	// TensorRTFP16 lets TensorRT run layers in half precision.
	TensorRTFP16 bool
	// IntraOpThreads bounds ONNX Runtime's per-op parallelism (0: its default,
	// one per core). The control loop usually wants a small fixed number.
	IntraOpThreads int
	// Expected, when set, is checked against the sidecar (see CheckSpec).
	Expected *policy.Spec
	// NoiseSeed seeds the flow head's initial noise (models with a "noise"
	// input); a fixed seed makes runs reproducible.
	NoiseSeed uint64
	// Encoder is the frozen ONNX visual encoder of a model that reads patch
	// features; empty uses the sidecar's encoder path (relative to the
	// model's directory).
	Encoder string
	// ProfilePrefix, when set, turns on ONNX Runtime's per-node profiler: at
	// Close it writes <prefix>_<date>.json (Chrome trace format), which
	// SummarizeProfile reads.
	ProfilePrefix string
	Logger        *zap.Logger
}

// Policy is a loaded model, ready to Predict. Its tensors are allocated once
// and bound to the session, so Predict only copies data in and out.
type Policy struct {
	spec     policy.Spec
	provider string
	session  *ortapi.AdvancedSession
	release  func() error

	// encoder, when set, turns Input.Images into patchFeatures each Predict.
	encoder *encoder.Encoder

	images, points, valid, intrinsics, camFromBase, proprio, noise *ortapi.Tensor[float32]
	patchFeatures                                                  *ortapi.Tensor[float32]
	instruction                                                    *ortapi.Tensor[int64]
	actions                                                        *ortapi.Tensor[float32]
	values                                                         []ortapi.Value
	stamp                                                          time.Time // of the last Predict's input
	// extras are the perception outputs the model has (policy.Perceiver),
	// by name; outputs are every bound output, actions first.
	extras  map[string]*ortapi.Tensor[float32]
	outputs []ortapi.Value
	rng     *rand.Rand
}

var _ policy.Policy = (*Policy)(nil)

// Load reads modelPath (model.onnx) and its sidecar (model.json) and opens
// an ONNX Runtime session on the first available provider.
func Load(modelPath string, opts Options) (_ *Policy, err error) {
	log := opts.logger()
	spec, err := LoadSpec(modelPath)
	if err != nil {
		return nil, err
	}
	if opts.Expected != nil {
		if err := CheckSpec(spec, *opts.Expected); err != nil {
			return nil, fmt.Errorf("%s: %w", modelPath, err)
		}
	}
	if _, err := os.Stat(modelPath); err != nil {
		return nil, fmt.Errorf("ort: %w", err)
	}
	lib, err := ResolveLibrary(opts.LibraryPath)
	if err != nil {
		return nil, err
	}
	release, err := AcquireEnvironment(lib)
	if err != nil {
		return nil, err
	}
	p := &Policy{spec: spec, release: release, rng: rand.New(rand.NewPCG(opts.NoiseSeed, 0x3d1a))}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.Close())
		}
	}()
	ins, outs, err := ortenv.Signature(modelPath)
	if err != nil {
		return nil, fmt.Errorf("ort: %s is not a loadable ONNX model: %w", modelPath, err)
	}
	want := expectedInputs(spec)
	if err := p.openEncoder(modelPath, ins, lib, &opts, log); err != nil {
		return nil, err
	}
	var names []string
	for _, in := range ins {
		dims, ok := want[in.Name]
		if !ok {
			return nil, fmt.Errorf("ort: %s: unexpected model input %q", modelPath, in.Name)
		}
		if err := checkDims(in, dims, in.Name == policy.TensorInstruction); err != nil {
			return nil, fmt.Errorf("ort: %s: %w", modelPath, err)
		}
		names = append(names, in.Name)
	}
	if len(outs) == 0 || outs[0].Name != policy.TensorActions {
		return nil, fmt.Errorf("ort: %s: want the first output %q, model has %v", modelPath, policy.TensorActions, outs)
	}
	if err := checkDims(outs[0], []int64{1, int64(spec.Horizon), int64(spec.ActionDim)}, false); err != nil {
		return nil, fmt.Errorf("ort: %s: %w", modelPath, err)
	}
	if err := p.allocate(names, want); err != nil {
		return nil, err
	}
	outNames, err := p.allocateExtras(modelPath, outs[1:])
	if err != nil {
		return nil, err
	}
	p.provider, err = withFallback(&opts, log, func(so *ortapi.SessionOptions) error {
		var e error
		p.session, e = ortapi.NewAdvancedSession(modelPath, names, outNames, p.values, p.outputs, so)
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("ort: %s: %w", modelPath, err)
	}
	log.Info("policy loaded", zap.String("model", modelPath), zap.String("provider", p.provider),
		zap.Int("cameras", spec.Cameras), zap.Bool("instance", spec.Modules.Instance),
		zap.Bool("predictor", spec.Modules.Predictor), zap.Bool("routing", spec.Modules.Routing))
	return p, nil
}

// openEncoder loads the frozen visual encoder when the model reads patch
// features, and refuses an encoder given for a model that reads images.
func (p *Policy) openEncoder(modelPath string, ins []ortapi.InputOutputInfo, lib string, opts *Options, log *zap.Logger) error {
	reads := false
	for _, in := range ins {
		reads = reads || in.Name == policy.TensorPatchFeatures
	}
	spec := p.spec
	if !reads {
		if opts.Encoder != "" {
			return fmt.Errorf("ort: %s reads images, not encoder features; drop the encoder %s", modelPath, opts.Encoder)
		}
		return nil
	}
	if spec.Encoder == nil {
		return fmt.Errorf("ort: %s reads %q but its sidecar names no encoder (feature_dim unknown)", modelPath, policy.TensorPatchFeatures)
	}
	path := opts.Encoder
	if path == "" {
		if path = spec.Encoder.Path; path != "" && !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(modelPath), path)
		}
	}
	if path == "" {
		return fmt.Errorf("ort: %s reads %q: give the encoder's path (Options.Encoder)", modelPath, policy.TensorPatchFeatures)
	}
	var err error
	p.encoder, err = encoder.Load(path, encoder.Options{
		LibraryPath: lib, Normalize: spec.Encoder.Normalize,
		ImageHeight: spec.ImageHeight, ImageWidth: spec.ImageWidth,
		Patches: spec.PatchesPerView(), FeatureDim: spec.Encoder.FeatureDim,
		IntraOpThreads: opts.IntraOpThreads, Logger: log,
		Session: func(create func(*ortapi.SessionOptions) error) (string, error) {
			return withFallback(opts, log, create)
		},
	})
	if err != nil {
		return fmt.Errorf("ort: %s: %w", modelPath, err)
	}
	return nil
}

// expectedInputs are the batch-1 shapes of every input the node can feed.
func expectedInputs(s policy.Spec) map[string][]int64 {
	v, n := int64(s.Cameras), int64(s.PatchesPerView())
	m := map[string][]int64{
		policy.TensorImages:      {1, v, 3, int64(s.ImageHeight), int64(s.ImageWidth)},
		policy.TensorPoints:      {1, v, n, 3},
		policy.TensorPointValid:  {1, v, n},
		policy.TensorIntrinsics:  {1, v, 4},
		policy.TensorCamFromBase: {1, v, 12},
		policy.TensorProprio:     {1, int64(s.ProprioDim)},
		policy.TensorInstruction: {1, int64(s.InstructionLen)},
		policy.TensorNoise:       {1, int64(s.Horizon), int64(s.ActionDim)},
	}
	if s.Encoder != nil {
		m[policy.TensorPatchFeatures] = []int64{1, v, n, int64(s.Encoder.FeatureDim)}
	}
	return m
}

// checkDims compares a model tensor with the sidecar's shape; a dynamic
// (negative) model axis accepts any size.
func checkDims(info ortapi.InputOutputInfo, want []int64, isInt bool) error {
	dt := ortapi.TensorElementDataType(ortapi.TensorElementDataTypeFloat)
	if isInt {
		dt = ortapi.TensorElementDataTypeInt64
	}
	if info.DataType != dt {
		return fmt.Errorf("tensor %q has element type %s, want %s", info.Name, info.DataType, dt)
	}
	got := info.Dimensions
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i] < 0 || got[i] == want[i]
	}
	if !ok {
		return fmt.Errorf("tensor %q has shape %v but the sidecar implies %v", info.Name, got, want)
	}
	return nil
}

// allocate creates the bound tensors, in the model's input order.
func (p *Policy) allocate(names []string, shapes map[string][]int64) error {
	f32 := func(dst **ortapi.Tensor[float32], name string) error {
		t, err := ortapi.NewEmptyTensor[float32](ortapi.NewShape(shapes[name]...))
		if err != nil {
			return fmt.Errorf("ort: allocating %s: %w", name, err)
		}
		*dst = t
		p.values = append(p.values, t)
		return nil
	}
	for _, name := range names {
		var err error
		switch name {
		case policy.TensorImages:
			err = f32(&p.images, name)
		case policy.TensorPoints:
			err = f32(&p.points, name)
		case policy.TensorPointValid:
			err = f32(&p.valid, name)
		case policy.TensorIntrinsics:
			err = f32(&p.intrinsics, name)
		case policy.TensorCamFromBase:
			err = f32(&p.camFromBase, name)
		case policy.TensorProprio:
			err = f32(&p.proprio, name)
		case policy.TensorNoise:
			err = f32(&p.noise, name)
		case policy.TensorPatchFeatures:
			err = f32(&p.patchFeatures, name)
		case policy.TensorInstruction:
			t, e := ortapi.NewEmptyTensor[int64](ortapi.NewShape(shapes[name]...))
			if e != nil {
				err = fmt.Errorf("ort: allocating %s: %w", name, e)
			} else {
				p.instruction = t
				p.values = append(p.values, t)
			}
		}
		if err != nil {
			return err
		}
	}
	t, err := ortapi.NewEmptyTensor[float32](ortapi.NewShape(1, int64(p.spec.Horizon), int64(p.spec.ActionDim)))
	if err != nil {
		return fmt.Errorf("ort: allocating actions: %w", err)
	}
	p.actions = t
	return nil
}

// allocateExtras binds the model's perception outputs (batch 1, the
// model's other dimensions) and returns every output name, actions first.
func (p *Policy) allocateExtras(modelPath string, outs []ortapi.InputOutputInfo) ([]string, error) {
	names := []string{policy.TensorActions}
	p.outputs = []ortapi.Value{p.actions}
	p.extras = map[string]*ortapi.Tensor[float32]{}
	for _, o := range outs {
		rank := map[string]int{policy.TensorInstancePoints: 3, policy.TensorInstanceScores: 2, policy.TensorCompletionPoints: 3, policy.TensorAnchorPoints: 3}[o.Name]
		if rank == 0 {
			return nil, fmt.Errorf("ort: %s: unexpected model output %q", modelPath, o.Name)
		}
		dims := slices.Clone(o.Dimensions)
		if len(dims) != rank || o.DataType != ortapi.TensorElementDataTypeFloat {
			return nil, fmt.Errorf("ort: %s: output %q has type %s shape %v, want float rank %d", modelPath, o.Name, o.DataType, dims, rank)
		}
		dims[0] = 1
		for _, d := range dims[1:] {
			if d <= 0 {
				return nil, fmt.Errorf("ort: %s: output %q has a dynamic axis %v", modelPath, o.Name, o.Dimensions)
			}
		}
		if rank == 3 && dims[2] != 3 {
			return nil, fmt.Errorf("ort: %s: output %q has shape %v, want [B,N,3]", modelPath, o.Name, o.Dimensions)
		}
		t, err := ortapi.NewEmptyTensor[float32](ortapi.NewShape(dims...))
		if err != nil {
			return nil, fmt.Errorf("ort: allocating %s: %w", o.Name, err)
		}
		p.extras[o.Name] = t
		p.outputs = append(p.outputs, t)
		names = append(names, o.Name)
	}
	return names, nil
}

// Perception implements policy.Perceiver: the instance points and scores,
// the completion points and the anchor points of the last Predict, those
// the model has.
func (p *Policy) Perception(dst *policy.Perception) bool {
	pts, sc, an := p.extras[policy.TensorInstancePoints], p.extras[policy.TensorInstanceScores], p.extras[policy.TensorAnchorPoints]
	if (pts == nil || sc == nil) && an == nil {
		return false
	}
	dst.Stamp = p.stamp
	dst.Points, dst.Scores, dst.Completion, dst.Anchors = dst.Points[:0], dst.Scores[:0], dst.Completion[:0], dst.Anchors[:0]
	if pts != nil && sc != nil {
		dst.Points = append(dst.Points, pts.GetData()...)
		dst.Scores = append(dst.Scores, sc.GetData()...)
	}
	if c := p.extras[policy.TensorCompletionPoints]; c != nil {
		dst.Completion = append(dst.Completion, c.GetData()...)
	}
	if an != nil {
		dst.Anchors = append(dst.Anchors, an.GetData()...)
	}
	return true
}

var _ policy.Perceiver = (*Policy)(nil)

// Spec implements policy.Policy.
func (p *Policy) Spec() policy.Spec { return p.spec }

// Provider is the execution provider the session runs on.
func (p *Policy) Provider() string { return p.provider }

// Predict implements policy.Policy: copies in into the bound tensors, runs
// the model and writes de-normalized actions into out.
func (p *Policy) Predict(ctx context.Context, in *policy.Input, out *msgs.ActionChunk) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	copyIn := func(name string, t *ortapi.Tensor[float32], src []float32) error {
		if t == nil {
			return nil // the model does not use this input
		}
		dst := t.GetData()
		if len(src) != len(dst) {
			return fmt.Errorf("ort: input %s has %d values, model wants %d", name, len(src), len(dst))
		}
		copy(dst, src)
		return nil
	}
	if p.encoder != nil {
		if err := p.encoder.Encode(in.Images, p.patchFeatures.GetData()); err != nil {
			return fmt.Errorf("ort: %w", err)
		}
	}
	if err := errors.Join(
		copyIn(policy.TensorImages, p.images, in.Images),
		copyIn(policy.TensorPoints, p.points, in.Points),
		copyIn(policy.TensorPointValid, p.valid, in.PointValid),
		copyIn(policy.TensorIntrinsics, p.intrinsics, in.Intrinsics),
		copyIn(policy.TensorCamFromBase, p.camFromBase, in.CamFromBase),
		copyIn(policy.TensorProprio, p.proprio, in.Proprio),
	); err != nil {
		return err
	}
	if p.instruction != nil {
		dst := p.instruction.GetData()
		if len(in.Instruction) != len(dst) {
			return fmt.Errorf("ort: input %s has %d tokens, model wants %d", policy.TensorInstruction, len(in.Instruction), len(dst))
		}
		copy(dst, in.Instruction)
	}
	if p.noise != nil {
		for i, d := 0, p.noise.GetData(); i < len(d); i++ {
			d[i] = float32(p.rng.NormFloat64())
		}
	}
	if err := p.session.Run(); err != nil {
		return fmt.Errorf("ort: run: %w", err)
	}
	p.stamp = in.Stamp
	h, a := p.spec.Horizon, p.spec.ActionDim
	out.Horizon, out.Dim = h, a
	if p.spec.ControlHz > 0 {
		out.Period = time.Duration(float64(time.Second) / p.spec.ControlHz)
	}
	out.Values = slices.Grow(out.Values[:0], h*a)[:h*a]
	copy(out.Values, p.actions.GetData())
	Denormalize(out.Values, a, p.spec.ActionMean, p.spec.ActionStd)
	return nil
}

// Denormalize maps normalized actions (rows of dim values) back to physical
// units: v*std + mean per dimension. Missing statistics mean identity.
func Denormalize(values []float32, dim int, mean, std []float32) {
	for i := range values {
		d := i % dim
		if len(std) == dim {
			values[i] *= std[d]
		}
		if len(mean) == dim {
			values[i] += mean[d]
		}
	}
}

// Close implements policy.Policy.
func (p *Policy) Close() error {
	var errs []error
	if p.session != nil {
		errs = append(errs, p.session.Destroy())
		p.session = nil
	}
	if p.encoder != nil {
		errs = append(errs, p.encoder.Close())
		p.encoder = nil
	}
	for _, v := range p.values {
		errs = append(errs, v.Destroy())
	}
	p.values = nil
	for _, v := range p.outputs {
		errs = append(errs, v.Destroy())
	}
	p.outputs, p.extras, p.actions = nil, nil, nil
	if p.release != nil {
		errs = append(errs, p.release())
		p.release = nil
	}
	return errors.Join(errs...)
}
