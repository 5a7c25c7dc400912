package encoder

import (
	"math"
	"strings"
	"testing"

	ortapi "github.com/yalue/onnxruntime_go"
)

func info(name string, dims ...int64) ortapi.InputOutputInfo {
	return ortapi.InputOutputInfo{Name: name, OrtValueType: ortapi.ONNXTypeTensor, Dimensions: dims, DataType: ortapi.TensorElementDataTypeFloat}
}

// TestResolve: the contract's shapes, dynamic axes filled from Options,
// and every violation named.
func TestResolve(t *testing.T) {
	img := []ortapi.InputOutputInfo{info("image", 1, 3, 32, 48)}
	dyn := []ortapi.InputOutputInfo{info("image", -1, 3, -1, -1)}
	for _, tc := range []struct {
		name    string
		ins     []ortapi.InputOutputInfo
		outs    []ortapi.InputOutputInfo
		opts    Options
		want    signature
		wantErr string
	}{
		{"tokens", img, []ortapi.InputOutputInfo{info("features", 1, 6, 10)}, Options{Patches: 6}, signature{H: 32, W: 48, N: 6, Dv: 10}, ""},
		{"feature_map", img, []ortapi.InputOutputInfo{info("aux", 1), info("features", 1, 10, 2, 3)}, Options{}, signature{H: 32, W: 48, N: 6, Dv: 10, featureMap: true, mapH: 2, mapW: 3}, ""},
		{"dynamic_filled", dyn, []ortapi.InputOutputInfo{info("features", -1, -1, 7)}, Options{ImageHeight: 16, ImageWidth: 16, Patches: 4}, signature{H: 16, W: 16, N: 4, Dv: 7}, ""},
		{"dynamic_unfilled", dyn, []ortapi.InputOutputInfo{info("features", 1, 4, 7)}, Options{}, signature{}, "image height is dynamic"},
		{"dynamic_map", img, []ortapi.InputOutputInfo{info("features", 1, 10, -1, -1)}, Options{}, signature{}, "dynamic grid"},
		{"patches", img, []ortapi.InputOutputInfo{info("features", 1, 6, 10)}, Options{Patches: 9}, signature{}, "emits 6 patch tokens per view but the policy has 9"},
		{"two_inputs", append(img, info("mask", 1)), []ortapi.InputOutputInfo{info("features", 1, 6, 10)}, Options{}, signature{}, "exactly one input"},
		{"channels", []ortapi.InputOutputInfo{info("image", 1, 1, 32, 32)}, []ortapi.InputOutputInfo{info("features", 1, 6, 10)}, Options{}, signature{}, "want [1,3,H,W]"},
		{"batch", []ortapi.InputOutputInfo{info("image", 2, 3, 32, 32)}, []ortapi.InputOutputInfo{info("features", 1, 6, 10)}, Options{}, signature{}, "want [1,3,H,W]"},
		{"rank", img, []ortapi.InputOutputInfo{info("features", 60)}, Options{}, signature{}, "want [1,N,Dv]"},
		{"int_image", []ortapi.InputOutputInfo{{Name: "image", Dimensions: []int64{1, 3, 8, 8}, DataType: ortapi.TensorElementDataTypeUint8}}, nil, Options{}, signature{}, "want float32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolve(tc.ins, tc.outs, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestTokensTranspose: a [Dv,h,w] map becomes row-major tokens [h*w,Dv].
func TestTokensTranspose(t *testing.T) {
	s := signature{N: 6, Dv: 2, featureMap: true, mapH: 2, mapW: 3}
	// channel c, cell (y,x) holds 100c + 10y + x
	var out []float32
	for c := range 2 {
		for y := range 2 {
			for x := range 3 {
				out = append(out, float32(100*c+10*y+x))
			}
		}
	}
	dst := make([]float32, 12)
	tokens(dst, out, s)
	for tk := range 6 {
		y, x := tk/3, tk%3
		for c := range 2 {
			if want := float32(100*c + 10*y + x); dst[tk*2+c] != want {
				t.Fatalf("token %d channel %d: %g, want %g", tk, c, dst[tk*2+c], want)
			}
		}
	}
}

// TestFillImage: ImageNet normalisation per channel against float64;
// no normalisation copies.
func TestFillImage(t *testing.T) {
	src := []float32{0, 0.5, 1, 0.25, 0.75, 0.1}
	dst := make([]float32, 6)
	fillImage(dst, src, NormalizeNone)
	for i := range src {
		if dst[i] != src[i] {
			t.Fatalf("copy: %v", dst)
		}
	}
	fillImage(dst, src, NormalizeImageNet)
	mean := []float64{0.485, 0.456, 0.406}
	std := []float64{0.229, 0.224, 0.225}
	for i, x := range src {
		c := i / 2
		want := (float64(x) - mean[c]) / std[c]
		if math.Abs(float64(dst[i])-want) > 1e-6 {
			t.Fatalf("value %d: %g, want %g", i, dst[i], want)
		}
	}
}
