package training

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph"

	"github.com/vla3d/vla3d/contract"
)

// Keyframe anchors: which instance each model anchor (model.InstanceAnchors)
// is taught to find. They come from the demonstration itself, so any
// recording with a gripper channel supervises them, with or without
// instance labels:
//
//	anchor 0: where the gripper closed on what it carried (the grasped
//	          object), until it closed;
//	anchor 1: where it opened again (the place target), until it opened.
//
// After its keyframe an anchor is not supervised: the grasped object is in
// the hand, and the policy no longer needs where it was.
const (
	AnchorGrasp   = 0
	AnchorRelease = 1
)

// carryLift is how far the end effector must rise while closed for a
// closing to count as carrying something.
const carryLift = 0.05

// MetricAnchorErrorCM is the anchors' localisation error figure: the mean
// distance (cm) between supervised anchors and their keyframes.
const MetricAnchorErrorCM = "anchor_error_cm"

// EpisodeStep is what AnchorTargets reads of one step of an episode.
type EpisodeStep struct {
	EE      [3]float32 // end-effector position, base frame, metres
	Yaw     float64    // end-effector yaw, radians
	Gripper float32    // the demonstrated gripper command of the step
}

// AnchorTargets computes the keyframe targets of every step of one episode
// (steps in order) for k anchors: targets [len(steps), k, 3], valid
// [len(steps), k] and turns [len(steps), k, 2], the (cos 4d, sin 4d) of the
// yaw turn d from the step's end-effector yaw to the keyframe's (the
// demonstrator's grasp orientation; boxes repeat every 90 degrees). The
// gripper command is read with the contract's rule (contract.GripperCommand).
// Anchors beyond the two keyframes, and keyframes the episode never reaches,
// are never valid.
func AnchorTargets(steps []EpisodeStep, k int) (targets, valid, turns []float32) {
	targets, valid, turns = make([]float32, len(steps)*k*3), make([]float32, len(steps)*k), make([]float32, len(steps)*k*2)
	closed := func(i int) bool { return contract.GripperCommand(float64(steps[i].Gripper)) == 1 }
	// The grasp is the first closing that carries (the end effector rises
	// carryLift above where it closed before opening again); a closing that
	// opens again without a lift (a missed grasp, as a demonstrator labelling
	// a policy's states re-grasps) has no release. Without a carry the first
	// closing is the grasp.
	grasp, release := -1, -1
	for i := 0; i < len(steps); i++ {
		if !closed(i) || (i > 0 && closed(i-1)) {
			continue
		}
		if grasp < 0 {
			grasp = i
		}
		lifted, end := false, -1
		for j := i; j < len(steps); j++ {
			if !closed(j) {
				end = j
				break
			}
			lifted = lifted || steps[j].EE[2]-steps[i].EE[2] >= carryLift
		}
		if lifted {
			grasp, release = i, end
			break
		}
	}
	set := func(anchor, key int) {
		if anchor >= k || key < 0 {
			return
		}
		for i := 0; i <= key; i++ {
			copy(targets[(i*k+anchor)*3:(i*k+anchor)*3+3], steps[key].EE[:])
			valid[i*k+anchor] = 1
			d := 4 * (steps[key].Yaw - steps[i].Yaw)
			turns[(i*k+anchor)*2], turns[(i*k+anchor)*2+1] = float32(math.Cos(d)), float32(math.Sin(d))
		}
	}
	set(AnchorGrasp, grasp)
	set(AnchorRelease, release)
	return targets, valid, turns
}

// setAnchorTargets fills every sample's anchor targets from its episode's
// keyframes. steps[i] and episodes[i] describe samples[i]; an episode's
// samples are consecutive and in step order.
func setAnchorTargets(samples []*Sample, steps []EpisodeStep, episodes []int, k int) error {
	if len(steps) != len(samples) || len(episodes) != len(samples) {
		return fmt.Errorf("anchor targets: %d samples, %d steps, %d episode ids", len(samples), len(steps), len(episodes))
	}
	for start := 0; start < len(samples); {
		end := start + 1
		for end < len(samples) && episodes[end] == episodes[start] {
			end++
		}
		t, v, turn := AnchorTargets(steps[start:end], k)
		for i := start; i < end; i++ {
			j := i - start
			samples[i].AnchorTargets = t[j*k*3 : (j+1)*k*3]
			samples[i].AnchorValid = v[j*k : (j+1)*k]
			samples[i].AnchorTurns = turn[j*k*2 : (j+1)*k*2]
		}
		start = end
	}
	return nil
}

// anchorTerms are the anchor loss (L1, metres, over supervised anchors and
// axes), the turn loss (squared error of (cos 4d, sin 4d)) and the
// localisation figure (cm).
type anchorTerms struct {
	L1, Turn, ErrorCM *Node
}

// anchorLoss compares anchors [B,K,3] and turns [B,K,2] with their targets
// where valid [B,K].
func anchorLoss(anchors, targets, turns, turnTargets, valid *Node) anchorTerms {
	diff := Sub(anchors, targets)
	supervised := ReduceAllSum(valid)
	n := Max(supervised, OnesLike(supervised))
	l1 := Div(ReduceAllSum(Mul(ReduceSum(Abs(diff), -1), valid)), MulScalar(n, 3))
	turn := Div(ReduceAllSum(Mul(ReduceSum(Square(Sub(turns, turnTargets)), -1), valid)), n)
	dist := Sqrt(AddScalar(ReduceSum(Square(StopGradient(diff)), -1), 1e-12))
	return anchorTerms{L1: l1, Turn: turn, ErrorCM: MulScalar(Div(ReduceAllSum(Mul(dist, valid)), n), 100)}
}
