// Package ros2 implements transport.Transport over DDS as rmw_cyclonedds
// does, so any ROS 2 peer (Humble to Jazzy; Cyclone DDS or Fast DDS
// underneath) sees an ordinary ROS 2 node: topics rt/<name>, types
// pkg::msg::dds_::Name_, keyless XCDR1 little endian serialised by
// bag/cdr, participant USER_DATA "enclave=/;", ROS_DOMAIN_ID, the standard
// QoS profiles, and the node announced on ros_discovery_info.
package ros2

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/bag/cdr"
	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/transport/ros2/dds"
)

// Conf configures New.
type Conf struct {
	// Name is the node name. It is required.
	Name string
	// (optional) Namespace of the node. It defaults to "/".
	Namespace string
	// (optional) Domain is the DDS domain id. It defaults to 0; FromEnv
	// takes ROS_DOMAIN_ID.
	Domain uint32
	// (optional) LocalhostOnly keeps discovery and data on the loopback
	// interface, unicast (ROS_LOCALHOST_ONLY=1 /
	// ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST). It defaults to false.
	LocalhostOnly bool
	// (optional) DDSConfig is a Cyclone DDS XML configuration. It defaults
	// to Cyclone's own (CYCLONEDDS_URI), or the localhost-only one.
	DDSConfig string
	// (optional) Distro is the ROS 2 distribution of the peers, which fixes
	// the ros_discovery_info layout (24-byte gids up to Humble). It defaults
	// to "jazzy"; FromEnv takes ROS_DISTRO.
	Distro string
	// (optional) Logger for incompatible-QoS events, decode errors and
	// discovery. It defaults to none.
	Logger *zap.Logger
	// (optional) OnEvent receives QoS and type mismatches (after they are
	// logged). It defaults to none.
	OnEvent func(transport.Event)
}

// FromEnv fills the fields left zero from the ROS 2 environment variables,
// read through getenv (os.Getenv in a main).
func (c *Conf) FromEnv(getenv func(string) string) error {
	if s := getenv("ROS_DOMAIN_ID"); s != "" && c.Domain == 0 {
		d, err := strconv.ParseUint(s, 10, 32)
		if err != nil || d > 232 {
			return fmt.Errorf("ros2: ROS_DOMAIN_ID=%q is not a domain id (0..232)", s)
		}
		c.Domain = uint32(d)
	}
	if getenv("ROS_LOCALHOST_ONLY") == "1" || strings.EqualFold(getenv("ROS_AUTOMATIC_DISCOVERY_RANGE"), "LOCALHOST") {
		c.LocalhostOnly = true
	}
	if c.Distro == "" {
		c.Distro = getenv("ROS_DISTRO")
	}
	return nil
}

// Transport is a ROS 2 node: one DDS participant.
type Transport struct {
	c   Conf
	log *zap.Logger
	p   *dds.Participant

	mu      sync.Mutex
	disc    *dds.Writer
	readers map[*dds.Reader][16]byte
	writers map[*dds.Writer][16]byte
	discBuf []byte
	foreign map[string]bool // topic + "\x00" + type already reported
	stop    chan struct{}
	stopped chan struct{}
}

// New joins the DDS domain as node c.Name.
func New(c Conf) (*Transport, error) {
	if c.Name == "" {
		return nil, errors.New("ros2: Name not provided")
	}
	if c.Namespace == "" {
		c.Namespace = "/"
	}
	if c.Distro == "" {
		c.Distro = "jazzy"
	}
	log := c.Logger
	if log == nil {
		log = zap.NewNop()
	}
	cfg := c.DDSConfig
	if cfg == "" && c.LocalhostOnly {
		cfg = dds.LocalhostConfig
	}
	t := &Transport{c: c, log: log, readers: map[*dds.Reader][16]byte{}, writers: map[*dds.Writer][16]byte{},
		foreign: map[string]bool{}, stop: make(chan struct{}), stopped: make(chan struct{})}
	var err error
	t.p, err = dds.NewParticipant(dds.ParticipantConf{Domain: c.Domain, Config: cfg, UserData: "enclave=/;",
		OnEvent: func(e dds.Event) {
			log.Warn("ROS 2 QoS mismatch", zap.String("detail", e.String()), zap.Int("total", e.Total))
			t.event(transport.Event{Kind: transport.QoSMismatch, Topic: e.Topic, Detail: e.String()})
		}})
	if err != nil {
		return nil, fmt.Errorf("ros2: %w", err)
	}
	t.disc, err = t.p.NewWriter(discoveryTopic, discoveryType, dds.QoS{Reliability: dds.Reliable, Durability: dds.TransientLocal, Depth: 1})
	if err != nil {
		t.p.Close()
		return nil, fmt.Errorf("ros2: %w", err)
	}
	t.announce()
	go t.watchTypes()
	return t, nil
}

func (t *Transport) event(e transport.Event) {
	if t.c.OnEvent != nil {
		t.c.OnEvent(e)
	}
}

// typeCheckPeriod is how often the subscribed topics are checked for
// publishers of another type.
const typeCheckPeriod = time.Second

// watchTypes reports, once per topic and type, remote publishers whose
// message type differs from what this node subscribes with: DDS silently
// never matches them.
func (t *Transport) watchTypes() {
	defer close(t.stopped)
	tick := time.NewTicker(typeCheckPeriod)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		readers := make([]*dds.Reader, 0, len(t.readers))
		for r := range t.readers {
			readers = append(readers, r)
		}
		t.mu.Unlock()
		for _, r := range readers {
			for _, typ := range r.ForeignWriters() {
				key := r.Topic() + "\x00" + typ
				t.mu.Lock()
				seen := t.foreign[key]
				t.foreign[key] = true
				t.mu.Unlock()
				if seen {
					continue
				}
				detail := fmt.Sprintf("a publisher of type %s on %s, which this node reads as %s: never matched, its messages are ignored", typ, r.Topic(), r.TypeName())
				t.log.Warn("ROS 2 type mismatch", zap.String("detail", detail))
				t.event(transport.Event{Kind: transport.TypeMismatch, Topic: r.Topic(), Detail: detail})
			}
		}
	}
}

// Participant exposes the DDS participant (tests, tools).
func (t *Transport) Participant() *dds.Participant { return t.p }

// Close leaves the domain.
func (t *Transport) Close() error {
	close(t.stop)
	<-t.stopped
	return t.p.Close()
}

// QoS returns the DDS QoS of a ROS 2 profile.
func QoS(p transport.Profile) dds.QoS {
	switch p {
	case transport.SensorData:
		return dds.QoS{Reliability: dds.BestEffort, Durability: dds.Volatile, Depth: 5}
	case transport.Latched:
		return dds.QoS{Reliability: dds.Reliable, Durability: dds.TransientLocal, Depth: 1}
	}
	return dds.QoS{Reliability: dds.Reliable, Durability: dds.Volatile, Depth: 10}
}

// announce publishes the node's entities on ros_discovery_info.
func (t *Transport) announce() {
	pg, err := t.p.GUID()
	if err != nil {
		t.log.Debug("ros2: no participant guid", zap.Error(err))
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var rs, ws [][16]byte
	for _, g := range t.readers {
		rs = append(rs, g)
	}
	for _, g := range t.writers {
		ws = append(ws, g)
	}
	info := discoveryInfo(t.c.Distro, pg, "/"+strings.Trim(t.c.Namespace, "/"), t.c.Name, rs, ws)
	if t.discBuf, err = cdr.AppendEncode(t.discBuf, info); err == nil {
		err = t.disc.Write(t.discBuf)
	}
	if err != nil {
		t.log.Debug("ros2: ros_discovery_info not published", zap.Error(err))
	}
}

func (t *Transport) resolve(topic string, msg any) (fqn, typeName string, err error) {
	if fqn, err = ResolveTopic(topic, t.c.Namespace, t.c.Name); err != nil {
		return "", "", err
	}
	wire := msg
	if a, ok := adapters[reflect.TypeOf(msg)]; ok {
		wire = a.wire()
	}
	if typeName, err = TypeName(wire); err != nil {
		return "", "", err
	}
	return fqn, typeName, nil
}

type publisher struct {
	t     *Transport
	w     *dds.Writer
	typ   reflect.Type
	topic string
	conv  *adapter

	mu   sync.Mutex
	buf  []byte
	wire any
}

// Publish creates a DDS writer on rt/<topic> with the profile's QoS.
func (t *Transport) Publish(topic string, msg any, p transport.Profile) (transport.Publisher, error) {
	fqn, typeName, err := t.resolve(topic, msg)
	if err != nil {
		return nil, err
	}
	w, err := t.p.NewWriter(DDSTopic(fqn), typeName, QoS(p))
	if err != nil {
		return nil, fmt.Errorf("ros2: publisher %s: %w", fqn, err)
	}
	pub := &publisher{t: t, w: w, typ: reflect.TypeOf(msg), topic: fqn}
	if a, ok := adapters[pub.typ]; ok {
		pub.conv, pub.wire = &a, a.wire()
	}
	if g, err := w.GUID(); err == nil {
		t.mu.Lock()
		t.writers[w] = g
		t.mu.Unlock()
		t.announce()
	}
	return pub, nil
}

// Write serialises msg into the publisher's buffer and hands it to DDS
// (which copies it once), so msg may be reused when Write returns.
func (p *publisher) Write(msg any) error {
	if reflect.TypeOf(msg) != p.typ {
		return fmt.Errorf("ros2: %s: message is %T, the publisher's type is %s", p.topic, msg, p.typ)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	src := msg
	if p.conv != nil {
		p.conv.toWire(msg, p.wire)
		src = p.wire
	}
	var err error
	if p.buf, err = cdr.AppendEncode(p.buf, src); err != nil {
		return fmt.Errorf("ros2: %s: %w", p.topic, err)
	}
	return p.w.Write(p.buf)
}

// Matched is how many ROS 2 subscriptions the publisher reaches now.
func (p *publisher) Matched() int { return p.w.Matched() }

func (p *publisher) Close() {
	p.t.mu.Lock()
	delete(p.t.writers, p.w)
	p.t.mu.Unlock()
	p.w.Close()
	p.t.announce()
}

type subscription struct {
	t *Transport
	r *dds.Reader
}

// Matched is how many ROS 2 publishers the subscription hears now.
func (s *subscription) Matched() int { return s.r.Matched() }

func (s *subscription) Close() {
	s.t.mu.Lock()
	delete(s.t.readers, s.r)
	s.t.mu.Unlock()
	s.r.Close()
	s.t.announce()
}

// Subscribe creates a DDS reader on rt/<topic>; each sample is decoded into
// a fresh newMsg() on the reader's goroutine. A sample that does not decode
// goes to onErr and is dropped.
func (t *Transport) Subscribe(topic string, newMsg func() any, cb func(msg any), p transport.Profile, onErr func(error)) (transport.Subscription, error) {
	proto := newMsg()
	fqn, typeName, err := t.resolve(topic, proto)
	if err != nil {
		return nil, err
	}
	conv, hasConv := adapters[reflect.TypeOf(proto)]
	r, err := t.p.NewReader(DDSTopic(fqn), typeName, QoS(p), func(s dds.Sample) {
		m := newMsg()
		dst := m
		if hasConv {
			dst = conv.wire()
		}
		if err := cdr.Decode(s.Data, dst); err != nil {
			if onErr != nil {
				onErr(fmt.Errorf("ros2: %s: %w", fqn, err))
			}
			return
		}
		if hasConv {
			conv.fromWire(dst, m)
		}
		cb(m)
	})
	if err != nil {
		return nil, fmt.Errorf("ros2: subscribe %s: %w", fqn, err)
	}
	if g, err := r.GUID(); err == nil {
		t.mu.Lock()
		t.readers[r] = g
		t.mu.Unlock()
		t.announce()
	}
	return &subscription{t: t, r: r}, nil
}

// Matcher is implemented by the publishers and subscriptions of this
// transport: how many remote endpoints they are matched with.
type Matcher interface{ Matched() int }
