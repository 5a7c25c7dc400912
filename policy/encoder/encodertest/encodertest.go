// Package encodertest builds small frozen image encoders as GoMLX graphs and
// exports them with the project's ONNX exporter, so tests of the encoder,
// the runtime and the trainer can exercise a real ONNX encoder file without
// downloadable weights. The encoder is a fixed random patch projection with
// a tanh: the shape of a ViT's patch embedding, frozen.
package encodertest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph code reads best dot-imported.
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy/onnx"
)

// Config sizes the encoder.
type Config struct {
	Height, Width, Patch int // input image size and patch size
	FeatureDim           int // Dv
	// FeatureMap emits [B,Dv,h,w] instead of tokens [B,N,Dv].
	FeatureMap bool
	// FixedBatch exports a static batch of 1 instead of a dynamic batch axis.
	FixedBatch bool
	Seed       uint64
	// InputName / OutputName override the contract's names (for tests of
	// contract violations); empty means "image" / "features".
	InputName, OutputName string
}

func (c Config) gridH() int   { return c.Height / c.Patch }
func (c Config) gridW() int   { return c.Width / c.Patch }
func (c Config) patchIn() int { return 3 * c.Patch * c.Patch }

// Patches is N = (H/p)*(W/p).
func (c Config) Patches() int { return c.gridH() * c.gridW() }

// weights are the fixed projection [3pp, Dv] and bias [Dv], from Seed.
func (c Config) weights() (w, b []float32) {
	r := rand.New(rand.NewPCG(c.Seed, 0xe1c))
	k := c.patchIn()
	scale := 1 / math.Sqrt(float64(k))
	w = make([]float32, k*c.FeatureDim)
	for i := range w {
		w[i] = float32(r.NormFloat64() * scale)
	}
	b = make([]float32, c.FeatureDim)
	for i := range b {
		b[i] = float32(0.1 * r.NormFloat64())
	}
	return w, b
}

// Build is the encoder graph: image [B,3,H,W] -> features.
func (c Config) Build(image *Node) *Node {
	g := image.Graph()
	b, p, gh, gw, dv := image.Shape().Dimensions[0], c.Patch, c.gridH(), c.gridW(), c.FeatureDim
	x := Reshape(image, b, 3, gh, p, gw, p)
	x = TransposeAllAxes(x, 0, 2, 4, 1, 3, 5) // [B,gh,gw,3,p,p]
	x = Reshape(x, b*gh*gw, c.patchIn())
	w, bias := c.weights()
	y := Einsum("ni,io->no", x, Reshape(Const(g, w), c.patchIn(), dv))
	y = Tanh(Add(y, Reshape(Const(g, bias), 1, dv)))
	if c.FeatureMap {
		return TransposeAllAxes(Reshape(y, b, gh, gw, dv), 0, 3, 1, 2)
	}
	return Reshape(y, b, gh*gw, dv)
}

// Export writes the encoder to path as ONNX.
func (c Config) Export(path string) error {
	if c.Patch <= 0 || c.Height%c.Patch != 0 || c.Width%c.Patch != 0 || c.FeatureDim <= 0 {
		return fmt.Errorf("encodertest: invalid config %+v", c)
	}
	in, out := c.InputName, c.OutputName
	if in == "" {
		in = "image"
	}
	if out == "" {
		out = "features"
	}
	opts := onnx.Options{GraphName: "vla3d_test_encoder"}
	if c.FixedBatch {
		opts.FixedBatch = 1
	}
	inputs := []onnx.Input{{Name: in, DType: dtypes.Float32, Dims: []int{3, c.Height, c.Width}}}
	build := func(_ *context.Context, x []*Node) []*Node { return []*Node{c.Build(x[0])} }
	return onnx.WriteFile(path, context.New(), inputs, []string{out}, build, opts)
}

// Reference computes the encoder in float64 for one view [3,H,W] (already
// normalised as the model expects), as patch tokens [N,Dv] (row-major grid),
// whatever the output layout.
func (c Config) Reference(image []float32) []float64 {
	w, bias := c.weights()
	p, gw, dv := c.Patch, c.gridW(), c.FeatureDim
	out := make([]float64, c.Patches()*dv)
	for t := range c.Patches() {
		py, px := t/gw, t%gw
		for o := range dv {
			s := float64(bias[o])
			for ch := range 3 {
				for dy := range p {
					for dx := range p {
						i := (ch*p+dy)*p + dx
						pix := image[(ch*c.Height+py*p+dy)*c.Width+px*p+dx]
						s += float64(pix) * float64(w[i*dv+o])
					}
				}
			}
			out[t*dv+o] = math.Tanh(s)
		}
	}
	return out
}
