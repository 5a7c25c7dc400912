package dds

// #include <stdlib.h>
// #include "dds/dds.h"
// #include "rawcdr.h"
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// Writer writes raw CDR samples on one topic.
type Writer struct {
	p     *Participant
	h     C.dds_entity_t
	st    *C.struct_ddsi_sertype
	topic string
	qos   QoS

	mu     sync.Mutex
	closed bool
}

// NewWriter creates a writer of typeName on topic (a DDS name: rt/...).
func (p *Participant) NewWriter(topic, typeName string, q QoS) (*Writer, error) {
	h, st, err := p.endpoint(topic, typeName, q, true)
	if err != nil {
		return nil, err
	}
	w := &Writer{p: p, h: h, st: st, topic: topic, qos: q}
	C.dds_set_status_mask(h, C.DDS_OFFERED_INCOMPATIBLE_QOS_STATUS)
	p.mu.Lock()
	p.writers[h] = w
	p.mu.Unlock()
	if rc := C.dds_waitset_attach(p.ws, h, C.dds_attach_t(h)); rc < 0 {
		w.Close()
		return nil, retErr("attach writer", rc)
	}
	return w, nil
}

// Write sends one CDR sample (encapsulation header included); it copies
// data, so data may be reused when Write returns.
func (w *Writer) Write(data []byte) error {
	if len(data) < 4 {
		return fmt.Errorf("dds: write %s: %d bytes is not a CDR sample", w.topic, len(data))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return retErr("write "+w.topic, C.vla3d_rawcdr_write(w.h, w.st, unsafe.Pointer(&data[0]), C.size_t(len(data))))
}

// Matched returns how many remote readers the writer is matched with now.
func (w *Writer) Matched() int {
	var s C.dds_publication_matched_status_t
	if C.dds_get_publication_matched_status(w.h, &s) < 0 {
		return 0
	}
	return int(s.current_count)
}

// GUID returns the writer's DDS GUID.
func (w *Writer) GUID() ([16]byte, error) { return guidOf(w.h) }

func (w *Writer) checkStatus() {
	var s C.dds_offered_incompatible_qos_status_t
	if C.dds_get_offered_incompatible_qos_status(w.h, &s) < 0 || s.total_count_change <= 0 {
		return
	}
	w.p.event(Event{Kind: OfferedIncompatibleQoS, Topic: w.topic, Policy: policyName(uint32(s.last_policy_id)),
		Ours: w.qos, Theirs: w.p.remoteQoS(w.topic, false), Total: int(s.total_count)})
}

// Close deletes the writer.
func (w *Writer) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	w.p.mu.Lock()
	delete(w.p.writers, w.h)
	w.p.mu.Unlock()
	C.dds_waitset_detach(w.p.ws, w.h)
	C.dds_delete(w.h)
}
