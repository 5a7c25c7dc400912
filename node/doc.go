// Package node is the robot-side ROS 1 node of vla3d: it subscribes to N
// RGB-D cameras, tf, the end-effector pose, joint states and the
// instruction; synchronizes the cameras with the ROS ApproximateTime policy
// (package timesync); preprocesses observations for the policy (package
// policy/preprocess); runs the policy asynchronously from the control loop;
// executes action chunks with ACT-style temporal ensembling or replanning;
// enforces safety (stale/missing/non-finite inputs, policy errors -> hold;
// workspace and velocity clamps); and publishes commands, the full chunk and
// /diagnostics.
//
// The ROS wiring (ros.go) is thin: it subscribes to the routes of the
// observation assembler (package observe: message intake, synchronization,
// tf and the pairing rules, shared with training and bag replay); the logic
// lives in Executor (chunk execution), Safety (limits and fault episodes)
// and Controller (inference and one control tick), which are exercised
// without ROS in unit tests and benchmarks.
package node
