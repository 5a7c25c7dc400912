package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// pyramidStrides are the image strides of the deformable attention levels.
var pyramidStrides = [...]int{8, 16, 32}

// maskStride is the stride of the mask feature map (1/4 scale).
const maskStride = 4

// Level is one feature map of the pyramid, [B,V,h,w,c].
type Level struct {
	Map    *Node
	H, W   int
	Stride int
}

// Pyramid decodes memory M ([B,V*N,d] on the patch grid) into the multi-scale
// pyramid (strides 8, 16, 32) and the 1/4-scale mask map. Upsampling is a
// transposed convolution with kernel = stride (no overlap), which is exactly
// a per-token linear layer to s*s*c channels followed by a pixel shuffle
// (Reshape/Transpose); downsampling is the matching s x s patch merge plus a
// linear layer. Both keep the exported graph free of Conv ops.
func Pyramid(ctx *context.Context, cfg Config, memory *Node) (levels []Level, maskMap Level) {
	b := memory.Shape().Dimensions[0]
	grid := Reshape(memory, b, cfg.Cameras, cfg.GridH(), cfg.GridW(), cfg.Width)
	for _, s := range pyramidStrides {
		levels = append(levels, resample(ctx.Inf("level_%d", s), cfg, grid, s, cfg.Width))
	}
	return levels, resample(ctx.In("mask_map"), cfg, grid, maskStride, cfg.MaskDim)
}

// resample maps the patch-stride grid x [B,V,gh,gw,d] to the target stride
// with c output channels.
func resample(ctx *context.Context, cfg Config, x *Node, stride, c int) Level {
	dims := x.Shape().Dimensions
	b, v, gh, gw, d := dims[0], dims[1], dims[2], dims[3], dims[4]
	p := cfg.PatchSize
	switch {
	case stride < p: // transposed conv, kernel = stride = p/stride
		f := p / stride
		y := dense(ctx, "transposed_conv", x, f*f*c)
		y = Reshape(y, b, v, gh, gw, f, f, c)
		y = TransposeAllAxes(y, 0, 1, 2, 4, 3, 5, 6) // [B,V,gh,f,gw,f,c]
		return Level{Map: Reshape(y, b, v, gh*f, gw*f, c), H: gh * f, W: gw * f, Stride: stride}
	case stride > p: // patch merge, kernel = stride = stride/p
		f := stride / p
		y := Reshape(x, b, v, gh/f, f, gw/f, f, d)
		y = TransposeAllAxes(y, 0, 1, 2, 4, 3, 5, 6) // [B,V,gh/f,gw/f,f,f,d]
		y = Reshape(y, b, v, gh/f, gw/f, f*f*d)
		return Level{Map: dense(ctx, "merge", y, c), H: gh / f, W: gw / f, Stride: stride}
	default:
		return Level{Map: dense(ctx, "projection", x, c), H: gh, W: gw, Stride: stride}
	}
}
