package model

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
)

// RoPE3D is the continuous 3D rotary position embedding of Multi-View Spatial
// Fusion (and of the predictor's hybrid attention). For a head of size dh the
// channels are split in three axis groups of d_a = 2*floor(dh/6) channels; for
// axis a in {x,y,z} and channel pair i < d_a/2 the pair is rotated by
//
//	theta = p_a / base^(2i/d_a)
//
// and the three axes' rotations are concatenated. The dh - 3*d_a remaining
// channels (dh not divisible by 6) are left unrotated, i.e. angle 0.
// Positions are in metres multiplied by Scale, so the fastest pair resolves
// 1/Scale metres (with Scale = 100: centimetres).
type RoPE3D struct {
	HeadDim int
	Base    float64
	Scale   float64
}

// AxisDim returns d_a, the channels rotated per axis.
func (r RoPE3D) AxisDim() int { return 2 * (r.HeadDim / 6) }

// Frequencies returns the per-pair inverse frequencies 1/base^(2i/d_a) and the
// axis each of the HeadDim/2 pairs reads (-1 = unrotated).
func (r RoPE3D) Frequencies() (freq []float64, axis []int) {
	da := r.AxisDim()
	pairs := r.HeadDim / 2
	freq = make([]float64, pairs)
	axis = make([]int, pairs)
	for p := range axis {
		axis[p] = -1
	}
	for a := 0; a < 3; a++ {
		for i := 0; i < da/2; i++ {
			p := a*da/2 + i
			freq[p] = 1 / math.Pow(r.Base, float64(2*i)/float64(da))
			axis[p] = a
		}
	}
	return freq, axis
}

// Angles maps positions [..., 3] (metres) to rotation angles [..., HeadDim/2].
func (r RoPE3D) Angles(pos *Node) *Node {
	freq, axis := r.Frequencies()
	// Angles = pos @ S where S[a, p] = Scale*freq[p] if pair p reads axis a:
	// a single matmul keeps the op set small.
	pairs := len(freq)
	sel := make([][]float32, 3)
	for a := range sel {
		sel[a] = make([]float32, pairs)
	}
	for p, a := range axis {
		if a >= 0 {
			sel[a][p] = float32(r.Scale * freq[p])
		}
	}
	g := pos.Graph()
	return linear(pos, Const(g, sel))
}

// Rotate applies the rotation of angles [B,T,dh/2] to x [B,heads,T,dh],
// pair (2j, 2j+1) by angle j.
func (r RoPE3D) Rotate(x, angles *Node) *Node {
	dims := x.Shape().Dimensions
	b, h, t, dh := dims[0], dims[1], dims[2], dims[3]
	pairs := Reshape(x, b, h, t, dh/2, 2)
	x0 := takeElem(pairs, -1, 0)
	x1 := takeElem(pairs, -1, 1)
	cos := InsertAxes(Cos(angles), 1) // [B,1,T,dh/2]
	sin := InsertAxes(Sin(angles), 1)
	y0 := Sub(Mul(x0, cos), Mul(x1, sin))
	y1 := Add(Mul(x0, sin), Mul(x1, cos))
	return Reshape(Stack([]*Node{y0, y1}, -1), b, h, t, dh)
}
