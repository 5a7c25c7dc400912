package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	"gonum.org/v1/gonum/spatial/r3"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/observe"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/timesync"
)

// TickResult is what one control tick decided.
type TickResult struct {
	// Valid is false when there is nothing safe to publish yet (no pose and
	// no previous command to hold).
	Valid bool
	// Hold is true when Target is the hold command rather than the policy's.
	Hold  bool
	Fault Fault
	// Clamped is true when the limiter modified the policy's command.
	Clamped bool
}

// Controller owns the policy, the executor and the safety logic. The
// inference worker (RunInference / InferOnce) and the control loop (Tick)
// run in different goroutines so a slow model never delays a tick.
type Controller struct {
	cfg    *Config
	log    *zap.Logger
	clock  func() time.Time
	inputs *observe.Assembler
	exec   *Executor
	lim    *Limiter
	pol    policy.Policy
	spec   policy.Spec
	joint  bool
	period time.Duration

	// Worker-owned buffers (reused every inference).
	pre   *preprocess.Preprocessor
	obs   msgs.Observation
	in    *policy.Input
	chunk msgs.ActionChunk
	// OnChunk, when set, is called by the worker with every accepted chunk
	// (the node publishes it); it must not retain c.
	OnChunk func(c *msgs.ActionChunk)
	// OnPerception, when set, is called by the worker after OnChunk with
	// what the policy perceived (nil when it is no policy.Perceiver or its
	// model exposes nothing), the observation and the chunk (markers); it
	// must not retain them.
	OnPerception func(p *policy.Perception, obs *msgs.Observation, c *msgs.ActionChunk)
	perc         policy.Perception

	wmu         sync.Mutex
	workerFault Fault
	workerErr   error
	holdSince   time.Time
	// lastGripper is the gripper command last published: the previous
	// command the assembler's gripper rule takes when no gripper joint is
	// seen (as the dataset takes a recording's previous action).
	lastGripper float64
	// commands are the end-effector targets published, stamped with their
	// tick: a chunk anchors (execution.anchor "command") at the one in force
	// when its observation was synchronized.
	commands *timesync.History[msgs.Pose]

	// Tick-owned state.
	faults    faultLog
	holding   bool
	hold      Target
	haveHold  bool
	ticks     int
	instrGen  uint64
	replanDue chan struct{}

	stats pipelineStats
}

// NewController checks the policy's spec against the configuration.
func NewController(cfg *Config, pol policy.Policy, inputs *observe.Assembler, log *zap.Logger, clock func() time.Time) (*Controller, error) {
	spec := pol.Spec()
	joint := cfg.Execution.Output == contract.OutputJoint
	switch {
	case spec.Cameras != len(cfg.Cameras):
		return nil, fmt.Errorf("node: model takes %d cameras, config has %d", spec.Cameras, len(cfg.Cameras))
	case spec.Horizon < 1:
		return nil, fmt.Errorf("node: model horizon %d", spec.Horizon)
	case joint && spec.ActionDim != len(cfg.Execution.JointNames):
		return nil, fmt.Errorf("node: joint model action dim %d but %d execution.joint_names", spec.ActionDim, len(cfg.Execution.JointNames))
	}
	space, err := contract.ParseActionSpace(string(spec.ActionSpace))
	switch {
	case err != nil:
		return nil, fmt.Errorf("node: model: %w", err)
	case space != cfg.Execution.Output.ActionSpace() && joint:
		return nil, fmt.Errorf("node: joint output needs a joint-space model, model action space is %q", spec.ActionSpace)
	case space != cfg.Execution.Output.ActionSpace():
		return nil, errors.New("node: ee output needs an end-effector model, model is joint-space")
	case !joint && spec.ActionDim < msgs.EEActionDim:
		return nil, fmt.Errorf("node: end-effector model action dim %d < %d", spec.ActionDim, msgs.EEActionDim)
	}
	mode, _ := preprocess.ParseResizeMode(cfg.Resize)
	pre, err := preprocess.New(spec, preprocess.Options{Resize: mode, Parallel: cfg.ParallelPreprocess})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	period := cfg.ControlPeriod()
	c := &Controller{
		cfg: cfg, log: log, clock: clock, inputs: inputs, pol: pol, spec: spec, joint: joint, period: period,
		exec: NewExecutor(&cfg.Execution, spec.Horizon, period), lim: NewLimiter(cfg.Safety),
		pre: pre, in: policy.NewInput(spec), replanDue: make(chan struct{}, 1),
		faults: faultLog{log: log}, commands: timesync.NewHistory[msgs.Pose](commandHistory),
	}
	c.chunk.Values = make([]float32, spec.Horizon*spec.ActionDim)
	c.stats.windowStart = clock()
	return c, nil
}

// commandHistory is how many published targets a controller keeps for
// anchoring: seconds at any control rate, beyond any inference latency.
const commandHistory = 256

func (c *Controller) setWorkerFault(f Fault, err error) {
	c.wmu.Lock()
	c.workerFault, c.workerErr = f, err
	c.wmu.Unlock()
}

// RunInference runs the inference worker until ctx ends.
func (c *Controller) RunInference(ctx context.Context) {
	replan := c.cfg.Execution.Mode == contract.ExecReplan
	for {
		if replan {
			select {
			case <-ctx.Done():
				return
			case <-c.replanDue:
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-c.inputs.Ready():
		}
		c.InferOnce(ctx)
	}
}

// InferOnce runs one inference on the newest synchronized observation, if
// there is one it has not used yet. It reports whether a chunk was stored.
func (c *Controller) InferOnce(ctx context.Context) bool {
	t0 := c.clock()
	c.wmu.Lock()
	prevGripper := c.lastGripper
	c.wmu.Unlock()
	info, ok, f, err := c.inputs.Snapshot(&c.obs, prevGripper)
	if !ok {
		return false
	}
	c.stats.addStage(StageSnapshot, c.clock().Sub(t0))
	if f != 0 {
		c.failInference(f, err)
		return false
	}
	return c.infer(ctx, &c.obs, info, t0)
}

// InferObservation runs the policy on obs as if the assembler had just
// handed it out (info describes it): preprocessing, prediction and the
// chunk checks are the node's own. Bag replay uses it on the dataset's
// steps, so offline scores run on exactly the training inputs.
func (c *Controller) InferObservation(ctx context.Context, obs *msgs.Observation, info observe.SetInfo) bool {
	// The observation carries its own instruction: current by definition.
	info.InstructionGen = c.inputs.InstructionGen()
	return c.infer(ctx, obs, info, c.clock())
}

// infer preprocesses obs, predicts and stores the chunk (worker goroutine).
func (c *Controller) infer(ctx context.Context, obs *msgs.Observation, info observe.SetInfo, t0 time.Time) bool {
	t1 := c.clock()
	if err := c.pre.Process(obs, c.in); err != nil {
		kind := FaultBadInput
		switch {
		case errors.Is(err, preprocess.ErrNonFinite):
			kind = FaultNonFinite
		case errors.Is(err, preprocess.ErrMissingCamera):
			kind = FaultNoCameraInfo
		}
		c.failInference(kind, err)
		return false
	}
	t2 := c.clock()
	c.stats.addStage(StagePreprocess, t2.Sub(t1))
	if err := c.predict(ctx); err != nil {
		c.failInference(FaultPolicy, err)
		return false
	}
	t3 := c.clock()
	c.stats.addStage(StagePredict, t3.Sub(t2))
	c.chunk.Stamp = obs.Stamp
	if c.chunk.Period <= 0 {
		c.chunk.Period = c.period
	}
	c.wmu.Lock()
	stale := !c.holdSince.IsZero() && info.SyncedAt.Before(c.holdSince)
	c.wmu.Unlock()
	if stale || info.InstructionGen != c.inputs.InstructionGen() {
		// Predicted from an observation older than the current fault, or
		// under an instruction that has since changed: void.
		c.stats.mu.Lock()
		c.stats.staleChunks++
		c.stats.mu.Unlock()
		return false
	}
	if err := c.exec.Add(&c.chunk, c.anchor(obs, info.SyncedAt), info.SyncedAt); err != nil {
		kind := FaultBadInput
		if errors.Is(err, ErrNonFiniteAction) {
			kind = FaultNonFinite
		}
		c.failInference(kind, err)
		return false
	}
	c.setWorkerFault(0, nil)
	c.stats.mu.Lock()
	c.stats.inferences++
	c.stats.stages[StageInference].add(c.clock().Sub(t0))
	c.stats.mu.Unlock()
	if c.OnChunk != nil {
		c.OnChunk(&c.chunk)
	}
	if c.OnPerception != nil {
		var p *policy.Perception
		if pc, ok := c.pol.(policy.Perceiver); ok && pc.Perception(&c.perc) {
			p = &c.perc
		}
		c.OnPerception(p, obs, &c.chunk)
	}
	return true
}

// predict calls the policy, turning a panic into an error: a faulty model
// must put the robot on hold, not kill the node.
func (c *Controller) predict(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("node: policy panicked: %v", r)
		}
	}()
	return c.pol.Predict(ctx, c.in, &c.chunk)
}

func (c *Controller) failInference(f Fault, err error) {
	c.setWorkerFault(f, err)
	c.stats.mu.Lock()
	c.stats.inferenceFailures++
	c.stats.mu.Unlock()
}

// Tick decides the command for time now and writes it into out.
func (c *Controller) Tick(now time.Time, out *Target) TickResult {
	if g := c.inputs.InstructionGen(); g != c.instrGen {
		// A new task: the stored chunks pursue the old one.
		c.instrGen = g
		c.exec.Clear()
	}
	f, err := c.inputs.Health(now)
	c.wmu.Lock()
	f |= c.workerFault
	err = errors.Join(err, c.workerErr)
	c.wmu.Unlock()
	if f == 0 && !c.exec.Command(now, out) {
		f |= FaultNoPlan
	}
	if f == 0 && !c.joint {
		// The ensemble averages gripper values; the gripper executes open
		// or closed (the simulator applies the same rule).
		out.Gripper = contract.GripperCommand(out.Gripper)
	}
	c.faults.update(f, err)
	c.ticks++
	if c.cfg.Execution.Mode == contract.ExecReplan && (c.ticks%c.cfg.Execution.ReplanEvery == 0 || f&FaultNoPlan != 0) {
		select {
		case c.replanDue <- struct{}{}:
		default:
		}
	}
	c.stats.mu.Lock()
	c.stats.ticks++
	if f != 0 {
		c.stats.holds++
	}
	c.stats.mu.Unlock()
	if f != 0 {
		if !c.holding {
			c.enterHold(now)
		}
		if !c.haveHold {
			return TickResult{Hold: true, Fault: f}
		}
		c.copyHold(out)
		c.lim.Reset(out)
		c.note(now, out)
		return TickResult{Valid: true, Hold: true, Fault: f}
	}
	c.holding = false
	clamped := c.lim.Clamp(out, c.period, c.joint)
	if clamped {
		c.stats.mu.Lock()
		c.stats.clamped++
		c.stats.mu.Unlock()
	}
	c.note(now, out)
	return TickResult{Valid: true, Fault: 0, Clamped: clamped}
}

// anchor is the pose a chunk predicted from obs (synchronized at syncedAt)
// integrates from. With execution.anchor "command" it is the target in
// force at syncedAt, as the simulator applies each recorded delta to its
// target, which the measured pose lags by the tracking error; the measured
// pose with "measured", before any command, or when that target is more
// than anchor_max_gap from it (a reset, a collision, a hand-guided move).
func (c *Controller) anchor(obs *msgs.Observation, syncedAt time.Time) msgs.Pose {
	if c.cfg.Execution.Anchor == contract.AnchorMeasured || c.joint {
		return obs.EEPose
	}
	c.wmu.Lock()
	cmd, ok := c.commands.AtOrBefore(syncedAt)
	c.wmu.Unlock()
	gap := r3.Norm(r3.Sub(perception.VecFromArray(cmd.Position), perception.VecFromArray(obs.EEPose.Position)))
	if !ok || gap > c.cfg.Execution.AnchorMaxGap {
		return obs.EEPose
	}
	return cmd
}

// note records the command about to be published at now: the gripper
// value and the target (end-effector output only; joint output commands no
// gripper here).
func (c *Controller) note(now time.Time, out *Target) {
	if !c.joint {
		c.wmu.Lock()
		c.lastGripper = out.Gripper
		c.commands.Add(now, out.Pose)
		c.wmu.Unlock()
	}
}

// enterHold latches the hold target at the start of a fault episode: the
// last commanded end-effector pose (measured joints in joint mode), else,
// before any command, the measured pose.
func (c *Controller) enterHold(now time.Time) {
	c.holding = true
	c.exec.Clear()
	c.wmu.Lock()
	c.holdSince = now
	c.wmu.Unlock()
	if c.joint {
		j := c.inputs.CurrentJoints(c.hold.Joints)
		if len(j) > 0 {
			c.hold.Joints, c.haveHold = j, true
		} else if c.lim.have {
			c.hold.Joints, c.haveHold = append(c.hold.Joints[:0], c.lim.last.Joints...), true
		}
		return
	}
	// Hold where the robot was last commanded to be: the measured pose
	// lags the command (stepping back to it jerks the arm) and may itself
	// be the stale input. The measured pose only before any command.
	pose, grip, ok := c.inputs.CurrentPose()
	switch {
	case c.lim.have:
		c.hold.Pose, c.hold.Gripper, c.haveHold = c.lim.last.Pose, c.lim.last.Gripper, true
	case ok:
		c.hold.Pose, c.hold.Gripper, c.haveHold = pose, grip, true
	}
}

func (c *Controller) copyHold(out *Target) {
	out.Pose, out.Gripper = c.hold.Pose, c.hold.Gripper
	out.Joints = append(out.Joints[:0], c.hold.Joints...)
}

// StopTarget returns the command to publish on shutdown: hold where the
// robot is (or where it was last commanded).
func (c *Controller) StopTarget(out *Target) bool {
	c.enterHold(c.clock())
	if !c.haveHold {
		return false
	}
	c.copyHold(out)
	return true
}

// Close releases the preprocessing workers. Call it after RunInference
// has returned; the Controller must not be used afterwards.
func (c *Controller) Close() { c.pre.Close() }
