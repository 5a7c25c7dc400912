package model

import (
	"errors"
	"fmt"
	"github.com/vla3d/vla3d/contract"

	"github.com/vla3d/vla3d/policy"
)

// Action head kinds.
const (
	HeadL1   = "l1"   // OpenVLA-OFT style parallel regression, trained with L1.
	HeadFlow = "flow" // pi0 style flow matching, Euler-integrated at inference.
)

// Completion coordinate sources for the predictor's completion queries.
const (
	// CompletionDerived derives the 6x5 completion coordinates in-graph from
	// the top instances' reference points (the only source at inference).
	CompletionDerived = "derived"
	// CompletionInput reads them from Inputs.CompletionCoords (computed from
	// labels by perception's completion-target generation during training).
	CompletionInput = "input"
)

// Config holds every size of the model. DefaultConfig is CPU-sized.
type Config struct {
	// Observation layout (must match policy.Spec).
	Cameras, ImageHeight, ImageWidth, PatchSize int
	ProprioDim, InstructionLen, VocabSize       int
	Horizon, ActionDim                          int
	ControlHz                                   float64
	ActionSpace                                 contract.ActionSpace

	// VisualFeatureDim / TextFeatureDim > 0 replace the trainable patch
	// encoder / instruction table by adapters over features of frozen
	// encoders run outside the graph (Inputs.PatchFeatures, InstructionFeatures).
	VisualFeatureDim, TextFeatureDim int

	// StemChannels > 0 puts a non-linear stem before the patch embedding:
	// every StemPatch x StemPatch sub-patch is embedded to StemChannels
	// features with a GELU, and a patch's sub-patch features, kept in place,
	// are embedded to width d. A token can then say where in its patch
	// something is (one linear embedding of a 16-pixel patch cannot compute
	// "where is the red block": that is a product of colour and position).
	// 0 keeps the single linear patch embedding. StemPatch defaults to 4.
	StemChannels, StemPatch int

	// Shared transformer sizes.
	Width, Heads, MLPRatio int
	// Base policy.
	BaseLayers int
	// Multi-View Spatial Fusion.
	FusionLayers int
	RoPEBase     float64 // 10000 in the paper's formula
	RoPEScale    float64 // metres -> RoPE position units (100: centimetres)

	// Object-Centric 3D Instance Module.
	Probes         int        // Q probes
	KeepInstances  int        // confident instance tokens kept (<= 16)
	InstanceLayers int        // decoder layers (each refines r)
	DeformKeys     int        // sampling keys per head and level
	MaskDim        int        // channels of the 1/4-scale mask map
	RefineBound    float64    // lambda, metres per layer
	DepthEps       float64    // z clamp in the projection, metres
	WorkspaceMin   [3]float64 // initial reference points live in this box (base frame)
	WorkspaceMax   [3]float64
	// Anchors > 0 adds that many instructed instance anchors
	// (InstanceAnchors): reference points started from the observed points
	// the instruction picks, supervised by the demonstration's keyframes and
	// read by the action expert. 0 leaves them out. They use the fused
	// memory when Multi-View Spatial Fusion runs, else the base's patches,
	// so any row can have them (a Baseline with anchors reads depth).
	Anchors int

	// Coordinate-Driven 3D Self-Supervised Predictor.
	PredictorLayers     int
	MaskRatio           float64 // asymmetric multi-view masking ratio (0.5)
	FourierBands        int     // Fourier3D bands
	CompletionInstances int     // occluded instances queried (6)
	CompletionPerInst   int     // completion queries per instance (5)
	CompletionOffset    float64 // metres, derived completion pattern radius
	CompletionSource    string  // CompletionDerived or CompletionInput
	EMAMomentum         float64 // teacher momentum

	// Spatially-Conditioned Geometry Aggregation.
	EEBands   int     // L of the EE-relative sinusoid
	RouteK    int     // nearest completion tokens per instance
	RouteBeta float64 // initial distance penalty beta (1/m^2)
	GateBias  float64 // constant bias of the gate's zero-initialised last layer

	// Action expert.
	ExpertLayers int
	ActionHead   string // HeadL1 or HeadFlow
	FlowSteps    int

	// ProprioMean/ProprioStd de-normalize the first three proprio values to
	// the end-effector position in metres (EE-relative encoding needs metres).
	// Empty means proprio[0:3] already is metric.
	ProprioMean, ProprioStd []float32

	Modules policy.Modules
}

// DefaultConfig is sized for training on 2 CPU cores with the pure-Go backend.
func DefaultConfig() Config {
	return Config{
		Cameras: 3, ImageHeight: 96, ImageWidth: 96, PatchSize: 16,
		ProprioDim: 8, InstructionLen: 16, VocabSize: 256,
		Horizon: 8, ActionDim: 7, ControlHz: 10, ActionSpace: contract.ActionEEDelta,
		Width: 64, Heads: 4, MLPRatio: 2,
		BaseLayers: 1, FusionLayers: 2, RoPEBase: 10000, RoPEScale: 100,
		Probes: 20, KeepInstances: 16, InstanceLayers: 2, DeformKeys: 4, MaskDim: 16,
		RefineBound: 0.05, DepthEps: 0.05,
		WorkspaceMin: [3]float64{0.2, -0.4, 0.0}, WorkspaceMax: [3]float64{0.9, 0.4, 0.4},
		PredictorLayers: 2, MaskRatio: 0.5, FourierBands: 6,
		CompletionInstances: 6, CompletionPerInst: 5, CompletionOffset: 0.04,
		CompletionSource: CompletionDerived, EMAMomentum: 0.996,
		EEBands: 6, RouteK: 5, RouteBeta: 10, GateBias: 0,
		ExpertLayers: 2, ActionHead: HeadL1, FlowSteps: 10,
		Modules: policy.Modules{Instance: true, Predictor: true, Routing: true},
	}
}

// Row returns the configuration with the modules of an ablation row:
// "baseline", "A", "B" or "C".
func (c Config) Row(row string) (Config, error) {
	switch row {
	case "baseline", "Baseline":
		c.Modules = policy.Modules{}
	case "A":
		c.Modules = policy.Modules{Instance: true}
	case "B":
		c.Modules = policy.Modules{Instance: true, Predictor: true}
	case "C":
		c.Modules = policy.Modules{Instance: true, Predictor: true, Routing: true}
	default:
		return c, fmt.Errorf("unknown ablation row %q (want baseline, A, B or C)", row)
	}
	return c, nil
}

// GridH and GridW are the patch grid of one view.
func (c Config) GridH() int { return c.ImageHeight / c.PatchSize }

// stemPatch is the stem's sub-patch size (StemPatch, default 4).
func (c Config) stemPatch() int {
	if c.StemPatch == 0 {
		return 4
	}
	return c.StemPatch
}

// GridW is the patch grid width of one view.
func (c Config) GridW() int { return c.ImageWidth / c.PatchSize }

// Patches is N, the patch tokens per view.
func (c Config) Patches() int { return c.GridH() * c.GridW() }

// Tokens is V*N, the multi-view sequence length.
func (c Config) Tokens() int { return c.Cameras * c.Patches() }

// CompletionQueries is the number of completion queries (6 x 5).
func (c Config) CompletionQueries() int { return c.CompletionInstances * c.CompletionPerInst }

// HeadDim is the per-head channel count.
func (c Config) HeadDim() int { return c.Width / c.Heads }

// fusionActive reports whether Multi-View Spatial Fusion runs: it feeds the
// instance module and the predictor and is not part of the baseline.
func (c Config) fusionActive() bool { return c.Modules.Instance || c.Modules.Predictor }

// Validate checks sizes and switch combinations.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Cameras > 0 && c.ProprioDim >= 3 && c.InstructionLen > 0 && c.VocabSize > 1, "bad observation sizes")
	check(c.Horizon > 0 && c.ActionDim > 0, "bad action sizes")
	check(c.PatchSize == 8 || c.PatchSize == 16 || c.PatchSize == 32, "patch size %d: want 8, 16 or 32 (pyramid strides 8/16/32)", c.PatchSize)
	check(c.Anchors >= 0 && c.Anchors <= 8, "anchors %d not in 0..8", c.Anchors)
	check(c.StemChannels >= 0, "stem channels %d must not be negative", c.StemChannels)
	check(c.StemChannels == 0 || (c.stemPatch() > 0 && c.PatchSize%c.stemPatch() == 0), "stem patch %d must divide the patch size %d", c.stemPatch(), c.PatchSize)
	check(c.ImageHeight%32 == 0 && c.ImageWidth%32 == 0, "image %dx%d must be a multiple of 32 (stride-32 level)", c.ImageHeight, c.ImageWidth)
	check(c.Heads > 0 && c.Width%c.Heads == 0 && c.HeadDim()%2 == 0, "width %d must split in %d even heads", c.Width, c.Heads)
	check(c.HeadDim() >= 6, "head dim %d too small for 3D RoPE (>= 6)", c.HeadDim())
	check(c.ActionHead == HeadL1 || c.ActionHead == HeadFlow, "action head %q: want l1 or flow", c.ActionHead)
	check(c.ActionHead != HeadFlow || c.FlowSteps > 0, "flow head needs FlowSteps > 0")
	check(c.KeepInstances > 0 && c.KeepInstances <= 16 && c.KeepInstances <= c.Probes, "keep %d instances: want 1..min(16, probes)", c.KeepInstances)
	check(c.CompletionInstances <= c.KeepInstances && c.CompletionInstances <= 6 && c.CompletionPerInst <= 5, "completion queries at most 6 x 5 and <= kept instances")
	check(c.MaskRatio > 0 && c.MaskRatio < 1, "mask ratio %v not in (0,1)", c.MaskRatio)
	check(c.RouteK > 0 && c.RouteK <= c.CompletionQueries(), "route k %d not in 1..%d", c.RouteK, c.CompletionQueries())
	check(c.Probes > 0 && c.DeformKeys > 0 && c.MaskDim > 0 && c.FourierBands > 0 && c.EEBands > 0, "probes, deform keys, mask dim and bands must be positive")
	check(c.BaseLayers >= 0 && c.FusionLayers >= 0 && c.InstanceLayers >= 0 && c.PredictorLayers >= 0 && c.ExpertLayers > 0, "layer counts")
	check(c.RouteBeta > 0 && c.RefineBound > 0 && c.DepthEps > 0, "route beta, refine bound and depth eps must be positive")
	check(c.CompletionSource == CompletionDerived || c.CompletionSource == CompletionInput, "completion source %q", c.CompletionSource)
	check(!c.Modules.Predictor || c.Modules.Instance, "predictor (row B) needs the instance module (row A)")
	check(!c.Modules.Routing || c.Modules.Predictor, "routing (row C) needs the predictor (row B)")
	check(len(c.ProprioMean) == len(c.ProprioStd) && (len(c.ProprioMean) == 0 || len(c.ProprioMean) >= 3), "proprio mean/std lengths")
	return errors.Join(errs...)
}

// Spec is the model sidecar for this configuration (normalization statistics
// and vocabulary are filled in by the trainer).
func (c Config) Spec() policy.Spec {
	return policy.Spec{
		Cameras: c.Cameras, ImageWidth: c.ImageWidth, ImageHeight: c.ImageHeight, PatchSize: c.PatchSize,
		ActionDim: c.ActionDim, Horizon: c.Horizon, ProprioDim: c.ProprioDim, InstructionLen: c.InstructionLen,
		ControlHz: c.ControlHz, ActionSpace: c.ActionSpace, Modules: c.Modules,
		ProprioMean: c.ProprioMean, ProprioStd: c.ProprioStd,
	}
}

// CPUBackend is the GoMLX backend configuration to use on CPU: the pure-Go
// backend with an unbounded worker pool. SimpleGo v0.26.0's default pool is
// bounded (2 x NumCPU slots) and its parallel op scheduler deadlocks when
// every slot is held by a DotGeneral waiting for a sub-worker slot of the
// same pool (scheduler_note.md: cause, reproduction, file:line);
// parallelism=-1 never blocks on the pool, so ops and matmul workers run
// concurrently without starving. Measured here (vla3d-train bench, one
// run): 1.35x (Baseline) to 1.8x (C, stage 2) the steps/s of
// ops_sequential.
const CPUBackend = "go:parallelism=-1"
