package ort

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/vla3d/vla3d/policy"
)

func validSpec() policy.Spec {
	return policy.Spec{Cameras: 3, ImageWidth: 96, ImageHeight: 96, PatchSize: 16, ActionDim: 7, Horizon: 8,
		ProprioDim: 8, InstructionLen: 16, ControlHz: 10, ActionSpace: "ee_delta", Vocabulary: []string{"pick"}}
}

func TestCheckSpec(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*policy.Spec)
		errHas []string
	}{
		{"match", func(*policy.Spec) {}, nil},
		{"zero fields unchecked", func(s *policy.Spec) { *s = policy.Spec{Cameras: 3} }, nil},
		{"cameras", func(s *policy.Spec) { s.Cameras = 2 }, []string{"cameras: model has 3, configuration has 2"}},
		{"image size", func(s *policy.Spec) { s.ImageWidth, s.ImageHeight = 128, 64 },
			[]string{"image_width: model has 96, configuration has 128", "image_height: model has 96, configuration has 64"}},
		{"action space", func(s *policy.Spec) { s.ActionSpace = "joint" }, []string{`action_space: model has "ee_delta", configuration has "joint"`}},
		{"horizon", func(s *policy.Spec) { s.Horizon = 16 }, []string{"horizon"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := validSpec()
			c.edit(&want)
			err := CheckSpec(validSpec(), want)
			if len(c.errHas) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("mismatch accepted")
			}
			for _, f := range c.errHas {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("%q does not contain %q", err, f)
				}
			}
		})
	}
}

func TestValidateSpec(t *testing.T) {
	cases := []struct {
		name string
		edit func(*policy.Spec)
		ok   bool
	}{
		{"valid", func(*policy.Spec) {}, true},
		{"no cameras", func(s *policy.Spec) { s.Cameras = 0 }, false},
		{"partial patches", func(s *policy.Spec) { s.ImageWidth = 100 }, false},
		{"short stats", func(s *policy.Spec) { s.ActionMean = []float32{1} }, false},
		{"full stats", func(s *policy.Spec) { s.ActionMean, s.ActionStd = make([]float32, 7), ones(7) }, true},
		{"zero std", func(s *policy.Spec) { s.ActionMean, s.ActionStd = make([]float32, 7), make([]float32, 7) }, false},
		{"negative std", func(s *policy.Spec) { s.ActionStd = ones(7); s.ActionStd[2] = -1 }, false},
		{"huge std", func(s *policy.Spec) { s.ActionStd = ones(7); s.ActionStd[0] = 1e9 }, false},
		{"NaN mean", func(s *policy.Spec) { s.ActionMean = ones(7); s.ActionMean[6] = float32(math.NaN()) }, false},
		{"unknown action space", func(s *policy.Spec) { s.ActionSpace = "torque" }, false},
		{"empty vocabulary", func(s *policy.Spec) { s.Vocabulary = nil }, false},
		{"unknown output", func(s *policy.Spec) { s.Outputs = []string{"secrets"} }, false},
		{"perception outputs", func(s *policy.Spec) { s.Outputs = []string{policy.TensorInstancePoints, policy.TensorInstanceScores} }, true},
		{"negative hz", func(s *policy.Spec) { s.ControlHz = -1 }, false},
		{"encoder", func(s *policy.Spec) { s.Encoder = &policy.EncoderSpec{Path: "e.onnx", FeatureDim: 8} }, true},
		{"encoder without width", func(s *policy.Spec) { s.Encoder = &policy.EncoderSpec{Path: "e.onnx"} }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := validSpec()
			c.edit(&s)
			if err := ValidateSpec(s); (err == nil) != c.ok {
				t.Fatalf("ok=%v, err=%v", c.ok, err)
			}
		})
	}
}

func TestDenormalize(t *testing.T) {
	cases := []struct {
		name          string
		in, mean, std []float32
		dim           int
		want          []float32
	}{
		{"identity", []float32{1, 2, 3, 4}, nil, nil, 2, []float32{1, 2, 3, 4}},
		{"affine", []float32{1, 2, 3, 4}, []float32{10, 20}, []float32{2, 0.5}, 2, []float32{12, 21, 16, 22}},
		{"mean only", []float32{0, 0}, []float32{1, -1}, nil, 2, []float32{1, -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := append([]float32(nil), c.in...)
			Denormalize(v, c.dim, c.mean, c.std)
			for i := range v {
				if v[i] != c.want[i] {
					t.Fatalf("got %v, want %v", v, c.want)
				}
			}
		})
	}
}

func TestSidecarPath(t *testing.T) {
	if got := SidecarPath("/a/b/model.onnx"); got != "/a/b/model.json" {
		t.Fatal(got)
	}
}

// FuzzParseSpec: sidecars come from disk; decoding must never panic and
// anything accepted must be valid and round-trip.
func FuzzParseSpec(f *testing.F) {
	b, _ := json.Marshal(validSpec())
	f.Add(b)
	f.Add([]byte(`{"cameras":-1}`))
	f.Add([]byte(`{"cameras":3,"image_width":96,"image_height":96,"patch_size":0}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpec(data)
		if err != nil {
			return
		}
		if err := ValidateSpec(s); err != nil {
			t.Fatalf("accepted an invalid spec: %v", err)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSpec(b); err != nil {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}
