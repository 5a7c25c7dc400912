package ros2

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/bluenviron/goroslib/v2/pkg/msgproc"
)

// TypeName returns the DDS type name rmw gives msg's type:
// sensor_msgs/Image -> sensor_msgs::msg::dds_::Image_.
func TypeName(msg any) (string, error) {
	v := reflect.ValueOf(msg)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if !v.IsValid() {
		return "", fmt.Errorf("ros2: no message type for %T", msg)
	}
	t, err := msgproc.Type(v.Interface())
	if err != nil {
		return "", fmt.Errorf("ros2: message type of %T: %w", msg, err)
	}
	return DDSTypeName(t)
}

// DDSTypeName turns "pkg/Name" (or "pkg/msg/Name") into "pkg::msg::dds_::Name_".
func DDSTypeName(t string) (string, error) {
	parts := strings.Split(t, "/")
	switch {
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0] + "::msg::dds_::" + parts[1] + "_", nil
	case len(parts) == 3 && parts[1] == "msg" && parts[0] != "" && parts[2] != "":
		return parts[0] + "::msg::dds_::" + parts[2] + "_", nil
	}
	return "", fmt.Errorf("ros2: %q is not a message type (pkg/Name)", t)
}

// ResolveTopic returns the fully qualified ROS 2 name of topic: absolute
// names stay, relative names go under namespace, "~" under the node.
func ResolveTopic(topic, namespace, node string) (string, error) {
	if topic == "" {
		return "", fmt.Errorf("ros2: empty topic name")
	}
	ns := "/" + strings.Trim(namespace, "/")
	var out string
	switch {
	case strings.HasPrefix(topic, "/"):
		out = topic
	case topic == "~" || strings.HasPrefix(topic, "~/"):
		out = strings.TrimSuffix(ns, "/") + "/" + node + strings.TrimPrefix(topic, "~")
	default:
		out = strings.TrimSuffix(ns, "/") + "/" + topic
	}
	out = strings.TrimSuffix(out, "/")
	for _, part := range strings.Split(out[1:], "/") {
		if part == "" {
			return "", fmt.Errorf("ros2: topic %q has an empty name token", topic)
		}
		for i, r := range part {
			ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9' && i > 0)
			if !ok {
				return "", fmt.Errorf("ros2: topic %q: token %q is not a valid ROS 2 name", topic, part)
			}
		}
	}
	return out, nil
}

// DDSTopic is the DDS topic rmw uses for a ROS 2 topic: "rt" + the fully
// qualified name.
func DDSTopic(fqn string) string { return "rt" + fqn }
