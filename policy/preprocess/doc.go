// Package preprocess turns a msgs.Observation into the flat tensors of a
// policy.Input, exactly as the model expects them (policy.Spec). The node,
// the bag-replay evaluator and the simulator's closed loop all call this one
// Preprocessor, so the model sees identical inputs offline and online.
//
// Per camera: colour resized (bilinear or area) to the model size as CHW RGB
// in [0,1]; depth resized by nearest neighbour (never blending valid depth
// with holes or across edges), unprojected per patch into the base frame with
// perception.PatchUnprojector (point + validity); intrinsics fx, fy, cx, cy
// scaled to the model size (perception's corner-origin pixel convention);
// CamFromBase as a row-major 3x4 [R|t]. Robot state: end-effector position,
// orientation and gripper, normalized with the Spec's statistics. The
// orientation representation is chosen by Spec.ProprioDim:
//
//	ProprioDim 7: x, y, z, roll, pitch, yaw, gripper (RPY about fixed X, Y, Z, as tf's getRPY)
//	ProprioDim 8: x, y, z, qx, qy, qz, qw, gripper (unit quaternion with qw >= 0)
//
// The instruction is lowercased, split on non-letters, and each word mapped
// to its Spec.Vocabulary id (index+1; unknown words 0), padded or truncated
// to InstructionLen.
//
// After the first frame of a given camera geometry the Preprocessor
// allocates nothing.
package preprocess
