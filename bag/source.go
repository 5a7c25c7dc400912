package bag

import "context"

// MessageIterator walks messages from a Source.
type MessageIterator interface {
	Next() bool
	Message() Message
	Err() error
}

// Source is a recording that yields Messages: a ROS 1 bag (*Reader) or an
// MCAP file (package bag/mcapbag). Episodes and datasets read through it.
type Source interface {
	Info() Info
	Read(ctx context.Context, q Query) MessageIterator
	Close() error
}

// Read implements Source.
func (r *Reader) Read(ctx context.Context, q Query) MessageIterator { return r.Messages(ctx, q) }

var _ Source = (*Reader)(nil)
