package perception

import (
	"fmt"
	"math"
)

// FourierDim is the length of Fourier3D's output for numFreqs frequencies.
func FourierDim(numFreqs int) int { return 6 * numFreqs }

// Fourier3D writes the sinusoidal encoding of a 3D point with frequencies
// 2^k·π, k < numFreqs, into dst[:FourierDim(numFreqs)]. Layout: axis-major,
// then frequency, then sin/cos:
//
//	dst[a*2L + 2k]   = sin(2^k π p_a)
//	dst[a*2L + 2k+1] = cos(2^k π p_a)      a ∈ {x=0, y=1, z=2}, k < L
//
// It is the encoding of the predictor's context and target coordinates
// (Fourier3D(P)); coordinates are metres, so k=0 has a 2 m period.
// The angle is computed in float64 for accuracy at high k.
func Fourier3D(p [3]float32, numFreqs int, dst []float32) {
	_ = dst[FourierDim(numFreqs)-1] // one bounds check for the whole loop
	for a := range 3 {
		x := float64(p[a]) * math.Pi
		base := a * 2 * numFreqs
		for k := range numFreqs {
			s, c := math.Sincos(x)
			dst[base+2*k], dst[base+2*k+1] = float32(s), float32(c)
			x *= 2 // exact in binary floating point
		}
	}
}

// Fourier3DBatch encodes points [N*3] into dst [N*FourierDim(numFreqs)].
func Fourier3DBatch(points []float32, numFreqs int, dst []float32) error {
	n, dim := len(points)/3, FourierDim(numFreqs)
	if numFreqs <= 0 || len(points) != 3*n || len(dst) < n*dim {
		return fmt.Errorf("%w: Fourier3D of %d values at %d frequencies into %d", ErrBadShape, len(points), numFreqs, len(dst))
	}
	for i := range n {
		Fourier3D([3]float32{points[3*i], points[3*i+1], points[3*i+2]}, numFreqs, dst[i*dim:(i+1)*dim])
	}
	return nil
}

// EERelativeEncoding writes γ(d), d = p - pEE, for each point of points
// [N*3] into dst [N*FourierDim(numFreqs)]: the Spatially-Conditioned Geometry
// Aggregation's end-effector-relative encoding γ(d) = [sin(2^k π d),
// cos(2^k π d)]_{k<L}, in Fourier3D's layout.
func EERelativeEncoding(points []float32, pEE [3]float32, numFreqs int, dst []float32) error {
	n, dim := len(points)/3, FourierDim(numFreqs)
	if numFreqs <= 0 || len(points) != 3*n || len(dst) < n*dim {
		return fmt.Errorf("%w: EE-relative encoding of %d values at %d frequencies into %d", ErrBadShape, len(points), numFreqs, len(dst))
	}
	for i := range n {
		d := [3]float32{points[3*i] - pEE[0], points[3*i+1] - pEE[1], points[3*i+2] - pEE[2]}
		Fourier3D(d, numFreqs, dst[i*dim:(i+1)*dim])
	}
	return nil
}

// RoPE3D is the continuous 3D rotary position embedding of the fusion
// encoder and the predictor. A head dimension Dim is split into three
// contiguous even-sized blocks for x, y, z (AxisDims). Within axis a's block
// of size d_a, channel pair i (channels 2i, 2i+1 of the block) is rotated by
//
//	θ = Scale·p_a / Base^(2i/d_a),   i < d_a/2
//
// (Base = 10000, Scale = 1 in the paper, p in metres). Pair angles are listed
// x pairs first, then y, then z, which is the order of the channels.
type RoPE3D struct {
	Dim   int
	Base  float64
	Scale float64
	// invFreq[j] is Scale / Base^(2i/d_a) for global pair j.
	invFreq []float64
	axis    []uint8
}

// NewRoPE3D returns the paper's RoPE for head dimension dim (even, >= 6),
// Base 10000 and Scale 1.
func NewRoPE3D(dim int) (*RoPE3D, error) { return NewRoPE3DWith(dim, 10000, 1) }

// NewRoPE3DWith returns a RoPE with a custom base and position scale (a
// larger scale resolves finer distances in metre-sized scenes).
func NewRoPE3DWith(dim int, base, scale float64) (*RoPE3D, error) {
	if dim < 6 || dim%2 != 0 {
		return nil, fmt.Errorf("%w: RoPE3D dimension %d must be even and >= 6", ErrBadShape, dim)
	}
	if !(base > 1) || !(scale > 0) || math.IsInf(base, 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("%w: RoPE3D base %v must be > 1 and scale %v positive", ErrBadShape, base, scale)
	}
	r := &RoPE3D{Dim: dim, Base: base, Scale: scale, invFreq: make([]float64, dim/2), axis: make([]uint8, dim/2)}
	j := 0
	for a, da := range r.AxisDims() {
		for i := range da / 2 {
			r.invFreq[j] = scale / math.Pow(base, float64(2*i)/float64(da))
			r.axis[j] = uint8(a)
			j++
		}
	}
	return r, nil
}

// AxisDims returns the channel counts of the x, y, z blocks: Dim/2 pairs
// shared as evenly as possible, the extra pairs going to x then y.
func (r *RoPE3D) AxisDims() [3]int {
	pairs := r.Dim / 2
	q, rem := pairs/3, pairs%3
	d := [3]int{2 * q, 2 * q, 2 * q}
	for a := range rem {
		d[a] += 2
	}
	return d
}

// Angles writes the Dim/2 rotation angles for point p into dst.
func (r *RoPE3D) Angles(p [3]float32, dst []float32) {
	_ = dst[len(r.invFreq)-1]
	for j, f := range r.invFreq {
		dst[j] = float32(float64(p[r.axis[j]]) * f)
	}
}

// AnglesBatch writes the angles of points [N*3] into dst [N*Dim/2].
func (r *RoPE3D) AnglesBatch(points []float32, dst []float32) error {
	n, h := len(points)/3, r.Dim/2
	if len(points) != 3*n || len(dst) < n*h {
		return fmt.Errorf("%w: RoPE3D angles of %d values into %d", ErrBadShape, len(points), len(dst))
	}
	for i := range n {
		r.Angles([3]float32{points[3*i], points[3*i+1], points[3*i+2]}, dst[i*h:(i+1)*h])
	}
	return nil
}

// Apply rotates vec (len Dim, a query or key head) in place for point p:
// (v₂ⱼ, v₂ⱼ₊₁) ← (v₂ⱼ cos θⱼ − v₂ⱼ₊₁ sin θⱼ, v₂ⱼ sin θⱼ + v₂ⱼ₊₁ cos θⱼ).
// Rotations preserve the norm, and q·k of two rotated vectors depends only on
// the difference of their positions.
func (r *RoPE3D) Apply(vec []float32, p [3]float32) {
	_ = vec[r.Dim-1]
	for j, f := range r.invFreq {
		s, c := math.Sincos(float64(p[r.axis[j]]) * f)
		x, y := float64(vec[2*j]), float64(vec[2*j+1])
		vec[2*j], vec[2*j+1] = float32(x*c-y*s), float32(x*s+y*c)
	}
}

// ApplyRoPE3D rotates vec in place with the paper's RoPE (Base 10000, Scale
// 1, Dim = len(vec)) without a precomputed table; hot loops should hold a
// RoPE3D instead. It panics if len(vec) is odd or < 6, a programming error.
func ApplyRoPE3D(vec []float32, p [3]float32) {
	if len(vec) < 6 || len(vec)%2 != 0 {
		panic(fmt.Sprintf("perception: ApplyRoPE3D needs an even dimension >= 6, got %d", len(vec)))
	}
	r := RoPE3D{Dim: len(vec)}
	j := 0
	for a, da := range r.AxisDims() {
		for i := range da / 2 {
			s, c := math.Sincos(float64(p[a]) / math.Pow(10000, float64(2*i)/float64(da)))
			x, y := float64(vec[2*j]), float64(vec[2*j+1])
			vec[2*j], vec[2*j+1] = float32(x*c-y*s), float32(x*s+y*c)
			j++
		}
	}
}
