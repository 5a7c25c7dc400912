package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/trajectory_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/visualization_msgs"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/observe"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/transport/dial"
)

// eeChunkNames label the columns of an end-effector chunk published as a
// trajectory_msgs/JointTrajectory (one point per step, time_from_start =
// k*period, header.stamp = the observation's stamp).
var eeChunkNames = [msgs.EEActionDim]string{"dx", "dy", "dz", "droll", "dpitch", "dyaw", "gripper"}

// diagnosticsPeriod is how often /diagnostics is published (ROS convention: 1 Hz).
const diagnosticsPeriod = time.Second

// Node is the running ROS node.
type Node struct {
	cfg    Config
	log    *zap.Logger
	pol    policy.Policy
	clock  func() time.Time
	getenv func(string) string
	inputs *observe.Assembler
	ctl    *Controller
}

// New prepares a node for cfg driving pol (the node does not close pol).
func New(cfg Config, pol policy.Policy, log *zap.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: log, pol: pol, clock: time.Now, getenv: os.Getenv}
	var err error
	if n.inputs, err = observe.New(n.cfg.Observe(), n.clock); err != nil {
		return nil, err
	}
	if n.ctl, err = NewController(&n.cfg, pol, n.inputs, log, n.clock); err != nil {
		return nil, err
	}
	return n, nil
}

// masterAddress resolves the master from config or $ROS_MASTER_URI.
func masterAddress(cfg string) string {
	if cfg == "" {
		cfg = os.Getenv("ROS_MASTER_URI")
	}
	cfg = strings.TrimPrefix(cfg, "http://")
	return strings.TrimSuffix(cfg, "/")
}

func hostAddress(cfg string) string {
	if cfg != "" {
		return cfg
	}
	if ip := os.Getenv("ROS_IP"); ip != "" {
		return ip
	}
	return os.Getenv("ROS_HOSTNAME")
}

// ErrShutDownByMaster is returned by Run when the ROS master shut the node
// down (`rosnode kill`, or another node registering the same name).
var ErrShutDownByMaster = errors.New("node: shut down by the ROS master")

// Run joins the ROS graph over the configured transport (ROS 2 DDS, or a
// ROS 1 master), runs until ctx is cancelled, then
// publishes a stop (hold) command and shuts down cleanly. A Node runs once.
// When the master shuts the node down, Run tries to publish the stop,
// logs why and returns an error wrapping ErrShutDownByMaster, so the
// process exits non-zero instead of living on without ROS.
func (n *Node) Run(ctx context.Context) (err error) {
	cfg := &n.cfg
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rn, err := dial.Open(dial.Conf{Kind: cfg.Transport, Name: cfg.NodeName,
		MasterAddress: masterAddress(cfg.MasterURI), Host: hostAddress(cfg.Host),
		OnShutdown: func(reason string) { cancel(fmt.Errorf("%w (%s)", ErrShutDownByMaster, reason)) },
		ROS2:       cfg.ROS2, Getenv: n.getenv, Logger: n.log,
		OnEvent: func(e transport.Event) {
			if e.Kind == transport.TypeMismatch {
				n.ctl.stats.typeMismatches.Add(1)
			} else {
				n.ctl.stats.qosMismatches.Add(1)
			}
		}})
	if err != nil {
		return fmt.Errorf("node: join the ROS graph (%s): %w", cfg.Transport, err)
	}
	defer rn.Close()

	pubs, err := n.publishers(rn)
	if err != nil {
		return err
	}
	defer pubs.close()
	n.ctl.OnChunk = pubs.chunk
	if pubs.markers != nil {
		n.ctl.OnPerception = pubs.perception
	}

	subs, err := n.subscribe(rn)
	if err != nil {
		return err
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	watching.Add(1)
	go func() {
		defer watching.Done()
		subs.watch(watchCtx, n)
	}()
	defer func() {
		stopWatch()
		watching.Wait()
		subs.close()
	}()
	n.log.Info("node running", zap.String("name", cfg.NodeName), zap.String("transport", string(cfg.Transport)), zap.Int("cameras", len(cfg.Cameras)),
		zap.Float64("control_hz", cfg.ControlHz), zap.String("mode", string(cfg.Execution.Mode)), zap.String("output", string(cfg.Execution.Output)))

	workerCtx, stopWorker := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.ctl.RunInference(workerCtx)
	}()
	n.controlLoop(ctx, pubs)
	stopWorker()
	wg.Wait()
	defer n.ctl.Close()

	// Stop: hold where the robot is, published before the publishers close.
	cause := context.Cause(ctx)
	shutDown := errors.Is(cause, ErrShutDownByMaster)
	var stop Target
	if n.ctl.StopTarget(&stop) {
		pubs.command(&stop, n.clock())
		// Give the publisher goroutines a moment to flush the stop to subscribers.
		time.Sleep(100 * time.Millisecond)
		if shutDown {
			n.log.Warn("tried to publish a stop command; the ROS node is already shut down, so subscribers may not receive it")
		} else {
			n.log.Info("published stop command")
		}
	}
	if shutDown {
		n.log.Error("the ROS master shut this node down: exiting", zap.Error(cause))
		return cause
	}
	return nil
}

func (n *Node) controlLoop(ctx context.Context, pubs *publishers) {
	tick := time.NewTicker(n.cfg.ControlPeriod())
	defer tick.Stop()
	nextDiag := n.clock().Add(diagnosticsPeriod)
	var prevInputs observe.Stats
	var target Target
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := n.clock()
		res := n.ctl.Tick(now, &target)
		t1 := n.clock()
		n.ctl.stats.addStage(StageTick, t1.Sub(now))
		if res.Valid {
			pubs.command(&target, now)
			pubs.commandMarker(&target, now)
			n.ctl.stats.addStage(StagePublish, n.clock().Sub(t1))
		}
		if !now.Before(nextDiag) {
			d := n.ctl.Diagnostics(now, &prevInputs)
			pubs.write(pubs.diag, &d)
			nextDiag = now.Add(diagnosticsPeriod)
		}
	}
}

type publishers struct {
	cfg     *Config
	log     *zap.Logger
	pose    transport.Publisher
	gripper transport.Publisher
	joints  transport.Publisher
	chunkP  transport.Publisher
	diag    transport.Publisher
	markers transport.Publisher // nil unless markers.enabled
	names   []string
	chunkMu sync.Mutex
	plan    []msgs.Pose // worker-owned marker scratch
	failing sync.Map    // transport.Publisher -> struct{}: a write failed and was logged
}

// write publishes msg on pub, logging the first failure of a run of them.
func (p *publishers) write(pub transport.Publisher, msg any) {
	if err := pub.Write(msg); err != nil {
		if _, logged := p.failing.LoadOrStore(pub, struct{}{}); !logged {
			p.log.Warn("publishing failed", zap.Error(err))
		}
		return
	}
	p.failing.Delete(pub)
}

func (n *Node) publishers(rn transport.Transport) (*publishers, error) {
	cfg := &n.cfg
	p := &publishers{cfg: cfg, log: n.log}
	var err error
	mk := func(topic string, msg any) transport.Publisher {
		if err != nil {
			return nil
		}
		var pub transport.Publisher
		pub, err = rn.Publish(topic, msg, cfg.ROS2.Profile(topic, transport.Default))
		if err != nil {
			err = fmt.Errorf("node: publisher %s: %w", topic, err)
		}
		return pub
	}
	if cfg.Execution.Output == contract.OutputJoint {
		p.joints = mk(cfg.Topics.CommandJoints, &trajectory_msgs.JointTrajectory{})
	} else {
		p.pose = mk(cfg.Topics.CommandPose, &geometry_msgs.PoseStamped{})
		p.gripper = mk(cfg.Topics.CommandGripper, &std_msgs.Float64{})
	}
	p.chunkP = mk(cfg.Topics.Chunk, &trajectory_msgs.JointTrajectory{})
	p.diag = mk(cfg.Topics.Diagnostics, &diagnostic_msgs.DiagnosticArray{})
	if cfg.Markers.Enabled {
		p.markers = mk(cfg.Markers.Topic, &visualization_msgs.MarkerArray{})
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *publishers) close() {
	for _, pub := range []transport.Publisher{p.pose, p.gripper, p.joints, p.chunkP, p.diag, p.markers} {
		if pub != nil {
			pub.Close()
		}
	}
}

// command publishes one command. ROS 1 serializes asynchronously, so each
// message's slices are fresh (never a reused buffer).
func (p *publishers) command(t *Target, now time.Time) {
	if p.joints != nil {
		pt := trajectory_msgs.JointTrajectoryPoint{Positions: append([]float64(nil), t.Joints...), TimeFromStart: 0}
		p.write(p.joints, &trajectory_msgs.JointTrajectory{Header: rosconv.Header(now, p.cfg.BaseFrame),
			JointNames: p.cfg.Execution.JointNames, Points: []trajectory_msgs.JointTrajectoryPoint{pt}})
		return
	}
	ps := rosconv.PoseStampedToROS(t.Pose, now, p.cfg.BaseFrame)
	p.write(p.pose, &ps)
	p.write(p.gripper, &std_msgs.Float64{Data: t.Gripper})
}

// perception publishes the markers of one inference (inference worker; a
// fresh message each time: ROS 1 serializes asynchronously).
func (p *publishers) perception(perc *policy.Perception, obs *msgs.Observation, c *msgs.ActionChunk) {
	p.plan = p.plan[:0]
	if p.cfg.Execution.Output != contract.OutputJoint {
		p.plan = PlanTargets(p.plan, obs.EEPose, c)
	}
	m := &visualization_msgs.MarkerArray{}
	BuildMarkers(m, perc, p.plan, p.cfg.BaseFrame, obs.Stamp, p.cfg.Markers)
	p.write(p.markers, m)
}

// commandMarker publishes the current end-effector command (control loop).
func (p *publishers) commandMarker(t *Target, now time.Time) {
	if p.markers == nil || p.joints != nil {
		return
	}
	if m, ok := CommandMarker(t, p.cfg.BaseFrame, now, p.cfg.Markers); ok {
		p.write(p.markers, &visualization_msgs.MarkerArray{Markers: []visualization_msgs.Marker{m}})
	}
}

// chunk publishes the raw action chunk (called by the inference worker).
func (p *publishers) chunk(c *msgs.ActionChunk) {
	p.chunkMu.Lock()
	defer p.chunkMu.Unlock()
	names := p.cfg.Execution.JointNames
	if p.cfg.Execution.Output != contract.OutputJoint || len(names) != c.Dim {
		names = p.chunkNames(c.Dim)
	}
	m := &trajectory_msgs.JointTrajectory{}
	if err := rosconv.ChunkToJointTrajectory(c, names, p.cfg.BaseFrame, m); err != nil {
		p.log.Warn("cannot publish chunk", zap.Error(err))
		return
	}
	p.write(p.chunkP, m)
}

func (p *publishers) chunkNames(dim int) []string {
	if len(p.names) == dim {
		return p.names
	}
	p.names = make([]string, dim)
	for i := range dim {
		if i < len(eeChunkNames) {
			p.names[i] = eeChunkNames[i]
		} else {
			p.names[i] = fmt.Sprintf("a%d", i)
		}
	}
	return p.names
}

// subscriptions are the node's live subscribers, one per route, with the
// local time each last delivered a message.
type subscriptions struct {
	rn     transport.Transport
	mu     sync.Mutex
	subs   map[string]transport.Subscription
	routes map[string]observe.Route
	last   map[string]*atomic.Int64 // unix ns of the last message
	redone map[string]time.Time
}

// subscribe subscribes to every route of the assembler (the topic table
// bag replay uses too); callbacks log per-topic errors once per error
// episode.
func (n *Node) subscribe(rn transport.Transport) (*subscriptions, error) {
	s := &subscriptions{rn: rn, subs: map[string]transport.Subscription{}, routes: map[string]observe.Route{},
		last: map[string]*atomic.Int64{}, redone: map[string]time.Time{}}
	for _, r := range n.inputs.Routes() {
		s.routes[r.Topic], s.last[r.Topic] = r, &atomic.Int64{}
		s.last[r.Topic].Store(n.clock().UnixNano())
		if err := s.open(n, r.Topic); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

func (s *subscriptions) open(n *Node, topic string) error {
	r, last := s.routes[topic], s.last[topic]
	cb := n.callback(r, func() { last.Store(n.clock().UnixNano()) })
	sub, err := s.rn.Subscribe(topic, r.New, cb, n.cfg.ROS2.Profile(topic, n.inputProfile(topic)), n.decodeErrors(topic))
	if err != nil {
		return fmt.Errorf("node: subscribe %s: %w", topic, err)
	}
	s.mu.Lock()
	s.subs[topic] = sub
	s.mu.Unlock()
	return nil
}

func (s *subscriptions) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
		sub.Close()
	}
	s.subs = map[string]transport.Subscription{}
}

// resubscribeAfter is how long a streaming input may stay silent before
// its subscriber is recreated: a publisherUpdate that dropped the feed (a
// restarted driver, a hostile peer) is repaired by registering again,
// which returns the master's current publishers.
const resubscribeAfter = 2 * time.Second

// watch recreates the subscriber of a streaming input (cameras, tf, pose,
// joints) that has been silent for resubscribeAfter, at most once per
// resubscribeAfter; latched and rare topics (camera_info, tf_static,
// instruction) are left alone. Only ROS 1 needs it: DDS rediscovers
// publishers by itself.
func (s *subscriptions) watch(ctx context.Context, n *Node) {
	if n.cfg.Transport != transport.ROS1 {
		return
	}
	quiet := map[string]bool{n.cfg.Topics.TFStatic: true, n.cfg.Topics.Instruction: true}
	for _, c := range n.cfg.Cameras {
		quiet[c.InfoTopic] = true
	}
	tick := time.NewTicker(resubscribeAfter / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := n.clock()
		for topic, last := range s.last {
			silent := now.Sub(time.Unix(0, last.Load()))
			if quiet[topic] || silent < resubscribeAfter || now.Sub(s.redone[topic]) < resubscribeAfter {
				continue
			}
			s.redone[topic] = now
			s.mu.Lock()
			old := s.subs[topic]
			delete(s.subs, topic)
			s.mu.Unlock()
			if old != nil {
				old.Close()
			}
			if ctx.Err() != nil {
				return
			}
			if err := s.open(n, topic); err != nil {
				n.log.Warn("resubscribing failed", zap.String("topic", topic), zap.Error(err))
				continue
			}
			n.log.Info("resubscribed to a silent input", zap.String("topic", topic), zap.Duration("silent", silent.Round(time.Millisecond)))
		}
	}
}

// callback feeds route r's messages to the assembler.
func (n *Node) callback(r observe.Route, received func()) func(any) {
	logErr := n.onceLogger(r.Topic)
	instruction := r.Topic == n.cfg.Topics.Instruction
	return func(m any) {
		received()
		gen := uint64(0)
		if instruction {
			gen = n.inputs.InstructionGen()
		}
		logErr(r.Handle(m))
		if instruction && n.inputs.InstructionGen() != gen {
			n.log.Info("instruction changed", zap.String("text", n.inputs.Instruction()))
		}
	}
}

// inputProfile is the QoS an input topic is subscribed with: latched
// topics (tf_static, the instruction) transient local, so the last message
// reaches a node that starts later; every stream best effort, which
// matches best-effort and reliable publishers alike.
func (n *Node) inputProfile(topic string) transport.Profile {
	if topic == n.cfg.Topics.TFStatic || topic == n.cfg.Topics.Instruction {
		return transport.Latched
	}
	return transport.SensorData
}

// decodeErrors counts and logs (once per episode) messages that arrived on
// topic but could not be decoded (malformed CDR).
func (n *Node) decodeErrors(topic string) func(error) {
	logErr := n.onceLogger(topic)
	return func(err error) {
		n.ctl.stats.malformed.Add(1)
		logErr(err)
	}
}

// onceLogger returns a function that logs an input error once when an
// error episode starts on topic, and once when it ends — after the topic
// has been good for recoverAfter, so messages alternating good and bad log
// one episode, not a line each.
func (n *Node) onceLogger(topic string) func(error) {
	const recoverAfter = time.Second
	var mu sync.Mutex
	failing := false
	var lastBad time.Time
	refused := 0
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		now := n.clock()
		switch {
		case err != nil && !failing:
			failing, lastBad, refused = true, now, 1
			n.log.Warn("input rejected", zap.String("topic", topic), zap.Error(err))
		case err != nil:
			lastBad = now
			refused++
		case failing && now.Sub(lastBad) >= recoverAfter:
			failing = false
			n.log.Info("input accepted again", zap.String("topic", topic), zap.Int("rejected", refused))
		}
	}
}
