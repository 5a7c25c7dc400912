// Package perception is vla3d's geometry: pure Go, no I/O, shared by the ROS
// node, the trainer, the bag evaluator and the simulator so that all of them
// see the same 3D world.
//
// Frames and units follow REP 103/105: metres, radians, right-handed frames,
// camera optical frames z forward, x right, y down, base frame z up. A Rigid
// named aFromB maps points expressed in frame B into frame A.
//
// Pixel convention: continuous image coordinates with the origin at the
// top-left corner of the top-left pixel, so pixel (col,row) has its centre at
// (col+0.5, row+0.5), u/Width is the model's [0,1] sampling coordinate and
// resizing scales intrinsics exactly. PinholeFromCameraInfo converts ROS's
// pixel-centre convention (adds 0.5 to cx, cy).
//
// Invalid data is marked, never guessed: invalid depth is NaN, patches and
// projected points carry explicit 1/0 validity, empty inputs return ok=false.
//
// What is here, in pipeline order:
//
//   - Rotations and poses: Quat, x, y, z, w like geometry_msgs (Mul, Conj,
//     Normalize, QuatFromRPY / RPY with R = Rz(yaw) Ry(pitch) Rx(roll),
//     Slerp, Angle, Matrix / QuatFromMatrix; QuatFromWXYZ / WXYZ only at
//     MuJoCo's boundary), built on gonum's num/quat; Pose (an r3.Vec position
//     and a Quat, to and from msgs.Pose); and the end-effector action
//     convention, ApplyDelta and its inverse DeltaBetween.
//   - Cameras and extrinsics: Pinhole (PinholeFromCameraInfo, Scaled,
//     Project, Unproject, plumb_bob/rational_polynomial Distortion), Rigid
//     (RigidFromQuaternion, RigidFromMatrix3x4, LookAt, Compose, Inverse,
//     Matrix3x4).
//   - Depth: DecodeDepth (16UC1 mm, 32FC1 m), ResizeDepthNearest.
//   - 3D tokens: PatchUnprojector (per-patch median depth at the patch
//     centre, base frame), UnprojectDepth (per pixel), ProjectPoints (the
//     instance module's projection with the depth clamp z' = max(z, eps)).
//   - Positional encodings: Fourier3D, EERelativeEncoding, RoPE3D.
//   - Sets and matching: FarthestPointSampler, DBSCAN, Hungarian, 2D boxes
//     (BoxIoU, BoxGIoU, NormalizeBox), AABB.
//   - Pseudo-labels: MaskFromLabels, BackprojectMask, MaskBox,
//     InstanceCentroid, and CompletionTargets for the predictor's completion
//     queries (denoise, complete the shape, keep the occluded part, FPS).
//
// Hot-path types (PatchUnprojector, FarthestPointSampler, DBSCAN, Hungarian,
// CompletionTargets) keep scratch buffers and write into caller-provided
// slices, so steady-state calls allocate nothing; they are not safe for
// concurrent use, so hold one per goroutine.
package perception
