// Package sim is the MuJoCo tabletop robot: a weld-to-mocap end effector with
// a two-finger gripper, objects that occlude each other, two fixed cameras and
// a wrist camera rendering RGB, metric depth and instance labels, tasks with
// success checks, a scripted expert, LIBERO-Plus style perturbation splits and
// a closed-loop evaluation API.
//
// Conventions:
//
//   - Frames: the robot base frame ("base_link") is MuJoCo's world frame; the
//     table top is the plane z = 0, x points away from the robot. Camera
//     extrinsics (CameraFrame.BaseFromCamera) map the REP 103 optical frame
//     (x right, y down, z forward) into the base frame; MuJoCo's camera frame
//     (y up, looking along -z) is rotated by diag(1, -1, -1).
//   - Intrinsics: fx = fy = (H/2)/tan(fovy/2), cx = (W-1)/2, cy = (H-1)/2 in the
//     ROS convention (pixel centres at integers); no distortion.
//   - Depth: metres along the optical axis, linearised from the OpenGL depth
//     buffer, rows top to bottom; NaN where nothing was hit or (Noise split)
//     dropped out.
//   - Orientations: perception.Quat (x, y, z, w, as geometry_msgs); MuJoCo's
//     w-first order is converted only where sim/mujoco is called and in the
//     MJCF text.
//   - Labels: stable instance ids independent of the MuJoCo model: red_block 1,
//     green_block 2, blue_cylinder 3, yellow_block 4, bowl 5, occluder 6,
//     distractors 7-9, robot (hand and fingers) LabelRobot = 100, background
//     (table, walls, floor) 0.
//   - Actions (msgs layout): dx, dy, dz in metres and droll, dpitch, dyaw in
//     radians, all in the base frame and applied to the commanded end-effector
//     target by perception.ApplyDelta (orientation <- R(droll, dpitch, dyaw) ·
//     orientation, as the node does), clipped to MaxStepTranslation /
//     MaxStepRotation per step, the
//     target kept in a box above the table; gripper 0 open .. 1 closed.
//     Malformed actions (wrong length, NaN/Inf) are refused with an error.
//   - Time: one Step is one control period (1/ControlHz, default 10 Hz) of
//     physics at a 4 ms timestep; the hand follows a straight line between
//     targets over the substeps. Observation stamps are Config.Epoch plus
//     simulated time.
//   - Determinism: an EpisodeSpec (task, split, severity, seed) fixes the scene;
//     every perturbation and the sensor noise draw from their own random
//     stream, so a split changes only its own part of the scene.
package sim
