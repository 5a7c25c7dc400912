package node

import "github.com/vla3d/vla3d/perception"

// Forwarders for the tf tests (tf_interp_test.go); the math is
// perception.Quat's.

func quatAngle(a, b [4]float64) float64 {
	return perception.QuatFromArray(a).Angle(perception.QuatFromArray(b))
}

func quatFromRPY(roll, pitch, yaw float64) [4]float64 {
	return perception.QuatFromRPY(roll, pitch, yaw).Array()
}
