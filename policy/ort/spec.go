package ort

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/policy"
)

// SidecarPath is the JSON sidecar next to a model: model.onnx -> model.json.
func SidecarPath(modelPath string) string {
	return strings.TrimSuffix(modelPath, ".onnx") + ".json"
}

// ParseSpec decodes and validates a sidecar.
func ParseSpec(b []byte) (policy.Spec, error) {
	var s policy.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return policy.Spec{}, fmt.Errorf("ort: sidecar: %w", err)
	}
	if err := ValidateSpec(s); err != nil {
		return policy.Spec{}, err
	}
	return s, nil
}

// LoadSpec reads the sidecar of modelPath.
func LoadSpec(modelPath string) (policy.Spec, error) {
	p := SidecarPath(modelPath)
	b, err := os.ReadFile(p)
	if err != nil {
		return policy.Spec{}, fmt.Errorf("ort: reading sidecar: %w", err)
	}
	s, err := ParseSpec(b)
	if err != nil {
		return policy.Spec{}, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
}

// WriteSpec writes s as the sidecar of modelPath.
func WriteSpec(modelPath string, s policy.Spec) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("ort: encoding sidecar: %w", err)
	}
	if err := os.WriteFile(SidecarPath(modelPath), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("ort: writing sidecar: %w", err)
	}
	return nil
}

// maxStatistic bounds a normalization statistic's magnitude (SI units: no
// action or proprio component is anywhere near 1e4).
const maxStatistic = 1e4

// ValidateSpec checks a sidecar is self-consistent (sizes positive, image a
// whole number of patches, statistics the right length).
func ValidateSpec(s policy.Spec) error {
	var errs []error
	pos := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	pos("cameras", s.Cameras)
	pos("image_width", s.ImageWidth)
	pos("image_height", s.ImageHeight)
	pos("patch_size", s.PatchSize)
	pos("action_dim", s.ActionDim)
	pos("horizon", s.Horizon)
	pos("instruction_len", s.InstructionLen)
	if s.ProprioDim < 0 {
		errs = append(errs, fmt.Errorf("proprio_dim must not be negative, got %d", s.ProprioDim))
	}
	if s.PatchSize > 0 && (s.ImageWidth%s.PatchSize != 0 || s.ImageHeight%s.PatchSize != 0) {
		errs = append(errs, fmt.Errorf("image %dx%d is not a whole number of %d-pixel patches", s.ImageWidth, s.ImageHeight, s.PatchSize))
	}
	stat := func(name string, v []float32, n int) {
		if len(v) != 0 && len(v) != n {
			errs = append(errs, fmt.Errorf("%s has %d values, want %d", name, len(v), n))
		}
	}
	stat("action_mean", s.ActionMean, s.ActionDim)
	stat("action_std", s.ActionStd, s.ActionDim)
	stat("proprio_mean", s.ProprioMean, s.ProprioDim)
	stat("proprio_std", s.ProprioStd, s.ProprioDim)
	// Statistics scale what the model outputs into commands: a zero,
	// negative, huge or non-finite one would turn a normalized action into
	// an absurd command (or none).
	for _, st := range []struct {
		name string
		v    []float32
		std  bool
	}{{"action_mean", s.ActionMean, false}, {"action_std", s.ActionStd, true}, {"proprio_mean", s.ProprioMean, false}, {"proprio_std", s.ProprioStd, true}} {
		for i, x := range st.v {
			f := float64(x)
			switch {
			case math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxStatistic:
				errs = append(errs, fmt.Errorf("%s[%d] is %v: statistics must be finite and below %g", st.name, i, x, float64(maxStatistic)))
			case st.std && !(f > 0):
				errs = append(errs, fmt.Errorf("%s[%d] is %v: a standard deviation must be positive", st.name, i, x))
			}
		}
	}
	if _, err := contract.ParseActionSpace(string(s.ActionSpace)); err != nil {
		errs = append(errs, err)
	}
	if s.InstructionLen > 0 && len(s.Vocabulary) == 0 {
		errs = append(errs, errors.New("vocabulary is empty: every instruction would read as padding"))
	}
	for _, o := range s.Outputs {
		switch o {
		case policy.TensorInstancePoints, policy.TensorInstanceScores, policy.TensorCompletionPoints, policy.TensorAnchorPoints:
		default:
			errs = append(errs, fmt.Errorf("outputs: unknown tensor %q", o))
		}
	}
	if s.Encoder != nil && s.Encoder.FeatureDim <= 0 {
		errs = append(errs, fmt.Errorf("encoder feature_dim must be positive, got %d", s.Encoder.FeatureDim))
	}
	if s.ControlHz < 0 {
		errs = append(errs, fmt.Errorf("control_hz must not be negative, got %g", s.ControlHz))
	}
	if len(errs) > 0 {
		return fmt.Errorf("ort: invalid sidecar: %w", errors.Join(errs...))
	}
	return nil
}

// CheckSpec refuses a model whose sidecar does not match what the caller
// (the node's configuration) expects, naming every mismatching field. Fields
// left zero in expected are not checked.
func CheckSpec(model, expected policy.Spec) error {
	var diffs []string
	cmp := func(name string, got, want int) {
		if want != 0 && got != want {
			diffs = append(diffs, fmt.Sprintf("%s: model has %d, configuration has %d", name, got, want))
		}
	}
	cmp("cameras", model.Cameras, expected.Cameras)
	cmp("image_width", model.ImageWidth, expected.ImageWidth)
	cmp("image_height", model.ImageHeight, expected.ImageHeight)
	cmp("patch_size", model.PatchSize, expected.PatchSize)
	cmp("action_dim", model.ActionDim, expected.ActionDim)
	cmp("horizon", model.Horizon, expected.Horizon)
	cmp("proprio_dim", model.ProprioDim, expected.ProprioDim)
	cmp("instruction_len", model.InstructionLen, expected.InstructionLen)
	if expected.ActionSpace != "" && model.ActionSpace != expected.ActionSpace {
		diffs = append(diffs, fmt.Sprintf("action_space: model has %q, configuration has %q", model.ActionSpace, expected.ActionSpace))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("ort: model does not match the configuration: %s", strings.Join(diffs, "; "))
	}
	return nil
}
