// Package policy holds the 3DVLA model (GoMLX graphs of every module of the
// paper on top of a base vision-language-action policy), its ONNX export, and
// the runtime Policy interface that the node, the evaluator and the simulator
// call.
package policy

import (
	"context"
	"github.com/vla3d/vla3d/contract"
	"time"

	"github.com/vla3d/vla3d/msgs"
)

// Policy maps one preprocessed observation to an action chunk.
// Implementations must not retain in or out after returning and must be safe
// to call from one goroutine at a time.
type Policy interface {
	// Spec describes the tensors the policy expects and the actions it produces.
	Spec() Spec
	// Predict fills out (whose Values has room for Horizon*ActionDim) from in.
	Predict(ctx context.Context, in *Input, out *msgs.ActionChunk) error
	// Close releases the policy's resources.
	Close() error
}

// Modules are the paper's ablation switches: Baseline has none; row A adds the
// instance module; B adds the predictor; C adds the routing (aggregation).
type Modules struct {
	Instance  bool `json:"instance"`
	Predictor bool `json:"predictor"`
	Routing   bool `json:"routing"`
}

// Spec is the self-description of a model; it is also the JSON sidecar written
// next to an exported model.onnx, so the node can check its configuration
// against the model before running it.
type Spec struct {
	Cameras        int                  `json:"cameras"`
	ImageWidth     int                  `json:"image_width"`
	ImageHeight    int                  `json:"image_height"`
	PatchSize      int                  `json:"patch_size"`
	ActionDim      int                  `json:"action_dim"`
	Horizon        int                  `json:"horizon"`
	ProprioDim     int                  `json:"proprio_dim"`
	InstructionLen int                  `json:"instruction_len"`
	ControlHz      float64              `json:"control_hz"`
	ActionSpace    contract.ActionSpace `json:"action_space"` // "ee_delta" (default) or "joint"
	Modules        Modules              `json:"modules"`
	// Vocabulary maps instruction words to token ids (id = index+1; 0 is padding/unknown).
	Vocabulary []string `json:"vocabulary,omitempty"`
	// Normalization statistics: the model works on normalized values.
	ActionMean  []float32 `json:"action_mean,omitempty"`
	ActionStd   []float32 `json:"action_std,omitempty"`
	ProprioMean []float32 `json:"proprio_mean,omitempty"`
	ProprioStd  []float32 `json:"proprio_std,omitempty"`
	Opset       int       `json:"opset,omitempty"`
	// Encoder, when set, names the frozen ONNX image encoder whose patch
	// features the model reads (input "patch_features") instead of images.
	Encoder *EncoderSpec `json:"encoder,omitempty"`
	// Outputs lists the extra output tensors the exported model has besides
	// the actions (TensorInstancePoints, ...: see Perception).
	Outputs []string `json:"outputs,omitempty"`
}

// EncoderSpec describes a frozen ONNX visual encoder run before the policy.
type EncoderSpec struct {
	Path       string `json:"path"`                // encoder .onnx (relative paths: from the model's directory)
	FeatureDim int    `json:"feature_dim"`         // Dv, channels per patch token
	Normalize  string `json:"normalize,omitempty"` // "" (images in [0,1]) or "imagenet"
}

// PatchesPerView is the number of patch tokens per camera.
func (s Spec) PatchesPerView() int {
	return (s.ImageWidth / s.PatchSize) * (s.ImageHeight / s.PatchSize)
}

// Input is one preprocessed observation, as flat float32 buffers so they can
// be reused across frames and bound directly to ONNX Runtime tensors.
// V = Cameras, N = PatchesPerView, H/W = image size.
type Input struct {
	Images      []float32 // [V,3,H,W] RGB in [0,1]
	Points      []float32 // [V,N,3] patch centres in the base frame (metres)
	PointValid  []float32 // [V,N] 1 where the patch had valid depth, else 0
	Intrinsics  []float32 // [V,4] fx, fy, cx, cy at model image size
	CamFromBase []float32 // [V,12] row-major 3x4 [R|t] mapping base -> optical frame
	Proprio     []float32 // [ProprioDim] normalized end-effector pose + gripper
	Instruction []int64   // [InstructionLen] token ids, 0 = padding
	// Stamp is the stamp of the observation the tensors were made from:
	// metadata for logs and consistency checks, not a model input.
	Stamp time.Time
}

// NewInput allocates an Input sized for spec.
func NewInput(s Spec) *Input {
	v, n := s.Cameras, s.PatchesPerView()
	return &Input{
		Images:      make([]float32, v*3*s.ImageHeight*s.ImageWidth),
		Points:      make([]float32, v*n*3),
		PointValid:  make([]float32, v*n),
		Intrinsics:  make([]float32, v*4),
		CamFromBase: make([]float32, v*12),
		Proprio:     make([]float32, s.ProprioDim),
		Instruction: make([]int64, s.InstructionLen),
	}
}
