// Package rosio turns simulator observations, expert actions and episode
// events into the ROS 1 messages of the vla3d data contract, for both the
// live ROS node and bag recording, so the two publish identical streams.
package rosio

import "github.com/vla3d/vla3d/contract"

// Topics names every topic and frame the simulator publishes: the data
// contract's topics (contract.Topics, the same type the node, the dataset
// and eval configure) plus the frames and the depth encoding. All of them
// are configurable; DefaultTopics follows the contract.
type Topics struct {
	contract.Topics
	BaseFrame string // robot base frame (tf parent)
	EEFrame   string // end-effector (TCP) frame
	Depth     string // depth encoding: "32FC1" (metres) or "16UC1" (millimetres)
}

// DefaultTopics returns the data contract's topic names.
func DefaultTopics() Topics {
	return Topics{Topics: contract.DefaultTopics(), BaseFrame: contract.BaseFrame, EEFrame: contract.EEFrame, Depth: "32FC1"}
}
