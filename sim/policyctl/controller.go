// Package policyctl adapts a project policy (policy.Policy, e.g. an ONNX
// Runtime 3DVLA model) to the simulator's Controller interface, so the
// closed-loop evaluation runs learned policies exactly as the node would:
// observation -> preprocess -> Predict -> end-effector delta chunk.
package policyctl

import (
	"context"
	"fmt"
	"math"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/sim"
)

// Controller runs a policy.Policy on simulator observations. Not safe for
// concurrent use.
type Controller struct {
	pol  policy.Policy
	pre  *preprocess.Preprocessor
	in   *policy.Input
	spec policy.Spec
}

// New checks that p acts in env's end-effector delta space, with as many
// cameras as the simulator renders and at its control rate, and prepares
// its buffers.
func New(p policy.Policy, env *sim.Env, opts preprocess.Options) (*Controller, error) {
	spec := p.Spec()
	cameras := sim.NumCameras()
	if hz := env.Config().ControlHz; spec.ControlHz > 0 && math.Abs(spec.ControlHz-hz) > 1e-9 {
		return nil, fmt.Errorf("policyctl: policy runs at %v Hz, the simulator steps at %v Hz", spec.ControlHz, hz)
	}
	if spec.ActionSpace != "" && spec.ActionSpace != "ee_delta" {
		return nil, fmt.Errorf("policyctl: policy acts in %q, the simulator takes ee_delta", spec.ActionSpace)
	}
	if spec.ActionDim != msgs.EEActionDim {
		return nil, fmt.Errorf("policyctl: policy action dim %d, want %d", spec.ActionDim, msgs.EEActionDim)
	}
	if spec.Cameras != cameras {
		return nil, fmt.Errorf("policyctl: policy takes %d cameras, the simulator renders %d", spec.Cameras, cameras)
	}
	if spec.Horizon < 1 {
		return nil, fmt.Errorf("policyctl: policy horizon %d", spec.Horizon)
	}
	pre, err := preprocess.New(spec, opts)
	if err != nil {
		return nil, fmt.Errorf("policyctl: %w", err)
	}
	return &Controller{pol: p, pre: pre, in: policy.NewInput(spec), spec: spec}, nil
}

// Act implements sim.Controller.
func (c *Controller) Act(ctx context.Context, obs *msgs.Observation) (msgs.ActionChunk, error) {
	if err := c.pre.Process(obs, c.in); err != nil {
		return msgs.ActionChunk{}, fmt.Errorf("policyctl: preprocess: %w", err)
	}
	out := msgs.ActionChunk{Stamp: obs.Stamp, Values: make([]float32, c.spec.Horizon*c.spec.ActionDim)}
	if err := c.pol.Predict(ctx, c.in, &out); err != nil {
		return msgs.ActionChunk{}, fmt.Errorf("policyctl: predict: %w", err)
	}
	return out, nil
}

// Factory returns a sim.Factory that wraps p (the policy ignores the Env's
// privileged state).
func Factory(p policy.Policy, opts preprocess.Options) sim.Factory {
	return func(env *sim.Env) (sim.Controller, error) {
		return New(p, env, opts)
	}
}
