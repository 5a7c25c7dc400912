package policyctl

import (
	"context"
	"fmt"
	"time"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/sim"
)

// Ensembled executes a controller's chunks the way vla3d-node does in its
// ensemble execution mode, with the node's own node.Executor: the policy
// runs at every control step, each chunk is integrated from the target in
// force when its observation was taken (execution.anchor: command), and
// the step due now is ACT's weighted average over every chunk that covers
// it. Time is the simulator's (steps x period), so the closed-loop rate it
// measures is the node's without a real-time clock's jitter. Each Act
// returns that one step as a delta from the current target.
type Ensembled struct {
	ctrl    sim.Controller
	env     *sim.Env
	exec    *node.Executor
	period  time.Duration
	episode int
	out     node.Target
	act     []float32
}

// NewEnsembled wraps ctrl, whose chunks have horizon steps, for env with
// the node's execution settings cfg (Mode must be ensemble; the node's
// defaults: node.DefaultConfig().Execution).
func NewEnsembled(ctrl sim.Controller, env *sim.Env, cfg node.ExecutionConfig, horizon int) (*Ensembled, error) {
	if cfg.Mode != contract.ExecEnsemble {
		return nil, fmt.Errorf("policyctl: execution mode %q, want %q (replan is vla3d-sim eval -execute)", cfg.Mode, contract.ExecEnsemble)
	}
	if horizon < 1 {
		return nil, fmt.Errorf("policyctl: horizon %d", horizon)
	}
	period := time.Duration(float64(time.Second) / env.Config().ControlHz)
	return &Ensembled{ctrl: ctrl, env: env, exec: node.NewExecutor(&cfg, horizon, period), period: period,
		episode: -1, act: make([]float32, msgs.EEActionDim)}, nil
}

// Act implements sim.Controller: one step, the ensemble's command due now.
func (x *Ensembled) Act(ctx context.Context, obs *msgs.Observation) (msgs.ActionChunk, error) {
	if x.episode != x.env.Episode() {
		x.exec.Clear() // a new episode voids the old plans, as a fault does on the robot
		x.episode = x.env.Episode()
	}
	chunk, err := x.ctrl.Act(ctx, obs)
	if err != nil {
		return msgs.ActionChunk{}, err
	}
	now := time.Unix(0, 0).Add(time.Duration(x.env.Steps()) * x.period)
	st := x.env.State()
	target := msgs.Pose{Position: st.TargetPos, Orientation: st.TargetQuat.Array()}
	if err := x.exec.Add(&chunk, target, now); err != nil {
		return msgs.ActionChunk{}, err
	}
	if !x.exec.Command(now, &x.out) {
		return msgs.ActionChunk{}, fmt.Errorf("policyctl: no chunk covers step %d", x.env.Steps())
	}
	perception.DeltaBetween(perception.PoseFromMsg(target), perception.PoseFromMsg(x.out.Pose)).PutAction(x.act)
	x.act[msgs.ActionGripper] = float32(x.out.Gripper)
	return msgs.ActionChunk{Stamp: chunk.Stamp, Period: x.period, Horizon: 1, Dim: msgs.EEActionDim, Values: x.act}, nil
}
