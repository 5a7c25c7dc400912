package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// forward3D runs the plug-and-play 3D modules on the fused memory and returns
// the extra context tokens (and masks) for the action expert.
func (m *Model) forward3D(ctx *context.Context, in Inputs, fused FusionOutput, training bool, out *Outputs) ([]*Node, []*Node) {
	return nil, nil
}
