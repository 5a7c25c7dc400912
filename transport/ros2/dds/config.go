package dds

// LocalhostConfig is a Cyclone DDS configuration that keeps discovery and
// data on the loopback interface, unicast only: what ROS 2's
// ROS_LOCALHOST_ONLY=1 / ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST give
// (rmw_cyclonedds pins 127.0.0.1, disables multicast and discovers the
// other participants by unicast to localhost's participant-index ports).
const LocalhostConfig = `<CycloneDDS><Domain id="any"><General>` +
	`<Interfaces><NetworkInterface address="127.0.0.1" multicast="false"/></Interfaces>` +
	`<AllowMulticast>false</AllowMulticast></General>` +
	`<Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>64</MaxAutoParticipantIndex>` +
	`<Peers><Peer address="localhost"/></Peers></Discovery></Domain></CycloneDDS>`

// LoopbackMulticastConfig pins DDS to the loopback interface with
// multicast on it, for a network namespace whose only interface is lo
// (tests: discovery as on a real network, nothing leaves the namespace).
const LoopbackMulticastConfig = `<CycloneDDS><Domain id="any"><General>` +
	`<Interfaces><NetworkInterface name="lo" multicast="true"/></Interfaces>` +
	`<AllowMulticast>true</AllowMulticast></General></Domain></CycloneDDS>`
