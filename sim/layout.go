package sim

import (
	"errors"
	"math"
	"math/rand/v2"
)

// placement parameters of the nominal layout.
const (
	placeMargin   = 0.04 // clearance between footprints, room for open fingers
	placeAttempts = 200
	placeRestarts = 50
	occluderGap   = 0.09 // target centre to occluder centre, toward the front camera
)

// placeObjects samples non-overlapping table positions for objs. spread >= 1
// widens the nominal workspace (Layout perturbation). The target is placed
// first, then the occluder (if any) between it and the nominal front camera,
// then the rest.
func placeObjects(objs []Object, task Task, rng *rand.Rand, spread float64) error {
	cx, cy := (wsXMin+wsXMax)/2, (wsYMin+wsYMax)/2
	hx := math.Min((wsXMax-wsXMin)/2*spread, 0.2)
	hy := math.Min((wsYMax-wsYMin)/2*spread, 0.3)
	order := make([]int, 0, len(objs))
	occ := -1
	for i, o := range objs {
		switch {
		case o.Name == task.Target:
			order = append([]int{i}, order...)
		case o.Name == "occluder":
			occ = i
		default:
			order = append(order, i)
		}
	}
	// Whole-layout restarts: a greedy pass can paint itself into a corner.
	for try := 0; try < placeRestarts; try++ {
		if placeOnce(objs, order, occ, rng, cx, cy, hx, hy) {
			return nil
		}
	}
	return errors.New("sim: could not place objects without overlap")
}

func placeOnce(objs []Object, order []int, occ int, rng *rand.Rand, cx, cy, hx, hy float64) bool {
	var placed []int
	fits := func(p Vec3, r float64) bool {
		for _, j := range placed {
			q := objs[j]
			if math.Hypot(p[0]-q.Pos[0], p[1]-q.Pos[1]) < r+q.Radius()+placeMargin {
				return false
			}
		}
		return true
	}
	for k, i := range order {
		o := &objs[i]
		ok := false
		for a := 0; a < placeAttempts; a++ {
			p := Vec3{cx + (2*rng.Float64()-1)*hx, cy + (2*rng.Float64()-1)*hy, restHeight(*o)}
			yaw := 0.0
			if o.Shape != ShapeBowl {
				yaw = (2*rng.Float64() - 1) * math.Pi / 4
			}
			if fits(p, o.Radius()) {
				o.Pos, o.Yaw, ok = p, yaw, true
				break
			}
		}
		if !ok {
			return false
		}
		placed = append(placed, i)
		if k == 0 && occ >= 0 {
			placeOccluder(&objs[occ], *o)
			placed = append(placed, occ)
		}
	}
	return true
}

// placeOccluder puts the occluder between target and the nominal front
// camera, broadside to the line of sight, so it hides the lower part of the target.
func placeOccluder(occ *Object, target Object) {
	front := defaultCameras()[0].Pos
	d := normalize(Vec3{front[0] - target.Pos[0], front[1] - target.Pos[1], 0})
	occ.Pos = add(Vec3{target.Pos[0], target.Pos[1], 0}, scale(d, occluderGap))
	occ.Pos[2] = restHeight(*occ)
	occ.Yaw = math.Atan2(d[1], d[0])
}

// restHeight is the z of an object's centre when it rests on the table.
func restHeight(o Object) float64 {
	if o.Shape == ShapeBowl {
		return 0
	}
	return o.Size[2]
}
