package dds

// #include "dds/dds.h"
// #include "rawcdr.h"
import "C"

import (
	"slices"
	"sync"
	"time"
	"unsafe"
)

// Sample is one received CDR sample. Data is valid only during the
// callback (it points into Cyclone's buffer): decode or copy it there.
type Sample struct {
	Data        []byte
	SourceStamp time.Time
}

// Reader takes raw CDR samples of one topic and hands them to a callback
// on its own goroutine, one at a time, in arrival order.
type Reader struct {
	p        *Participant
	h        C.dds_entity_t
	ws       C.dds_entity_t
	guard    C.dds_entity_t
	topic    string
	typeName string
	qos      QoS
	cb       func(Sample)
	done     chan struct{}
	once     sync.Once
}

// NewReader creates a reader of typeName on topic calling cb for every
// valid sample.
func (p *Participant) NewReader(topic, typeName string, q QoS, cb func(Sample)) (*Reader, error) {
	h, _, err := p.endpoint(topic, typeName, q, false)
	if err != nil {
		return nil, err
	}
	r := &Reader{p: p, h: h, topic: topic, typeName: typeName, qos: q, cb: cb, done: make(chan struct{})}
	fail := func(what string, rc C.dds_return_t) (*Reader, error) {
		C.dds_delete(r.h)
		return nil, retErr(what, rc)
	}
	C.dds_set_status_mask(r.h, C.DDS_REQUESTED_INCOMPATIBLE_QOS_STATUS)
	// Data wakes the loop through a read condition (any sample in the
	// reader's cache), the incompatible-QoS status through the reader.
	rc := C.dds_create_readcondition(r.h, C.DDS_ANY_STATE)
	if rc < 0 {
		return fail("create read condition", C.dds_return_t(rc))
	}
	if r.ws = C.dds_create_waitset(p.h); r.ws < 0 {
		return fail("create waitset", C.dds_return_t(r.ws))
	}
	if r.guard = C.dds_create_guardcondition(p.h); r.guard < 0 {
		return fail("create guard condition", C.dds_return_t(r.guard))
	}
	if rc := C.dds_waitset_attach(r.ws, r.guard, 0); rc < 0 {
		return fail("attach guard", rc)
	}
	if rc := C.dds_waitset_attach(r.ws, rc, 1); rc < 0 {
		return fail("attach read condition", rc)
	}
	if rc := C.dds_waitset_attach(r.ws, r.h, 2); rc < 0 {
		return fail("attach reader", rc)
	}
	p.mu.Lock()
	p.readers[r] = struct{}{}
	p.mu.Unlock()
	go r.loop()
	return r, nil
}

// Matched returns how many remote writers the reader is matched with now.
func (r *Reader) Matched() int {
	var s C.dds_subscription_matched_status_t
	if C.dds_get_subscription_matched_status(r.h, &s) < 0 {
		return 0
	}
	return int(s.current_count)
}

// Topic is the reader's DDS topic name.
func (r *Reader) Topic() string { return r.topic }

// TypeName is the reader's DDS type name.
func (r *Reader) TypeName() string { return r.typeName }

// GUID returns the reader's DDS GUID.
func (r *Reader) GUID() ([16]byte, error) { return guidOf(r.h) }

func (r *Reader) loop() {
	defer close(r.done)
	var trig [3]C.dds_attach_t
	for {
		n := C.dds_waitset_wait(r.ws, &trig[0], C.size_t(len(trig)), C.dds_duration_t(C.DDS_INFINITY))
		if n < 0 {
			return
		}
		for i := 0; i < int(n); i++ {
			if trig[i] == 0 {
				return // Close
			}
		}
		r.checkStatus()
		r.drain()
	}
}

func (r *Reader) drain() {
	for {
		var sd *C.struct_ddsi_serdata
		var data *C.uchar
		var size C.size_t
		var valid C.int
		var stamp C.dds_time_t
		n := C.vla3d_rawcdr_take(r.h, &sd, &data, &size, &valid, &stamp)
		if n <= 0 {
			return
		}
		if valid != 0 && size > 0 {
			r.cb(Sample{Data: unsafe.Slice((*byte)(unsafe.Pointer(data)), int(size)), SourceStamp: time.Unix(0, int64(stamp))})
		}
		C.vla3d_rawcdr_release(sd)
	}
}

func (r *Reader) checkStatus() {
	var s C.dds_requested_incompatible_qos_status_t
	if C.dds_get_requested_incompatible_qos_status(r.h, &s) < 0 || s.total_count_change <= 0 {
		return
	}
	r.p.event(Event{Kind: RequestedIncompatibleQoS, Topic: r.topic, Policy: policyName(uint32(s.last_policy_id)),
		Ours: r.qos, Theirs: r.p.remoteQoS(r.topic, true), Total: int(s.total_count)})
}

// Close stops the reader; it returns after the last callback returned.
func (r *Reader) Close() {
	r.once.Do(func() {
		C.dds_set_guardcondition(r.guard, true)
		<-r.done
		C.dds_delete(r.ws)
		C.dds_delete(r.guard)
		C.dds_delete(r.h)
		r.p.mu.Lock()
		delete(r.p.readers, r)
		r.p.mu.Unlock()
	})
}

// ForeignWriters returns the type names of discovered remote writers on
// the reader's topic whose type is not the reader's: DDS never matches
// them, so their data never arrives (a publisher of the wrong type).
func (r *Reader) ForeignWriters() []string {
	var out []string
	for _, e := range r.p.remote(r.topic, true) {
		if e.typeName != r.typeName && !slices.Contains(out, e.typeName) {
			out = append(out, e.typeName)
		}
	}
	return out
}
