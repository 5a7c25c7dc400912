package onnx_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
	"github.com/vla3d/vla3d/policy/onnx"
)

// TestPolicyInputsWithFeatures: a model on frozen-encoder features takes
// patch_features [V,N,Dv] in the images' place; the rest is unchanged.
func TestPolicyInputsWithFeatures(t *testing.T) {
	c, err := onnx.TinyConfig("C")
	if err != nil {
		t.Fatal(err)
	}
	plain := onnx.PolicyInputs(c)
	c.VisualFeatureDim = 12
	feat := onnx.PolicyInputs(c)
	if feat[0].Name != policy.TensorPatchFeatures || !slices.Equal(feat[0].Dims, []int{c.Cameras, c.Patches(), 12}) {
		t.Fatalf("first input %+v", feat[0])
	}
	if plain[0].Name != policy.TensorImages || len(plain) != len(feat) {
		t.Fatalf("plain inputs %+v", plain)
	}
	for i := 1; i < len(feat); i++ {
		if feat[i].Name != plain[i].Name || !slices.Equal(feat[i].Dims, plain[i].Dims) {
			t.Fatalf("input %d differs: %+v vs %+v", i, feat[i], plain[i])
		}
	}
}

// TestExportPolicyEncoderSpec: the sidecar names an encoder exactly when
// the model reads features, with the model's width.
func TestExportPolicyEncoderSpec(t *testing.T) {
	c, err := onnx.TinyConfig("baseline")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	for _, tc := range []struct {
		name string
		dim  int
		enc  *policy.EncoderSpec
		want string
	}{
		{"features_without_encoder", 8, nil, "names no encoder"},
		{"encoder_for_images", 0, &policy.EncoderSpec{Path: "e.onnx", FeatureDim: 8}, "model reads images"},
		{"width", 8, &policy.EncoderSpec{Path: "e.onnx", FeatureDim: 4}, "feature_dim is 4 but the model's is 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := c
			cfg.VisualFeatureDim = tc.dim
			m, err := model.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			spec := onnx.TinySpec(cfg)
			spec.Encoder = tc.enc
			err = onnx.ExportPolicy(context.New(), m, spec, path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
