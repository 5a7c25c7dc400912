package sim

import (
	"context"
	"errors"
	"math"

	"github.com/vla3d/vla3d/msgs"
)

// Controller maps an observation to an action chunk of end-effector delta
// actions (msgs layout). Policies, adapters and the scripted expert implement it.
type Controller interface {
	Act(ctx context.Context, obs *msgs.Observation) (msgs.ActionChunk, error)
}

// expert phases.
type phase int

const (
	phaseApproach phase = iota // funnel down onto the grasp point
	phaseGrasp
	phaseLift
	phaseTransport // funnel down onto the place point
	phaseRelease
	phaseRetreat
	phaseDone
)

// Expert tuning. The expert is decisive, so that a policy can imitate it
// from what it sees: each step goes straight for its waypoint (capped at
// expertMaxStep, no exponential settling that leaves a policy hovering a
// few millimetres short), and it descends in a funnel, its height above the
// grasp (or place) point expertFunnel times its horizontal distance to it,
// so it closes (opens) the gripper when its height reaches the point's:
// a decision the policy reads from its own pose, not one that hinges on
// millimetres of localisation. Within a slack of the point (what the task
// tolerates: a few millimetres for a grasp, a fraction of the bowl) the
// funnel is flat, so the last centimetre, which a policy resolves least
// well, never gates the descent or the release; policies trained on a
// funnel that narrowed to a point hovered a centimetre above the bowl with
// the block in hand.
const (
	expertGain       = 1.0
	expertMaxStep    = 0.03 // m per control step
	expertMaxYaw     = 0.15 // rad per control step
	expertMinTurn    = 0.2  // least fraction of the remaining turn an approach step takes
	expertTol        = 0.004
	expertFunnel     = 1.5   // m of height per m of horizontal distance
	expertGraspSlack = 0.008 // m: the funnel's flat bottom over the grasp point
	expertClearance  = 0.15  // transport height above the table
	graspWaitSteps   = 4
	// expertHoldRadius: a target farther than this from the gripper is not held.
	expertHoldRadius = 0.04
	releaseSteps     = 3
)

// Expert is the scripted oracle: it reads the privileged state of its Env
// (not the observation) and emits one delta action per call. It resets
// itself when the Env starts a new episode.
type Expert struct {
	env     *Env
	episode int
	phase   phase
	wait    int
}

// NewExpert returns the scripted expert for env.
func NewExpert(env *Env) *Expert { return &Expert{env: env, episode: -1} }

// Act implements Controller.
func (x *Expert) Act(ctx context.Context, _ *msgs.Observation) (msgs.ActionChunk, error) {
	a, err := x.Action(ctx)
	if err != nil {
		return msgs.ActionChunk{}, err
	}
	return msgs.ActionChunk{
		Stamp: x.env.Stamp(), Period: x.env.ControlPeriod(), Horizon: 1, Dim: msgs.EEActionDim, Values: a,
	}, nil
}

// Action computes the next expert action from the privileged state.
func (x *Expert) Action(ctx context.Context) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := x.env
	if e.scene == nil {
		return nil, errors.New("sim: expert used before Reset")
	}
	if x.episode != e.Episode() {
		x.episode, x.phase, x.wait = e.Episode(), phaseApproach, 0
	}
	task, err := LookupTask(e.scene.Task)
	if err != nil {
		return nil, err
	}
	st := e.State()
	tgt, _ := st.Object(task.Target)
	goal, _ := st.Object(task.Goal)
	tObj, _ := e.scene.Object(task.Target)
	gObj, _ := e.scene.Object(task.Goal)

	grasp := add(tgt.Pos, Vec3{0, 0, 0.005})
	var place Vec3
	if task.Stack {
		place = Vec3{goal.Pos[0], goal.Pos[1], goal.Pos[2] + gObj.Size[2] + tObj.Size[2] + 0.012}
	} else {
		place = Vec3{goal.Pos[0], goal.Pos[1], goal.Pos[2] + 0.008 + tObj.Size[2] + 0.035}
	}
	yawGoal := graspYaw(tgt.Quat.Yaw(), st.TargetQuat.Yaw())
	slack := placeSlack(task, tObj, gObj)

	cur := st.TargetPos
	if (x.phase == phaseLift || x.phase == phaseTransport) && norm(sub(tgt.Pos, st.EEPos)) > expertHoldRadius {
		// The target is not in the hand (a grasp that missed, or a policy
		// the expert labels for dropped it): grasp it again.
		x.phase = phaseApproach
	}
	var way Vec3
	grip := 0.0
	switch x.phase {
	case phaseApproach:
		way = funnel(cur, grasp, expertGraspSlack)
		// The funnel puts the expert's own descent on the grasp point; the
		// horizontal gate keeps it from closing elsewhere when something
		// else (a policy it labels for) drove the gripper low.
		if cur[2]-grasp[2] < expertTol && horizontal(cur, grasp) < 0.01 {
			x.phase, x.wait = phaseGrasp, 0
		}
	case phaseGrasp:
		way, grip = cur, 1
		if x.wait++; x.wait >= graspWaitSteps {
			x.phase = phaseLift
		}
	case phaseLift:
		way, grip = Vec3{cur[0], cur[1], expertClearance}, 1
		if reached(cur, way, 0.01) {
			x.phase = phaseTransport
		}
	case phaseTransport:
		way, grip = funnel(cur, place, slack), 1
		if cur[2]-place[2] < expertTol && horizontal(cur, place) < slack {
			x.phase, x.wait = phaseRelease, 0
		}
	case phaseRelease:
		way = cur
		if x.wait++; x.wait >= releaseSteps {
			x.phase = phaseRetreat
		}
	case phaseRetreat:
		way = Vec3{cur[0], cur[1], expertClearance}
		if reached(cur, way, 0.01) {
			x.phase = phaseDone
		}
	default:
		way = cur
	}
	// One step of the straight line to the waypoint's pose: the speed cap
	// sets the fraction of the way this step covers, and the turn to the
	// grasp yaw (approach only) takes the same fraction, so the gripper
	// turns all along the approach, finishing as it arrives, rather than in
	// a few early steps a policy regresses to zero. No ramp from the previous
	// action: the expert is Markov in what the policy can see (its action is
	// a function of the scene and the robot's state; the phase follows from
	// them), so a policy can imitate it.
	d := scale(sub(way, cur), expertGain)
	frac := 1.0
	if n := norm(d); n > expertMaxStep {
		frac = expertMaxStep / n
		d = scale(d, frac)
	}
	dyaw := 0.0
	if x.phase == phaseApproach {
		turn := wrapAngle(yawGoal - st.TargetQuat.Yaw())
		dyaw = math.Max(-expertMaxYaw, math.Min(expertMaxYaw, turn*math.Max(frac, expertMinTurn)))
	}
	a := make([]float32, msgs.EEActionDim)
	a[msgs.ActionDX], a[msgs.ActionDY], a[msgs.ActionDZ] = float32(d[0]), float32(d[1]), float32(d[2])
	a[msgs.ActionDYaw] = float32(dyaw)
	a[msgs.ActionGripper] = float32(grip)
	return a, nil
}

// graspYaw picks the gripper yaw closest to the current one that aligns the
// fingers with the target's faces (boxes are symmetric under 90° turns).
func graspYaw(objYaw, cur float64) float64 {
	best, bestD := objYaw, math.Inf(1)
	for k := -4; k <= 4; k++ {
		y := objYaw + float64(k)*math.Pi/2
		if d := math.Abs(wrapAngle(y - cur)); d < bestD {
			best, bestD = cur+wrapAngle(y-cur), d
		}
	}
	return best
}

func reached(a, b Vec3, tol float64) bool { return norm(sub(a, b)) < tol }

// horizontal is the distance between a and b in the table plane.
func horizontal(a, b Vec3) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }

// funnel is the waypoint toward goal from cur: above goal at expertFunnel
// times the horizontal distance beyond slack (at most the clearance
// height), so the descent ends on goal from above and is never held up by
// the last slack metres.
func funnel(cur, goal Vec3, slack float64) Vec3 {
	h := math.Max(0, horizontal(cur, goal)-slack)
	return Vec3{goal[0], goal[1], math.Max(goal[2], math.Min(expertClearance, goal[2]+expertFunnel*h))}
}

// placeSlack is how far from the place point the expert may release: half
// the room the bowl leaves around the target, or a third of the half width
// of the object it stacks on (Env.Success tolerates the whole of either).
func placeSlack(task Task, target, goal Object) float64 {
	if task.Stack {
		return goal.Size[0] / 3
	}
	return math.Max(expertGraspSlack, (goal.Size[0]-target.Radius())/2)
}
