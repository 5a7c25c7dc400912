// Package transport is what the node, the simulator and their tools need
// from ROS, whichever ROS carries it: publishers and subscriptions of
// goroslib message structs (the project's one message representation),
// with the QoS profiles ROS 2 names. transport/ros1 implements it over
// goroslib (TCPROS and a ROS master), transport/ros2 over DDS (Cyclone
// DDS, interoperable with any ROS 2 peer).
package transport

import (
	"fmt"
	"strings"
)

// Kind names a transport in configuration files and flags.
type Kind string

// Transports.
const (
	ROS1 Kind = "ros1"
	ROS2 Kind = "ros2"
)

// ParseKind reads "ros1" or "ros2"; "" is ROS 2, the default.
func ParseKind(s string) (Kind, error) {
	switch Kind(strings.ToLower(strings.TrimSpace(s))) {
	case "", ROS2:
		return ROS2, nil
	case ROS1:
		return ROS1, nil
	}
	return "", fmt.Errorf("transport: unknown transport %q (ros1, ros2)", s)
}

// Profile is a QoS profile as ROS 2 (rmw) defines it. On ROS 1 only
// Latched means something (a latched publisher).
type Profile int

// Profiles.
const (
	// Default is ROS 2's default profile: reliable, keep last 10, volatile.
	Default Profile = iota
	// SensorData is ROS 2's sensor-data profile: best effort, keep last 5,
	// volatile. A best-effort reader matches reliable writers too, so it is
	// the most accepting profile for streaming inputs.
	SensorData
	// Latched is reliable, keep last 1, transient local: late joiners get
	// the last message (ROS 1 latching; /tf_static in ROS 2).
	Latched
)

// String is the profile's configuration name.
func (p Profile) String() string {
	switch p {
	case SensorData:
		return "sensor_data"
	case Latched:
		return "transient_local"
	}
	return "default"
}

// ParseProfile reads a profile's configuration name: "default",
// "sensor_data", or "transient_local" (also "latched").
func ParseProfile(s string) (Profile, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "default", "":
		return Default, nil
	case "sensor_data", "sensor":
		return SensorData, nil
	case "transient_local", "latched":
		return Latched, nil
	}
	return 0, fmt.Errorf("transport: unknown QoS profile %q (default, sensor_data, transient_local)", s)
}

// Transport is a connection to a ROS graph as one node.
type Transport interface {
	// Publish creates a publisher on topic of msg's type (a pointer to a
	// goroslib message struct, used only for its type).
	Publish(topic string, msg any, p Profile) (Publisher, error)
	// Subscribe calls cb with every message on topic; newMsg returns a
	// fresh message of the topic's type, which cb owns. Calls to cb for
	// one subscription never overlap. onErr (optional) receives messages
	// that arrived but could not be decoded.
	Subscribe(topic string, newMsg func() any, cb func(msg any), p Profile, onErr func(error)) (Subscription, error)
	// Close leaves the graph; publishers and subscriptions close with it.
	Close() error
}

// Publisher publishes messages of one type on one topic.
type Publisher interface {
	// Write publishes msg. The struct may be reused once Write returns; the
	// slices it points to must not be modified (ROS 1 serialises later).
	Write(msg any) error
	Close()
}

// Subscription is a live subscription; Close returns after its last
// callback returned.
type Subscription interface {
	Close()
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// QoSMismatch: a remote endpoint on one of our topics has QoS we
	// cannot match (e.g. a best-effort publisher for a reliable reader).
	QoSMismatch EventKind = iota
	// TypeMismatch: a remote publisher on a topic we subscribe to has
	// another message type; its messages never arrive.
	TypeMismatch
)

// Event is a problem with the graph that the transport saw and logged;
// nodes count them in their diagnostics.
type Event struct {
	Kind   EventKind
	Topic  string
	Detail string
}
