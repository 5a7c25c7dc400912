package model_test

import (
	"fmt"

	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy/model"
)

// Build row C and run its inference graph on zero inputs; variables are
// initialised on first use. The trainer builds the same Forward with
// ctx.SetTraining(g, true) and reads the auxiliary Outputs.
func Example() {
	cfg, err := model.DefaultConfig().Row("C")
	if err != nil {
		panic(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		panic(err)
	}
	backend, err := model.NewBackend(model.CPUBackend)
	if err != nil {
		panic(err)
	}
	ctx := context.New()
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, p []*Node) *Node {
		return m.Forward(ctx, model.Inputs{
			Images: p[0], Points: p[1], PointValid: p[2], Intrinsics: p[3],
			CamFromBase: p[4], Proprio: p[5], Instruction: p[6], Noise: p[7],
		}).Actions
	})
	if err != nil {
		panic(err)
	}
	v, n := cfg.Cameras, cfg.Patches()
	f32 := func(dims ...int) *tensors.Tensor { return tensors.FromShape(shapes.Make(dtypes.Float32, dims...)) }
	out, err := exec.Exec1(
		f32(1, v, 3, cfg.ImageHeight, cfg.ImageWidth), f32(1, v, n, 3), f32(1, v, n), f32(1, v, 4),
		f32(1, v, 12), f32(1, cfg.ProprioDim),
		tensors.FromFlatDataAndDimensions(make([]int64, cfg.InstructionLen), 1, cfg.InstructionLen),
		f32(1, cfg.Horizon, cfg.ActionDim))
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Shape().Dimensions)
	// Output: [1 8 7]
}
