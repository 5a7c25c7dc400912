package model

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func TestRoPE3DAngles(t *testing.T) {
	cases := []struct {
		name    string
		headDim int
		pos     [3]float64
	}{
		{"dh12", 12, [3]float64{0.1, -0.2, 0.3}},
		{"dh16 remainder unrotated", 16, [3]float64{1, 2, 3}},
		{"dh24", 24, [3]float64{-0.5, 0.25, 0.05}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := RoPE3D{HeadDim: c.headDim, Base: 10000, Scale: 100}
			g := NewGraph(testBackend(t), "angles")
			out := r.Angles(Const(g, [][]float32{{float32(c.pos[0]), float32(c.pos[1]), float32(c.pos[2])}}))
			g.Compile(out)
			got := tensors.MustCopyFlatData[float32](g.Run()[0])
			da := 2 * (c.headDim / 6)
			want := make([]float64, c.headDim/2)
			for a := range 3 {
				for i := range da / 2 {
					want[a*da/2+i] = 100 * c.pos[a] / math.Pow(10000, float64(2*i)/float64(da))
				}
			}
			for p := range want {
				if math.Abs(float64(got[p])-want[p]) > 1e-4*math.Max(1, math.Abs(want[p])) {
					t.Errorf("pair %d: angle %v, want %v", p, got[p], want[p])
				}
			}
		})
	}
}

// TestRoPEAttentionTranslationInvariant checks the law that makes 3D RoPE
// relative: shifting every 3D coordinate by the same vector leaves the
// attention output unchanged (F' = F + MLP(P) is absolute by design, so the
// law is checked on the RoPE attention the fusion encoder uses).
func TestRoPEAttentionTranslationInvariant(t *testing.T) {
	const tokens, width, heads = 20, 48, 4
	rope := RoPE3D{HeadDim: width / heads, Base: 10000, Scale: 100}
	x := make([][][]float32, 1)
	x[0] = make([][]float32, tokens)
	p := make([][][]float32, 1)
	p[0] = make([][]float32, tokens)
	for i := range tokens {
		x[0][i] = make([]float32, width)
		for j := range width {
			x[0][i][j] = float32(math.Sin(float64(i*width+j) * 0.37))
		}
		p[0][i] = []float32{float32(0.3 + 0.02*float64(i%5)), float32(-0.1 + 0.03*float64(i%7)), float32(0.05 * float64(i%3))}
	}
	for _, shift := range [][]float32{{0.5, 0, 0}, {-0.3, 0.7, 0.2}, {0.01, 0.02, -0.4}} {
		exec, err := context.NewExec(testBackend(t), newTestContext(), func(ctx *context.Context, x, p, s *Node) []*Node {
			ctx = ctx.Checked(false)
			a1 := rope.Angles(p)
			a2 := rope.Angles(Add(p, InsertAxes(s, 0, 0)))
			o1 := attention(ctx, x, x, attnArgs{Heads: heads, Rope: &rope, QAngles: a1, KAngles: a1})
			o2 := attention(ctx, x, x, attnArgs{Heads: heads, Rope: &rope, QAngles: a2, KAngles: a2})
			// Control: shifting only the keys must change the output, or the
			// test could not detect a RoPE that ignores positions.
			o3 := attention(ctx, x, x, attnArgs{Heads: heads, Rope: &rope, QAngles: a1, KAngles: a2})
			return []*Node{ReduceAllMax(Abs(Sub(o1, o2))), ReduceAllMax(Abs(o1)), ReduceAllMax(Abs(Sub(o1, o3)))}
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(x, p, shift)
		if err != nil {
			t.Fatal(err)
		}
		diff, scale, control := out[0].Value().(float32), out[1].Value().(float32), out[2].Value().(float32)
		if diff > 2e-4*max(scale, 1) {
			t.Errorf("shift %v: max |attn(P) - attn(P+s)| = %g (output scale %g)", shift, diff, scale)
		}
		if control < 100*diff || control < 1e-3 {
			t.Errorf("shift %v: shifting keys only changed the output by %g: RoPE has no effect", shift, control)
		}
	}
}
