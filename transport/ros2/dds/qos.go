package dds

// #include "dds/dds.h"
import "C"

import "fmt"

// Reliability is the DDS RELIABILITY policy kind.
type Reliability int

// Reliability kinds.
const (
	BestEffort Reliability = iota
	Reliable
)

// Durability is the DDS DURABILITY policy kind.
type Durability int

// Durability kinds.
const (
	Volatile Durability = iota
	TransientLocal
)

// QoS is the subset of DDS QoS that ROS 2's profiles set.
type QoS struct {
	Reliability Reliability
	Durability  Durability
	// Depth is the KEEP_LAST history depth; 0 means KEEP_ALL.
	Depth int
}

// String reads like "reliable/volatile/keep_last 10", the form remote
// endpoints are described in when QoS is incompatible.
func (q QoS) String() string {
	rel, dur := "best_effort", "volatile"
	if q.Reliability == Reliable {
		rel = "reliable"
	}
	if q.Durability == TransientLocal {
		dur = "transient_local"
	}
	if q.Depth <= 0 {
		return rel + "/" + dur + "/keep_all"
	}
	return fmt.Sprintf("%s/%s/keep_last %d", rel, dur, q.Depth)
}

// cqos builds a Cyclone QoS object; the caller deletes it.
func (q QoS) cqos() *C.dds_qos_t {
	c := C.dds_create_qos()
	if q.Reliability == Reliable {
		C.dds_qset_reliability(c, C.DDS_RELIABILITY_RELIABLE, C.dds_duration_t(100_000_000)) // 100 ms max blocking, as rmw
	} else {
		C.dds_qset_reliability(c, C.DDS_RELIABILITY_BEST_EFFORT, 0)
	}
	if q.Durability == TransientLocal {
		C.dds_qset_durability(c, C.DDS_DURABILITY_TRANSIENT_LOCAL)
	} else {
		C.dds_qset_durability(c, C.DDS_DURABILITY_VOLATILE)
	}
	if q.Depth <= 0 {
		C.dds_qset_history(c, C.DDS_HISTORY_KEEP_ALL, C.DDS_LENGTH_UNLIMITED)
	} else {
		C.dds_qset_history(c, C.DDS_HISTORY_KEEP_LAST, C.int32_t(q.Depth))
	}
	// XCDR1 only, as ROS 2 peers (Fast DDS, Connext) expect.
	rep := [1]C.dds_data_representation_id_t{C.DDS_DATA_REPRESENTATION_XCDR1}
	C.dds_qset_data_representation(c, 1, &rep[0])
	return c
}

// policyName names a DDS QoS policy id (the last_policy_id of an
// incompatible-QoS status).
func policyName(id uint32) string {
	switch id {
	case C.DDS_DURABILITY_QOS_POLICY_ID:
		return "DURABILITY"
	case C.DDS_DEADLINE_QOS_POLICY_ID:
		return "DEADLINE"
	case C.DDS_LATENCYBUDGET_QOS_POLICY_ID:
		return "LATENCY_BUDGET"
	case C.DDS_OWNERSHIP_QOS_POLICY_ID:
		return "OWNERSHIP"
	case C.DDS_LIVELINESS_QOS_POLICY_ID:
		return "LIVELINESS"
	case C.DDS_RELIABILITY_QOS_POLICY_ID:
		return "RELIABILITY"
	case C.DDS_DESTINATIONORDER_QOS_POLICY_ID:
		return "DESTINATION_ORDER"
	case C.DDS_PRESENTATION_QOS_POLICY_ID:
		return "PRESENTATION"
	case C.DDS_PARTITION_QOS_POLICY_ID:
		return "PARTITION"
	case C.DDS_DATA_REPRESENTATION_QOS_POLICY_ID:
		return "DATA_REPRESENTATION"
	case C.DDS_TYPE_CONSISTENCY_ENFORCEMENT_QOS_POLICY_ID:
		return "TYPE_CONSISTENCY"
	}
	return fmt.Sprintf("policy %d", id)
}
