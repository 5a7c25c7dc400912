// Package consistency holds the train = replay = deploy acceptance test: one
// recorded simulator episode (a moving wrist camera) is turned into model
// input tensors four ways — (a) by the dataset exactly as the trainer
// samples it (its preprocessed cache), (b) by vla3d-eval's replay, (c) by the
// live node fed by the real `rosbag play` over a real roscore, and (d) by
// the simulator's closed-loop controller path while the episode is
// recorded — and every tensor must agree at matching stamps. All four go
// through the one observation assembler (package observe); the test is
// what keeps them from drifting apart. The package has no code of its own.
package consistency
