// Package bag reads and writes ROS 1 bag files, format version 2.0.
//
// A bag is the magic line "#ROSBAG V2.0\n" followed by records. Every record
// is header_len (uint32 LE), a header of length-prefixed "name=value" fields
// (the "op" field names the record kind), data_len (uint32 LE) and data.
// The writer lays a file out the way rosbag does: a bag header record padded
// to 4096 bytes, chunks (each followed by one index data record per
// connection it holds), then at index_pos the connection records and one
// chunk info record per chunk. The reader uses that index to seek by time and
// topic; when the index is missing (a recording that was killed) or damaged
// (a truncated copy) it rebuilds it by a linear scan, keeping every message it
// can still read, and says so through Info.Warnings and the logger.
//
// Message payloads are ROS 1 serialized bytes; Message.Decode turns them into
// goroslib message structs using goroslib's own wire codec.
package bag
