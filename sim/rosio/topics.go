// Package rosio turns simulator observations, expert actions and episode
// events into the ROS 1 messages of the vla3d data contract, for both the
// live ROS node and bag recording, so the two publish identical streams.
package rosio

// Topics names every topic and frame the simulator publishes. All of them
// are configurable; DefaultTopics follows DESIGN.md's data contract.
type Topics struct {
	BaseFrame    string // robot base frame (tf parent)
	EEFrame      string // end-effector (TCP) frame
	Instruction  string // std_msgs/String, latched
	EEPose       string // geometry_msgs/PoseStamped
	JointStates  string // sensor_msgs/JointState
	TF           string // tf2_msgs/TFMessage (moving frames: EE, wrist camera)
	TFStatic     string // tf2_msgs/TFMessage, latched (fixed cameras)
	ExpertAction string // std_msgs/Float32MultiArray, the msgs.EEActionDim action
	Episode      string // std_msgs/String, JSON episode marker
	Objects      string // std_msgs/String, latched JSON list of the scene's objects
	ObjectPoses  string // geometry_msgs/PoseArray, privileged object poses in Objects order
	Depth        string // depth encoding: "32FC1" (metres) or "16UC1" (millimetres)
}

// DefaultTopics returns the data contract's topic names.
func DefaultTopics() Topics {
	return Topics{
		BaseFrame:    "base_link",
		EEFrame:      "ee_link",
		Instruction:  "/instruction",
		EEPose:       "/ee_pose",
		JointStates:  "/joint_states",
		TF:           "/tf",
		TFStatic:     "/tf_static",
		ExpertAction: "/vla3d/expert_action",
		Episode:      "/vla3d/episode",
		Objects:      "/vla3d/objects",
		ObjectPoses:  "/vla3d/object_poses",
		Depth:        "32FC1",
	}
}

// ColorTopic is camera cam's colour image topic.
func ColorTopic(cam string) string { return "/" + cam + "/color/image_raw" }

// ColorInfoTopic is camera cam's colour calibration topic.
func ColorInfoTopic(cam string) string { return "/" + cam + "/color/camera_info" }

// DepthTopic is camera cam's depth image topic (registered to colour).
func DepthTopic(cam string) string { return "/" + cam + "/depth/image_raw" }

// DepthInfoTopic is camera cam's depth calibration topic (same as colour:
// the depth is registered).
func DepthInfoTopic(cam string) string { return "/" + cam + "/depth/camera_info" }

// LabelsTopic is camera cam's instance-segmentation topic (mono16 ids,
// 0 = background), the pseudo ground truth for the instance module.
func LabelsTopic(cam string) string { return "/" + cam + "/labels/image_raw" }
