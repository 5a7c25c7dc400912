package observe

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vla3d/vla3d/bag"
)

// Player replays a recording into an Assembler the way the live node
// receives it: every message of the routed topics in receive order, the
// assembler's clock at the message's receive time (so freshness rules
// judge the recorded timing, not how fast the replay runs), and a
// synchronized set handed to OnReady once every message recorded at the
// same instant has been delivered, as the node's worker sees it after
// waking up. Not safe for concurrent use.
type Player struct {
	asm    *Assembler
	routes map[string]Route
	// Extra routes recording-only topics (e.g. the recorded action) to the
	// caller, in the same receive order.
	Extra map[string]func(bag.Message) error
	// OnReady is called while a synchronized set is pending, before the
	// first message recorded after it is delivered, and at Finish. It
	// normally calls Assembler.Snapshot; a set it leaves (held back for tf
	// or state) is offered again at the next instant.
	OnReady func() error
	// OnBad is told of every message a handler refused (decode errors,
	// wrong frames); the replay goes on. It defaults to ignoring them.
	OnBad func(topic string, err error)
	// DecodeTime and IntakeTime, when set, are told how long each message
	// took to decode and to take in (latency reports).
	DecodeTime, IntakeTime func(time.Duration)

	types   bag.TypeCache
	now     time.Time
	pending bool
	readyAt time.Time
}

// NewPlayer returns a player feeding a new assembler for cfg whose clock is
// the replay clock.
func NewPlayer(cfg Config) (*Player, error) {
	p := &Player{}
	a, err := New(cfg, func() time.Time { return p.now })
	if err != nil {
		return nil, err
	}
	p.asm = a
	p.routes = map[string]Route{}
	for _, r := range a.Routes() {
		p.routes[r.Topic] = r
	}
	return p, nil
}

// Assembler is the assembler being fed.
func (p *Player) Assembler() *Assembler { return p.asm }

// Now is the replay clock: the receive time of the latest message.
func (p *Player) Now() time.Time { return p.now }

// Topics lists the routed and extra topics, sorted.
func (p *Player) Topics() []string {
	out := make([]string, 0, len(p.routes)+len(p.Extra))
	for t := range p.routes {
		out = append(out, t)
	}
	for t := range p.Extra {
		if _, dup := p.routes[t]; !dup {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// Play delivers the messages of src matching q (Topics empty: every routed
// and extra topic). Refused messages go to OnBad and the replay goes on; an
// OnReady error ends it and is returned as is.
func (p *Player) Play(ctx context.Context, src bag.Source, q bag.Query) error {
	if len(q.Topics) == 0 {
		q.Topics = p.Topics()
	}
	it := src.Read(ctx, q)
	for it.Next() {
		m := it.Message()
		if p.pending && m.Time.After(p.readyAt) {
			if err := p.ready(); err != nil {
				return err
			}
		}
		if m.Time.After(p.now) {
			p.now = m.Time
		}
		if err := p.deliver(m); err != nil && p.OnBad != nil {
			p.OnBad(m.Conn.Topic, err)
		}
		p.poll()
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("observe: reading %s: %w", src.Info().Path, err)
	}
	return nil
}

func (p *Player) deliver(m bag.Message) error {
	if h := p.Extra[m.Conn.Topic]; h != nil {
		if err := h(m); err != nil {
			return err
		}
	}
	r, ok := p.routes[m.Conn.Topic]
	if !ok {
		return nil
	}
	t0 := time.Now()
	msg := r.New()
	err := m.Decode(&p.types, msg)
	t1 := time.Now()
	if p.DecodeTime != nil {
		p.DecodeTime(t1.Sub(t0))
	}
	if err != nil {
		return err
	}
	err = r.Handle(msg)
	if p.IntakeTime != nil {
		p.IntakeTime(time.Since(t1))
	}
	return err
}

// poll notes a newly signalled set (or a held-back set that may now complete).
func (p *Player) poll() {
	select {
	case <-p.asm.Ready():
		p.pending, p.readyAt = true, p.now
	default:
	}
}

func (p *Player) ready() error {
	p.pending = false
	if p.OnReady == nil {
		return nil
	}
	if err := p.OnReady(); err != nil {
		return err
	}
	// A set left pending (held back) is offered again at the next instant.
	if _, ok := p.asm.Pending(); ok {
		p.pending, p.readyAt = true, p.now
	}
	return nil
}

// Finish ends the recording: the synchronizer is flushed so the last set
// is emitted, and every pending set is offered to OnReady.
func (p *Player) Finish() error {
	if err := p.asm.Flush(); err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	p.poll()
	if !p.pending {
		return nil
	}
	if err := p.ready(); err != nil || !p.pending {
		return err
	}
	// Nothing more will arrive: a held-back set is offered once more
	// after its wait has run out.
	p.now = p.now.Add(p.asm.cfg.TF.Wait.Duration + time.Nanosecond)
	err := p.ready()
	p.pending = false
	return err
}
