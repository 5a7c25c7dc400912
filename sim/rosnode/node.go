// Package rosnode runs the simulated robot as a ROS node (ROS 2 over DDS by
// default, or ROS 1 through goroslib; package transport): it
// publishes every camera's colour, depth, calibration and labels, /tf and
// /tf_static, the end-effector pose, joint states and the latched
// instruction at the control rate, and executes end-effector pose and
// gripper commands it receives.
package rosnode

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/sim"
	"github.com/vla3d/vla3d/sim/rosio"
	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/transport/dial"
)

// Config configures the node.
type Config struct {
	// Transport is ros2 (the default) or ros1.
	Transport transport.Kind
	// ROS2 settings (transport.DefaultROS2Settings defers the domain to
	// $ROS_DOMAIN_ID); Getenv (os.Getenv in a main, nil: none) fills what
	// they leave unset from the ROS 2 environment variables.
	ROS2          transport.ROS2Settings
	Getenv        func(string) string
	MasterAddress string // ROS 1: host:port of roscore (default 127.0.0.1:11311)
	Host          string // ROS 1: this node's address as seen by others (default: goroslib's choice)
	Name          string // node name (default "vla3d_sim")
	// Topics names what the simulator publishes and the commands it takes:
	// Topics.CommandPose (geometry_msgs/PoseStamped, base frame) sets the
	// end-effector target, Topics.CommandGripper (std_msgs/Float64, 0 open
	// .. 1 closed) the gripper.
	Topics rosio.Topics
	Spec   sim.EpisodeSpec
	// Expert drives the robot with the scripted expert until the first
	// external command arrives (a self-running demo).
	Expert bool
	// AutoReset starts the next episode (seed+1) after success or MaxSteps.
	AutoReset bool
	// (optional) ResetSettle is how long after an automatic reset the robot
	// ignores external commands, as a robot ignores them while it homes:
	// the teleported pose is a fault to a policy node, which holds the last
	// episode's target and refuses the jumped pose for about a second, and
	// would drag the new episode's start toward the old target (the bundled
	// policy then failed every episode after the first; with 2 s it solved
	// the same layouts as in vla3d-sim eval). It defaults to 2 s.
	ResetSettle time.Duration
	// MaxLinearSpeed (m/s) and MaxAngularSpeed (rad/s) bound how fast an
	// external command may move the end-effector target: the simulated
	// robot's own limit, whoever publishes on its command topic. They
	// default to 0.5 m/s and 2 rad/s.
	MaxLinearSpeed, MaxAngularSpeed float64
	MaxSteps                        int // default 300
	Logger                          *zap.Logger
}

func (c *Config) defaults() {
	if c.Transport == "" {
		c.Transport = transport.ROS2
	}
	if c.MasterAddress == "" {
		c.MasterAddress = "127.0.0.1:11311"
	}
	if c.Name == "" {
		c.Name = "vla3d_sim"
	}
	if c.Topics == (rosio.Topics{}) {
		c.Topics = rosio.DefaultTopics()
	}
	if c.MaxSteps == 0 {
		c.MaxSteps = 300
	}
	if c.ResetSettle == 0 {
		c.ResetSettle = 2 * time.Second
	}
	if c.MaxLinearSpeed == 0 {
		c.MaxLinearSpeed = 0.5
	}
	if c.MaxAngularSpeed == 0 {
		c.MaxAngularSpeed = 2
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
}

// command is the latest external command.
type command struct {
	mu       sync.Mutex
	pose     *msgs.Pose
	gripper  float64
	external bool // any command received
	// ignoreUntil: commands arriving before it are dropped (ResetSettle).
	ignoreUntil time.Time
	rejected    int
	clamped     int // commands the speed limit clamped
}

// reset forgets the last command and drops those arriving before until
// (Config.ResetSettle); a zero until leaves the current settle as it is.
func (c *command) reset(until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pose, c.gripper, c.external = nil, 0, false
	if !until.IsZero() {
		c.ignoreUntil = until
	}
}

// settling reports whether a command arriving at now is dropped (mu held).
func (c *command) settling(now time.Time) bool { return now.Before(c.ignoreUntil) }

// Node is a running simulator node.
type Node struct {
	cfg     Config
	env     *sim.Env
	node    transport.Transport
	pubs    map[string]transport.Publisher
	subs    []transport.Subscription
	cmd     command
	expert  *sim.Expert
	static  map[string]bool
	episode int
	ended   bool // the end marker of this episode was published
	// finished and succeeded count the episodes that ended (success or
	// MaxSteps) and those that succeeded, for the run's summary.
	finished, succeeded int
}

// Run resets env to cfg.Spec, connects to the master and runs the control
// loop until ctx is cancelled.
func Run(ctx context.Context, env *sim.Env, cfg Config) error {
	cfg.defaults()
	if err := env.Reset(ctx, cfg.Spec); err != nil {
		return err
	}
	log := cfg.Logger
	rn, err := dial.Open(dial.Conf{Kind: cfg.Transport, Name: cfg.Name, MasterAddress: cfg.MasterAddress, Host: cfg.Host,
		ROS2: cfg.ROS2, Getenv: cfg.Getenv, Logger: log})
	if err != nil {
		return fmt.Errorf("rosnode: join the ROS graph (%s): %w", cfg.Transport, err)
	}
	n := &Node{cfg: cfg, env: env, node: rn, pubs: map[string]transport.Publisher{}, expert: sim.NewExpert(env)}
	defer n.close()
	defer func() {
		log.Info("simulator node stopped: episodes summary", zap.Int("episodes_finished", n.finished),
			zap.Int("episodes_succeeded", n.succeeded), zap.Int("episode_in_progress_steps", n.env.Steps()))
	}()
	if err := n.subscribe(); err != nil {
		return err
	}
	if err := n.startEpisode(); err != nil {
		return err
	}
	log.Info("simulator node running", zap.String("transport", string(cfg.Transport)), zap.String("task", cfg.Spec.Task),
		zap.String("split", cfg.Spec.Split), zap.Duration("period", env.ControlPeriod()))
	tick := time.NewTicker(env.ControlPeriod())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := n.step(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

func (n *Node) close() {
	for _, s := range n.subs {
		s.Close()
	}
	for _, p := range n.pubs {
		p.Close()
	}
	n.node.Close()
}

func (n *Node) subscribe() error {
	log := n.cfg.Logger
	onErr := func(err error) { log.Warn("malformed command", zap.Error(err)) }
	ps, err := n.node.Subscribe(n.cfg.Topics.CommandPose, func() any { return &geometry_msgs.PoseStamped{} },
		func(msg any) {
			m := msg.(*geometry_msgs.PoseStamped)
			p, err := n.cfg.Topics.PoseCommand(m)
			n.cmd.mu.Lock()
			defer n.cmd.mu.Unlock()
			if err != nil {
				n.cmd.rejected++
				log.Warn("pose command rejected", zap.Error(err))
				return
			}
			if n.cmd.settling(time.Now()) {
				return
			}
			n.cmd.pose, n.cmd.external = &p, true
		}, n.cfg.ROS2.Profile(n.cfg.Topics.CommandPose, transport.Default), onErr)
	if err != nil {
		return fmt.Errorf("rosnode: subscribe %s: %w", n.cfg.Topics.CommandPose, err)
	}
	n.subs = append(n.subs, ps)
	gs, err := n.node.Subscribe(n.cfg.Topics.CommandGripper, func() any { return &std_msgs.Float64{} },
		func(msg any) {
			m := msg.(*std_msgs.Float64)
			n.cmd.mu.Lock()
			defer n.cmd.mu.Unlock()
			if math.IsNaN(m.Data) || math.IsInf(m.Data, 0) {
				n.cmd.rejected++
				log.Warn("gripper command rejected", zap.Float64("value", m.Data))
				return
			}
			if n.cmd.settling(time.Now()) {
				return
			}
			n.cmd.gripper, n.cmd.external = math.Max(0, math.Min(1, m.Data)), true
		}, n.cfg.ROS2.Profile(n.cfg.Topics.CommandGripper, transport.Default), onErr)
	if err != nil {
		return fmt.Errorf("rosnode: subscribe %s: %w", n.cfg.Topics.CommandGripper, err)
	}
	n.subs = append(n.subs, gs)
	return nil
}

// publish writes m, creating its publisher on first use.
func (n *Node) publish(m rosio.Message) error {
	p, ok := n.pubs[m.Topic]
	if !ok {
		var err error
		p, err = n.node.Publish(m.Topic, m.Msg, n.cfg.ROS2.Profile(m.Topic, n.profile(m)))
		if err != nil {
			return fmt.Errorf("rosnode: publisher %s: %w", m.Topic, err)
		}
		n.pubs[m.Topic] = p
	}
	if err := p.Write(m.Msg); err != nil {
		n.cfg.Logger.Debug("publish failed", zap.String("topic", m.Topic), zap.Error(err))
	}
	return nil
}

// profile is the QoS a simulator topic is published with: latched topics
// transient local; images and camera_info sensor data (as camera drivers
// publish); the rest ROS 2's default.
func (n *Node) profile(m rosio.Message) transport.Profile {
	switch {
	case m.Latch:
		return transport.Latched
	case strings.HasSuffix(m.Topic, "/image_raw") || strings.HasSuffix(m.Topic, "/camera_info"):
		return transport.SensorData
	}
	return transport.Default
}

// startEpisode publishes the latched per-episode messages.
func (n *Node) startEpisode() error {
	n.ended = false
	n.static = map[string]bool{}
	for _, c := range n.env.Scene().Cameras {
		n.static[c.Name] = !c.Wrist
	}
	obs, err := n.env.Observe(context.Background())
	if err != nil {
		return err
	}
	now := time.Now()
	spec := n.env.Spec()
	ev, err := n.cfg.Topics.EpisodeMsg(rosio.EpisodeEvent{Event: "start", Episode: n.episode, Task: spec.Task,
		Split: spec.Split, Severity: spec.Severity, Seed: spec.Seed, Instruction: obs.Instruction})
	if err != nil {
		return err
	}
	objs, err := n.cfg.Topics.ObjectsMsg(rosio.SceneObjects(n.env.Scene()))
	if err != nil {
		return err
	}
	for _, m := range []rosio.Message{n.cfg.Topics.InstructionMsg(obs.Instruction), n.cfg.Topics.StaticTFMsg(obs, n.static, now), ev, objs} {
		if err := n.publish(m); err != nil {
			return err
		}
	}
	return n.publishObservation(obs, now)
}

func (n *Node) publishObservation(obs *msgs.Observation, stamp time.Time) error {
	ms, err := n.cfg.Topics.ObservationMsgs(obs, sim.JointNames(), n.static, stamp)
	if err != nil {
		return err
	}
	ms = append(ms, n.cfg.Topics.ObjectPosesMsg(rosio.StatePoses(n.env.State()), stamp))
	for _, m := range ms {
		if err := n.publish(m); err != nil {
			return err
		}
	}
	return nil
}

// act executes the current command (or the expert) for one control period.
func (n *Node) act(ctx context.Context) error {
	n.cmd.mu.Lock()
	pose, grip, external := n.cmd.pose, n.cmd.gripper, n.cmd.external
	n.cmd.mu.Unlock()
	if n.cfg.Expert && !external {
		a, err := n.expert.Action(ctx)
		if err != nil {
			return err
		}
		return n.env.Step(ctx, a)
	}
	st := n.env.State()
	pos, q := st.TargetPos, st.TargetQuat
	if pose != nil {
		var clamped bool
		pos, q, clamped = n.limit(st.TargetPos, st.TargetQuat, pose.Position, perception.QuatFromArray(pose.Orientation))
		if clamped {
			n.cmd.mu.Lock()
			n.cmd.clamped++
			first := n.cmd.clamped == 1
			n.cmd.mu.Unlock()
			if first {
				n.cfg.Logger.Warn("command faster than the simulated robot's speed limit: clamped (logged once)",
					zap.Float64("max_linear_speed", n.cfg.MaxLinearSpeed), zap.Float64("max_angular_speed", n.cfg.MaxAngularSpeed))
			}
		}
	}
	return n.env.StepTo(ctx, pos, q, grip)
}

// limit moves the target from (pos, q) toward the command (cpos, cq) by at
// most one control period at the configured speeds.
func (n *Node) limit(pos [3]float64, q perception.Quat, cpos [3]float64, cq perception.Quat) ([3]float64, perception.Quat, bool) {
	dt := 1 / n.env.Config().ControlHz
	clamped := false
	d := [3]float64{cpos[0] - pos[0], cpos[1] - pos[1], cpos[2] - pos[2]}
	if dist, max := math.Sqrt(d[0]*d[0]+d[1]*d[1]+d[2]*d[2]), n.cfg.MaxLinearSpeed*dt; dist > max {
		for k := range 3 {
			cpos[k] = pos[k] + d[k]*max/dist
		}
		clamped = true
	}
	cq = cq.Normalize()
	if ang, max := q.Angle(cq), n.cfg.MaxAngularSpeed*dt; ang > max {
		cq = q.Slerp(cq, max/ang)
		clamped = true
	}
	return cpos, cq, clamped
}

// restart resets the current episode after a simulation fault, so the node
// keeps serving instead of exiting.
func (n *Node) restart(ctx context.Context, cause error) error {
	n.cfg.Logger.Error("simulation step failed; restarting the episode", zap.Error(cause))
	if err := n.env.Reset(ctx, n.env.Spec()); err != nil {
		return err
	}
	n.cmd.reset(time.Time{})
	return n.startEpisode()
}

// step executes one control period, then publishes.
func (n *Node) step(ctx context.Context) error {
	if err := n.act(ctx); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return n.restart(ctx, err)
	}
	obs, err := n.env.Observe(ctx)
	if err != nil {
		return err
	}
	if err := n.publishObservation(obs, time.Now()); err != nil {
		return err
	}
	ok, _ := n.env.Success()
	if n.ended || (!ok && n.env.Steps() < n.cfg.MaxSteps) {
		return nil
	}
	spec := n.env.Spec()
	end, err := n.cfg.Topics.EpisodeMsg(rosio.EpisodeEvent{Event: "end", Episode: n.episode, Task: spec.Task,
		Split: spec.Split, Severity: spec.Severity, Seed: spec.Seed, Instruction: obs.Instruction, Success: &ok, Steps: n.env.Steps()})
	if err != nil {
		return err
	}
	if err := n.publish(end); err != nil {
		return err
	}
	n.finished++
	if ok {
		n.succeeded++
	}
	n.cfg.Logger.Info("episode ended", zap.Int("episode", n.episode), zap.Uint64("seed", spec.Seed), zap.Bool("success", ok),
		zap.Int("steps", n.env.Steps()), zap.Int("episodes_finished", n.finished), zap.Int("episodes_succeeded", n.succeeded))
	if !n.cfg.AutoReset {
		// Keep running (and accepting commands) in the finished scene, but
		// report the end only once.
		n.ended = true
		return nil
	}
	spec.Seed++
	n.episode++
	if err := n.env.Reset(ctx, spec); err != nil {
		return err
	}
	n.cmd.reset(time.Now().Add(n.cfg.ResetSettle))
	return n.startEpisode()
}
