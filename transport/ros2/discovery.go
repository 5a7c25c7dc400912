package ros2

import (
	"github.com/bluenviron/goroslib/v2/pkg/msg"
)

// ros_discovery_info (rmw_dds_common/msg/ParticipantEntitiesInfo) is how
// rmw maps DDS entities to ROS nodes: `ros2 node list` and `ros2 topic
// info` read it. Data flows without it. Its Gid is uint8[24] up to Humble
// and uint8[16] from Iron on, so the layout follows the distribution.

const (
	discoveryTopic = "ros_discovery_info"
	discoveryType  = "rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_"
)

type gid16 struct {
	msg.Package `ros:"rmw_dds_common"`
	msg.Name    `ros:"Gid"`
	Data        [16]uint8
}

type gid24 struct {
	msg.Package `ros:"rmw_dds_common"`
	msg.Name    `ros:"Gid"`
	Data        [24]uint8
}

type nodeEntities[G any] struct {
	msg.Package   `ros:"rmw_dds_common"`
	msg.Name      `ros:"NodeEntitiesInfo"`
	NodeNamespace string
	NodeName      string
	ReaderGidSeq  []G
	WriterGidSeq  []G
}

type participantEntities[G any] struct {
	msg.Package         `ros:"rmw_dds_common"`
	msg.Name            `ros:"ParticipantEntitiesInfo"`
	Gid                 G
	NodeEntitiesInfoSeq []nodeEntities[G]
}

// legacyGid reports whether distro uses 24-byte gids (Humble and older).
func legacyGid(distro string) bool {
	switch distro {
	case "humble", "galactic", "foxy", "eloquent", "dashing":
		return true
	}
	return false
}

// discoveryInfo builds the participant's ParticipantEntitiesInfo for one
// node with the given reader and writer GUIDs.
func discoveryInfo(distro string, participant [16]byte, namespace, node string, readers, writers [][16]byte) any {
	if legacyGid(distro) {
		g := func(b [16]byte) (out gid24) { copy(out.Data[:], b[:]); return }
		return &participantEntities[gid24]{Gid: g(participant), NodeEntitiesInfoSeq: []nodeEntities[gid24]{{
			NodeNamespace: namespace, NodeName: node, ReaderGidSeq: mapGids(readers, g), WriterGidSeq: mapGids(writers, g)}}}
	}
	g := func(b [16]byte) gid16 { return gid16{Data: b} }
	return &participantEntities[gid16]{Gid: g(participant), NodeEntitiesInfoSeq: []nodeEntities[gid16]{{
		NodeNamespace: namespace, NodeName: node, ReaderGidSeq: mapGids(readers, g), WriterGidSeq: mapGids(writers, g)}}}
}

func mapGids[G any](in [][16]byte, f func([16]byte) G) []G {
	out := make([]G, len(in))
	for i, b := range in {
		out[i] = f(b)
	}
	return out
}
