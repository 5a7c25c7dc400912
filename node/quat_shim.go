package node

import "github.com/vla3d/vla3d/perception"

// Forwarders for the tf code (tf.go, tf_cache.go), which stores quaternions
// as [4]float64 x, y, z, w; the math is perception.Quat's.

func quatNormalize(q [4]float64) [4]float64 {
	return perception.QuatFromArray(q).Normalize().Array()
}

func quatSlerp(a, b [4]float64, t float64) [4]float64 {
	return perception.QuatFromArray(a).Slerp(perception.QuatFromArray(b), t).Array()
}
