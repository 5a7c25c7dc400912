package bag

import (
	"fmt"
)

// Connection is one topic's publisher description as stored in a connection
// record: the topic name and the ROS connection header.
type Connection struct {
	ID       uint32
	Topic    string
	Type     string // e.g. "sensor_msgs/Image"
	MD5Sum   string
	Def      string // full message definition text, dependencies included
	CallerID string
	Latching bool
	// Encoding is "ros1" for bag payloads; MCAP sources may set "cdr".
	Encoding string
}

// encodeConnectionRecord returns the connection record for c.
func encodeConnectionRecord(c *Connection) []byte {
	var hb headerBuilder
	hb.addOp(OpConnection)
	hb.addUint32("conn", c.ID)
	hb.addString("topic", c.Topic)
	return appendRecord(nil, hb.buf, connectionHeaderData(c))
}

// connectionHeaderData is the connection header that rosbag stores as the
// data of a connection record (same field format as a record header).
func connectionHeaderData(c *Connection) []byte {
	var d headerBuilder
	d.addString("topic", c.Topic)
	d.addString("type", c.Type)
	d.addString("md5sum", c.MD5Sum)
	d.addString("message_definition", c.Def)
	if c.CallerID != "" {
		d.addString("callerid", c.CallerID)
	}
	if c.Latching {
		d.addString("latching", "1")
	}
	return d.buf
}

// decodeConnection builds a Connection from a connection record's parsed
// header and its data.
func decodeConnection(h header, data []byte) (*Connection, error) {
	id, err := h.uint32("conn")
	if err != nil {
		return nil, err
	}
	topic, err := h.string("topic")
	if err != nil {
		return nil, err
	}
	d, err := parseHeader(data)
	if err != nil {
		return nil, fmt.Errorf("bag: connection %d (%s) header: %w", id, topic, err)
	}
	c := &Connection{ID: id, Topic: topic, Encoding: "ros1"}
	if c.Type, err = d.string("type"); err != nil {
		return nil, fmt.Errorf("bag: connection %d (%s): %w", id, topic, err)
	}
	if c.MD5Sum, err = d.string("md5sum"); err != nil {
		return nil, fmt.Errorf("bag: connection %d (%s): %w", id, topic, err)
	}
	// message_definition is mandatory for rosbag but absent from some
	// hand-written bags; an empty one only loses introspection.
	c.Def, _ = d.string("message_definition")
	c.CallerID, _ = d.string("callerid")
	if v, ok := d.get("latching"); ok && string(v) == "1" {
		c.Latching = true
	}
	return c, nil
}
