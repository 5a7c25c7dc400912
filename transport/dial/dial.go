// Package dial opens the configured transport: a ROS 1 node (goroslib) or
// a ROS 2 node (DDS).
package dial

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/transport/ros1"
	"github.com/vla3d/vla3d/transport/ros2"
)

// Conf configures Open.
type Conf struct {
	// Kind selects the transport. It defaults to ROS 2.
	Kind transport.Kind
	// Name is the node name. It is required.
	Name string
	// MasterAddress (host:port) and Host are the ROS 1 settings.
	MasterAddress, Host string
	// OnShutdown is called when a ROS 1 master shuts the node down.
	OnShutdown func(reason string)
	// ROS2 are the ROS 2 settings; Getenv (os.Getenv in a main) fills what
	// they leave unset from ROS_DOMAIN_ID, ROS_LOCALHOST_ONLY,
	// ROS_AUTOMATIC_DISCOVERY_RANGE and ROS_DISTRO. A nil Getenv reads nothing.
	ROS2   transport.ROS2Settings
	Getenv func(string) string
	Logger *zap.Logger
	// OnEvent receives ROS 2's QoS and type mismatches.
	OnEvent func(transport.Event)
}

// Open connects as c.Name over c.Kind.
func Open(c Conf) (transport.Transport, error) {
	switch c.Kind {
	case transport.ROS1:
		return ros1.New(ros1.Conf{Name: c.Name, MasterAddress: c.MasterAddress, Host: c.Host, Logger: c.Logger, OnShutdown: c.OnShutdown})
	case transport.ROS2, "":
		rc, err := ROS2Conf(c)
		if err != nil {
			return nil, err
		}
		return ros2.New(rc)
	}
	return nil, fmt.Errorf("dial: unknown transport %q (ros1, ros2)", c.Kind)
}

// ROS2Conf is the ros2.Conf that Open uses for c.
func ROS2Conf(c Conf) (ros2.Conf, error) {
	s := c.ROS2
	rc := ros2.Conf{Name: c.Name, Namespace: s.Namespace, LocalhostOnly: s.LocalhostOnly, Distro: s.Distro, Logger: c.Logger, OnEvent: c.OnEvent}
	if err := s.Validate(); err != nil {
		return rc, err
	}
	if s.DomainID >= 0 {
		rc.Domain = uint32(s.DomainID)
	}
	getenv := c.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if s.DomainID >= 0 {
		// An explicit domain wins over $ROS_DOMAIN_ID.
		inner := getenv
		getenv = func(k string) string {
			if k == "ROS_DOMAIN_ID" {
				return ""
			}
			return inner(k)
		}
	}
	if err := rc.FromEnv(getenv); err != nil {
		return rc, err
	}
	return rc, nil
}
