// Package dataset turns recordings (ROS 1 bags and MCAP files) into training
// and evaluation data: it splits recordings into episodes (one per file, by
// an episode marker topic, or at time gaps), aligns every camera's colour,
// depth and labels with the same approximate-time synchronizer the node uses
// (package timesync), and assembles per-step msgs.Observations with
// calibration, tf extrinsics, end-effector pose, gripper and instruction,
// paired with the step's action: the recorded expert action when the
// recording has one, otherwise the action derived from the next
// end-effector pose.
//
// The dataset layer on top is streaming (one episode in memory at a time),
// splits train/validation by episode, shuffles deterministically from a
// seed, and keeps an on-disk cache of preprocessed samples (policy.Input plus
// action) so that later epochs read fixed-size records instead of decoding
// images again.
package dataset
