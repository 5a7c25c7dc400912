package onnx

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
)

// TinyVocabulary is the instruction vocabulary of the tiny test model: the
// words of the simulated tabletop tasks (id = index+1, 0 = padding/unknown).
var tinyVocabulary = []string{
	"pick", "up", "the", "put", "place", "push", "lift", "move", "stack", "open", "close",
	"red", "green", "blue", "yellow", "cube", "block", "bowl", "plate", "drawer", "on", "in", "into", "to",
	"left", "right", "of", "and", "top",
}

// TinyVocabulary returns a copy of the tiny model's vocabulary.
func TinyVocabulary() []string { return append([]string(nil), tinyVocabulary...) }

// TinyConfig is the checked-in test model: the default observation layout
// (3 cameras, 96x96, patch 16, 8-step chunks of 7-D end-effector actions,
// 8-D proprio, 16 instruction tokens) so node, evaluator and simulator tests
// can feed it real observations, with every 3D module on (row C unless
// another row is asked) but narrow and shallow so the file stays well under
// 2 MB and a CPU forward takes milliseconds.
func TinyConfig(row string) (model.Config, error) {
	c := model.DefaultConfig()
	c.Width, c.Heads, c.MLPRatio = 24, 2, 2
	c.BaseLayers, c.FusionLayers, c.InstanceLayers, c.PredictorLayers, c.ExpertLayers = 1, 1, 1, 1, 1
	c.Probes, c.KeepInstances, c.DeformKeys, c.MaskDim = 8, 6, 2, 8
	c.CompletionInstances, c.CompletionPerInst, c.RouteK = 2, 3, 3
	c.VocabSize = len(tinyVocabulary) + 1
	return c.Row(row)
}

// TinySpec is the sidecar of the tiny model: normalization statistics are
// chosen so the untrained model commands small, safe motions (millimetres
// and milliradians per step) with the gripper around half-closed.
func TinySpec(c model.Config) policy.Spec {
	s := c.Spec()
	s.Vocabulary = TinyVocabulary()
	s.ActionMean = []float32{0, 0, 0, 0, 0, 0, 0.5}
	s.ActionStd = []float32{0.002, 0.002, 0.002, 0.005, 0.005, 0.005, 0.5}
	if s.ActionDim != len(s.ActionMean) {
		s.ActionMean, s.ActionStd = nil, nil
	}
	return s
}

// ExportTiny writes an untrained tiny model (variables from their
// initializers, seeded) to dir/model.onnx and dir/model.json.
func ExportTiny(dir, row string, seed int64) error {
	c, err := TinyConfig(row)
	if err != nil {
		return err
	}
	m, err := model.New(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("onnx export: %w", err)
	}
	ctx := context.New()
	ctx.SetParam(initializers.ParamInitialSeed, seed)
	return ExportPolicy(ctx, m, TinySpec(c), filepath.Join(dir, "model.onnx"))
}
