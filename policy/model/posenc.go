package model

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
)

// Fourier is the sinusoidal encoding used by Fourier3D (predictor), the
// end-effector-relative encoding (aggregation) and the flow-time embedding:
//
//	gamma(x) = [sin(2^k pi x_c), cos(2^k pi x_c)]  for k < bands, c < C
//
// laid out as all sines (index k*C + c) followed by all cosines, so x
// [..., C] becomes [..., 2*C*bands]. The frequency scaling is one constant
// matmul, keeping the graph to DotGeneral + Sin + Cos.
func Fourier(x *Node, bands int) *Node {
	c := x.Shape().Dimensions[x.Rank()-1]
	freq := make([][]float32, c)
	for i := range freq {
		freq[i] = make([]float32, c*bands)
		for k := range bands {
			freq[i][k*c+i] = float32(math.Ldexp(math.Pi, k))
		}
	}
	arg := linear(x, Const(x.Graph(), freq))
	return Concatenate([]*Node{Sin(arg), Cos(arg)}, -1)
}

// FourierDim is the output width of Fourier for C channels.
func FourierDim(channels, bands int) int { return 2 * channels * bands }
