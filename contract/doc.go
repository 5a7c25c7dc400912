// Package contract is the one home of vla3d's data contract: the topic and
// frame names every binary uses (with the per-camera helpers), the instance
// label ids, the gripper mapping, and the typed enums for action space,
// output mode and execution mode. The node, the dataset, the simulator and
// bag-replay evaluation all embed [Topics] and use these helpers, so a model
// is trained, replayed and deployed on the same names and rules.
//
// Conventions (REP 103/105): SI units, right-handed frames, the robot base
// frame "base_link", camera optical frames z forward, x right, y down.
// Every name here is a default: configurations may remap each one.
package contract
