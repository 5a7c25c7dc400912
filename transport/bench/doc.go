// Package bench compares the ROS 1 and ROS 2 transports on the node's
// input load: `go test ./transport/bench -bench .` (see bench_test.go).
package bench
