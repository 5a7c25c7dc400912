package transport

import "fmt"

// ROS2Settings are the ROS 2 settings of a node's YAML configuration
// (`ros2:`); the environment fills what they leave unset, as for any ROS 2
// node.
type ROS2Settings struct {
	// (optional) DomainID is the DDS domain. It defaults to -1:
	// $ROS_DOMAIN_ID, else 0.
	DomainID int `yaml:"domain_id"`
	// (optional) LocalhostOnly keeps all DDS traffic on the loopback
	// interface. It defaults to false, or true when ROS_LOCALHOST_ONLY=1 or
	// ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST.
	LocalhostOnly bool `yaml:"localhost_only"`
	// (optional) Namespace of the node. It defaults to "/".
	Namespace string `yaml:"namespace"`
	// (optional) Distro of the peers (humble, jazzy, ...), for the
	// ros_discovery_info layout. It defaults to $ROS_DISTRO, else jazzy.
	Distro string `yaml:"distro"`
	// (optional) QoS overrides the profile of individual topics:
	// topic -> default | sensor_data | transient_local. It defaults to
	// none.
	QoS map[string]string `yaml:"qos"`
}

// DefaultROS2Settings leaves everything to the environment.
func DefaultROS2Settings() ROS2Settings { return ROS2Settings{DomainID: -1} }

// Validate checks the domain id and the QoS overrides.
func (s ROS2Settings) Validate() error {
	if s.DomainID < -1 || s.DomainID > 232 {
		return fmt.Errorf("ros2.domain_id %d out of range (0..232, or -1 for $ROS_DOMAIN_ID)", s.DomainID)
	}
	for topic, p := range s.QoS {
		if _, err := ParseProfile(p); err != nil {
			return fmt.Errorf("ros2.qos[%s]: %w", topic, err)
		}
	}
	return nil
}

// Profile returns topic's profile: the override when configured, else def.
func (s ROS2Settings) Profile(topic string, def Profile) Profile {
	if p, ok := s.QoS[topic]; ok {
		if prof, err := ParseProfile(p); err == nil {
			return prof
		}
	}
	return def
}
