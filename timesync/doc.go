// Package timesync implements the approximate-time synchronization policy of
// ROS message_filters (sync_policies::ApproximateTime) for N >= 2 inputs of
// one element type. It has no ROS dependency so that the node, the bag-replay
// evaluator and the simulator form identical observation sets from identical
// stamp sequences.
//
// Algorithm (as documented for message_filters): every input keeps a queue.
// When all queues are non-empty, the set made of the queue heads is a
// candidate; its "end" input (latest stamp) becomes the pivot. Heads older
// than the pivot are advanced one by one, each new head set being compared to
// the best candidate so far by its interval size, with an age penalty that
// favours older sets. A candidate is emitted as soon as it is provably optimal
// (no later message could form a better set containing the pivot), using the
// optional inter-message lower bounds to prove optimality before the next
// message arrives. Queues hold at most QueueSize messages; the oldest message
// of an overflowing input is dropped and that input may not serve as pivot
// until a set is emitted, exactly as in ROS.
package timesync
