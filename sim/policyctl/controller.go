// Package policyctl adapts a project policy (policy.Policy, e.g. an ONNX
// Runtime 3DVLA model) to the simulator's Controller interface, so the
// closed-loop evaluation runs learned policies exactly as the node would:
// the simulator's observation becomes the data contract's messages
// (sim/rosio, the same the ROS node publishes and recordings hold), which
// the node's observation assembler (package observe) turns into the
// policy's observation with the node's rules (depth validity, tf at the
// image stamp, the gripper joint) -> preprocess -> Predict -> end-effector
// delta chunk.
package policyctl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/observe"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/sim"
	"github.com/vla3d/vla3d/sim/rosio"
)

// Controller runs a policy.Policy on simulator observations. Not safe for
// concurrent use.
type Controller struct {
	pol    policy.Policy
	pre    *preprocess.Preprocessor
	in     *policy.Input
	spec   policy.Spec
	env    *sim.Env
	topics rosio.Topics
	static map[string]bool

	// asm is the episode's assembler (a new episode starts a new one);
	// clock is its time, the observation's stamp.
	asm    *observe.Assembler
	routes map[string]observe.Route
	clock  time.Time
	obs    msgs.Observation
	perc   policy.Perception

	// OnStep, when set, is called after every prediction with the
	// observation the policy saw, what it perceived (nil when it reports
	// nothing: see policy.Perceiver) and its chunk; it must not retain them.
	OnStep func(obs *msgs.Observation, p *policy.Perception, chunk *msgs.ActionChunk)
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
	if space, err := contract.ParseActionSpace(string(spec.ActionSpace)); err != nil || space != contract.ActionEEDelta {
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
	return &Controller{pol: p, pre: pre, in: policy.NewInput(spec), spec: spec, env: env, topics: rosio.DefaultTopics()}, nil
}

// reset starts a new episode's assembler (its latched state, tf history
// and pose history belong to the episode) for the episode's cameras.
func (c *Controller) reset() error {
	c.static = map[string]bool{}
	var cams []observe.Camera
	for _, cam := range c.env.Scene().Cameras {
		cams = append(cams, observe.DefaultCamera(cam.Name))
		c.static[cam.Name] = !cam.Wrist
	}
	cfg := observe.Config{BaseFrame: c.env.Config().BaseFrame, Cameras: cams, Topics: c.topics.Topics,
		Gripper: contract.DefaultGripper()}
	a, err := observe.New(cfg, func() time.Time { return c.clock })
	if err != nil {
		return fmt.Errorf("policyctl: %w", err)
	}
	c.asm, c.routes = a, map[string]observe.Route{}
	for _, r := range a.Routes() {
		c.routes[r.Topic] = r
	}
	return nil
}

// feed delivers the messages to the assembler as the node's subscriptions
// would (topics it does not take are skipped).
func (c *Controller) feed(ms []rosio.Message) error {
	for _, m := range ms {
		r, ok := c.routes[m.Topic]
		if !ok {
			continue
		}
		if err := r.Handle(m.Msg); err != nil {
			return fmt.Errorf("policyctl: %s: %w", m.Topic, err)
		}
	}
	return nil
}

// Observe turns the simulator's observation into the policy's observation
// through the node's assembler; the result is valid until the next call.
func (c *Controller) Observe(raw *msgs.Observation) (*msgs.Observation, error) {
	c.clock = raw.Stamp
	var ms []rosio.Message
	if c.asm == nil || c.env.Steps() == 0 || raw.Instruction != c.obs.Instruction {
		if err := c.reset(); err != nil {
			return nil, err
		}
		ms = append(ms, c.topics.InstructionMsg(raw.Instruction), c.topics.StaticTFMsg(raw, c.static, raw.Stamp))
	}
	obsMsgs, err := c.topics.ObservationMsgs(raw, sim.JointNames(), c.static, raw.Stamp)
	if err != nil {
		return nil, fmt.Errorf("policyctl: %w", err)
	}
	if err := c.feed(append(ms, obsMsgs...)); err != nil {
		return nil, err
	}
	_, ok, fault, err := c.asm.Snapshot(&c.obs, c.env.State().GripperCmd)
	switch {
	case !ok:
		return nil, errors.New("policyctl: the assembler made no observation of the simulator's messages")
	case fault != 0:
		return nil, fmt.Errorf("policyctl: observation refused (%v): %w", fault, err)
	}
	return &c.obs, nil
}

// Act implements sim.Controller.
func (c *Controller) Act(ctx context.Context, raw *msgs.Observation) (msgs.ActionChunk, error) {
	obs, err := c.Observe(raw)
	if err != nil {
		return msgs.ActionChunk{}, err
	}
	if err := c.pre.Process(obs, c.in); err != nil {
		return msgs.ActionChunk{}, fmt.Errorf("policyctl: preprocess: %w", err)
	}
	out := msgs.ActionChunk{Stamp: obs.Stamp, Values: make([]float32, c.spec.Horizon*c.spec.ActionDim)}
	if err := c.pol.Predict(ctx, c.in, &out); err != nil {
		return msgs.ActionChunk{}, fmt.Errorf("policyctl: predict: %w", err)
	}
	if c.OnStep != nil {
		var p *policy.Perception
		if pc, ok := c.pol.(policy.Perceiver); ok && pc.Perception(&c.perc) {
			p = &c.perc
		}
		c.OnStep(obs, p, &out)
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
