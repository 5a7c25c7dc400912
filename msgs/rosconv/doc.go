// Package rosconv converts between goroslib's standard ROS 1 messages
// (sensor_msgs, geometry_msgs, tf2_msgs, trajectory_msgs) and vla3d's plain
// types in package msgs. It lives apart from msgs so that the plain types
// carry no ROS dependency (bag readers, the trainer and the model use them
// without goroslib), and so that depth decoding can reuse perception's
// DecodeDepth without an import cycle.
//
// Decoders write into caller-owned destinations and reuse their buffers: with
// a destination that already has the right capacity they allocate nothing.
package rosconv
