package dds

// #cgo pkg-config: CycloneDDS
// #include <stdlib.h>
// #include "dds/dds.h"
// #include "rawcdr.h"
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"
)

// ParticipantConf configures NewParticipant.
type ParticipantConf struct {
	// (optional) Domain is the DDS domain id (ROS_DOMAIN_ID). It defaults to 0.
	Domain uint32
	// (optional) Config is a Cyclone DDS XML configuration for the domain.
	// It defaults to Cyclone's own (CYCLONEDDS_URI, else its built-in
	// defaults). When the process already has the domain, the existing one
	// is joined and Config is ignored.
	Config string
	// (optional) UserData is the participant's USER_DATA QoS; ROS 2 puts
	// "enclave=/;" there. It defaults to none.
	UserData string
	// (optional) OnEvent receives incompatible-QoS events of this
	// participant's readers and writers. It defaults to dropping them.
	OnEvent func(Event)
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// RequestedIncompatibleQoS: a remote writer offers less than a reader asks.
	RequestedIncompatibleQoS EventKind = iota
	// OfferedIncompatibleQoS: a remote reader asks more than a writer offers.
	OfferedIncompatibleQoS
)

// Event is an incompatible-QoS report that names both sides.
type Event struct {
	Kind   EventKind
	Topic  string // DDS topic name (rt/...)
	Policy string // the policy that failed, e.g. RELIABILITY
	Ours   QoS
	// Theirs describes the remote endpoints on the topic, as discovered.
	Theirs string
	Total  int // incompatible matches so far
}

func (e Event) String() string {
	side, other := "reader", "writers"
	if e.Kind == OfferedIncompatibleQoS {
		side, other = "writer", "readers"
	}
	theirs := e.Theirs
	if theirs == "" {
		theirs = "not yet discovered"
	}
	return fmt.Sprintf("incompatible QoS on %s (%s): our %s asks %s; remote %s: %s", e.Topic, e.Policy, side, e.Ours, other, theirs)
}

// Participant is a DDS domain participant.
type Participant struct {
	h       C.dds_entity_t
	onEvent func(Event)

	mu      sync.Mutex
	ws      C.dds_entity_t // waitset over the writers' status
	guard   C.dds_entity_t
	writers map[C.dds_entity_t]*Writer
	readers map[*Reader]struct{}
	done    chan struct{}
	closed  bool
}

// retErr turns a negative Cyclone return code into an error.
func retErr(what string, rc C.dds_return_t) error {
	if rc >= 0 {
		return nil
	}
	return fmt.Errorf("dds: %s: %s", what, C.GoString(C.dds_strretcode(rc)))
}

// NewParticipant creates a participant on cfg.Domain.
func NewParticipant(cfg ParticipantConf) (*Participant, error) {
	if cfg.Domain > 232 {
		return nil, fmt.Errorf("dds: domain id %d out of range (0..232)", cfg.Domain)
	}
	dom := C.dds_domainid_t(cfg.Domain)
	if cfg.Config != "" {
		cs := C.CString(cfg.Config)
		d := C.dds_create_domain(dom, cs)
		C.free(unsafe.Pointer(cs))
		if d < 0 && d != C.DDS_RETCODE_PRECONDITION_NOT_MET { // exists already: join it
			return nil, retErr("create domain (check the XML configuration)", C.dds_return_t(d))
		}
	}
	q := C.dds_create_qos()
	defer C.dds_delete_qos(q)
	if cfg.UserData != "" {
		ud := C.CBytes([]byte(cfg.UserData))
		C.dds_qset_userdata(q, ud, C.size_t(len(cfg.UserData)))
		C.free(ud)
	}
	h := C.dds_create_participant(dom, q, nil)
	if h < 0 {
		return nil, retErr("create participant", C.dds_return_t(h))
	}
	p := &Participant{h: h, onEvent: cfg.OnEvent, writers: map[C.dds_entity_t]*Writer{}, readers: map[*Reader]struct{}{}, done: make(chan struct{})}
	if p.ws = C.dds_create_waitset(h); p.ws < 0 {
		C.dds_delete(h)
		return nil, retErr("create waitset", C.dds_return_t(p.ws))
	}
	if p.guard = C.dds_create_guardcondition(h); p.guard < 0 {
		C.dds_delete(h)
		return nil, retErr("create guard condition", C.dds_return_t(p.guard))
	}
	if rc := C.dds_waitset_attach(p.ws, p.guard, 0); rc < 0 {
		C.dds_delete(h)
		return nil, retErr("attach guard condition", rc)
	}
	go p.watchWriters()
	return p, nil
}

// GUID returns the participant's 16-byte DDS GUID (what rmw uses as its gid).
func (p *Participant) GUID() ([16]byte, error) { return guidOf(p.h) }

func guidOf(h C.dds_entity_t) ([16]byte, error) {
	var g C.dds_guid_t
	var out [16]byte
	if err := retErr("get guid", C.dds_get_guid(h, &g)); err != nil {
		return out, err
	}
	for i := range out {
		out[i] = byte(g.v[i])
	}
	return out, nil
}

// ErrClosed is returned by operations on a closed participant or endpoint.
var ErrClosed = errors.New("dds: closed")

// topic creates the DDS topic name of typeName (a fresh raw-CDR sertype;
// Cyclone may substitute the one it already has for the name).
func (p *Participant) topic(name, typeName string, q *C.dds_qos_t) (C.dds_entity_t, *C.struct_ddsi_sertype, error) {
	ct := C.CString(typeName)
	defer C.free(unsafe.Pointer(ct))
	st := C.vla3d_rawcdr_sertype(ct)
	if st == nil {
		return 0, nil, errors.New("dds: out of memory")
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	t := C.dds_create_topic_sertype(p.h, cn, &st, q, nil, nil)
	if t < 0 {
		return 0, nil, retErr(fmt.Sprintf("create topic %s (%s)", name, typeName), C.dds_return_t(t))
	}
	return t, st, nil
}

// endpoint creates a writer (or a reader) of typeName on topic with QoS q,
// and returns it with its topic's sertype.
func (p *Participant) endpoint(topic, typeName string, q QoS, writer bool) (C.dds_entity_t, *C.struct_ddsi_sertype, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return 0, nil, ErrClosed
	}
	cq := q.cqos()
	defer C.dds_delete_qos(cq)
	t, st, err := p.topic(topic, typeName, cq)
	if err != nil {
		return 0, nil, err
	}
	if writer {
		h := C.dds_create_writer(p.h, t, cq, nil)
		return h, st, retErr("create writer "+topic, C.dds_return_t(h))
	}
	h := C.dds_create_reader(p.h, t, cq, nil)
	return h, st, retErr("create reader "+topic, C.dds_return_t(h))
}

// endpoint is a discovered remote writer or reader.
type endpoint struct{ typeName, qos string }

// remote lists the remote writers (pubs) or readers on topic.
func (p *Participant) remote(topic string, pubs bool) []endpoint {
	ct := C.CString(topic)
	defer C.free(unsafe.Pointer(ct))
	var buf [4096]C.char
	w := C.int(0)
	if pubs {
		w = 1
	}
	C.vla3d_remote_endpoints(p.h, w, ct, &buf[0], C.size_t(len(buf)))
	var out []endpoint
	for _, line := range strings.Split(C.GoString(&buf[0]), "\n") {
		if typ, qos, ok := strings.Cut(line, "|"); ok {
			out = append(out, endpoint{typ, qos})
		}
	}
	return out
}

// remoteQoS describes the QoS of the remote endpoints on topic, "; "-separated.
func (p *Participant) remoteQoS(topic string, pubs bool) string {
	var qs []string
	for _, e := range p.remote(topic, pubs) {
		qs = append(qs, e.qos)
	}
	return strings.Join(qs, "; ")
}

func (p *Participant) event(e Event) {
	if p.onEvent != nil {
		p.onEvent(e)
	}
}

// watchWriters reports offered-incompatible-QoS on the writers until Close.
func (p *Participant) watchWriters() {
	defer close(p.done)
	var trig [16]C.dds_attach_t
	for {
		n := C.dds_waitset_wait(p.ws, &trig[0], C.size_t(len(trig)), C.dds_duration_t(C.DDS_INFINITY))
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed || n < 0 {
			return
		}
		for i := 0; i < int(n); i++ {
			h := C.dds_entity_t(trig[i])
			if h == 0 {
				continue
			}
			p.mu.Lock()
			w := p.writers[h]
			p.mu.Unlock()
			if w != nil {
				w.checkStatus()
			}
		}
	}
}

// Close deletes the participant and everything it created; it waits for
// the readers' callbacks to return.
func (p *Participant) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	readers := make([]*Reader, 0, len(p.readers))
	for r := range p.readers {
		readers = append(readers, r)
	}
	p.mu.Unlock()
	for _, r := range readers {
		r.Close()
	}
	C.dds_set_guardcondition(p.guard, true)
	<-p.done
	return retErr("delete participant", C.dds_delete(p.h))
}
