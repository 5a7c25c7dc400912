package perception

import (
	"encoding/binary"
	"math"
	"testing"
)

// tabletopScene ray-casts a table (plane z = 0) with a vertical cylinder on
// it, as a depth camera would see it, so the whole geometry chain can be
// checked against exact surfaces.
type tabletopScene struct {
	cam       Pinhole
	baseFromC Rigid
	axis      [2]float64 // cylinder axis x, y
	radius, h float64
}

// cast returns the optical depth and label (1 = cylinder, 0 = table) seen
// through pixel centre (c, r); depth 0 means no hit.
func (s tabletopScene) cast(c, r int) (float64, uint16) {
	ray := s.cam.Ray(float64(c)+0.5, float64(r)+0.5)
	d := s.baseFromC.Rotate(ray) // base-frame direction with optical z = 1, so t is optical depth
	e := s.baseFromC.T
	best, label := math.Inf(1), uint16(0)
	if d[2] < 0 {
		best = -e[2] / d[2]
	}
	// Side: |e_xy + t d_xy - axis|² = radius².
	ox, oy := e[0]-s.axis[0], e[1]-s.axis[1]
	a := d[0]*d[0] + d[1]*d[1]
	b := 2 * (ox*d[0] + oy*d[1])
	cc := ox*ox + oy*oy - s.radius*s.radius
	if disc := b*b - 4*a*cc; disc >= 0 && a > 0 {
		if t := (-b - math.Sqrt(disc)) / (2 * a); t > 0 && t < best {
			if z := e[2] + t*d[2]; z >= 0 && z <= s.h {
				best, label = t, 1
			}
		}
	}
	// Top cap.
	if d[2] != 0 {
		if t := (s.h - e[2]) / d[2]; t > 0 && t < best {
			x, y := e[0]+t*d[0]-s.axis[0], e[1]+t*d[1]-s.axis[1]
			if x*x+y*y <= s.radius*s.radius {
				best, label = t, 1
			}
		}
	}
	if math.IsInf(best, 1) {
		return 0, 0
	}
	return best, label
}

// surfaceDistance is the distance from p to the scene's nearest surface.
func (s tabletopScene) surfaceDistance(p [3]float32) float64 {
	x, y, z := float64(p[0])-s.axis[0], float64(p[1])-s.axis[1], float64(p[2])
	rad := math.Hypot(x, y)
	side := math.Hypot(rad-s.radius, max(0, z-s.h, -z))
	top := math.Hypot(max(0, rad-s.radius), z-s.h)
	return min(math.Abs(z), side, top)
}

// TestTabletopPipeline runs 16UC1 bytes through decoding, patch unprojection,
// mask back-projection, the instance centroid, completion targets and
// projection, checking each against the exact scene.
func TestTabletopPipeline(t *testing.T) {
	const w, h = 224, 224
	eye := [3]float64{0, 0.05, 0.45}
	baseFromC, err := LookAt(eye, [3]float64{0.5, 0, 0.05}, [3]float64{0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	s := tabletopScene{
		cam:       Pinhole{Fx: 200, Fy: 200, Cx: 112, Cy: 112, Width: w, Height: h},
		baseFromC: baseFromC, axis: [2]float64{0.5, 0}, radius: 0.04, h: 0.12,
	}
	// Render 16UC1 millimetres with 4 bytes of row padding.
	const step = 2*w + 4
	data := make([]byte, step*h)
	labels := make([]uint16, w*h)
	for r := range h {
		for c := range w {
			z, l := s.cast(c, r)
			binary.LittleEndian.PutUint16(data[r*step+2*c:], uint16(math.Round(z*1000)))
			labels[r*w+c] = l
		}
	}
	depth := make([]float32, w*h)
	if err := DecodeDepth(EncodingDepth16, data, w, h, step, false, 0.1, 5, depth); err != nil {
		t.Fatal(err)
	}

	// Patch points of patches that see a single surface lie on it.
	const patch = 16
	cols, rows, _ := PatchGrid(w, h, patch)
	pts := make([]float32, 3*cols*rows)
	valid := make([]float32, cols*rows)
	var u PatchUnprojector
	if err := u.Unproject(depth, s.cam, baseFromC, patch, pts, valid); err != nil {
		t.Fatal(err)
	}
	pure := 0
	for i := range cols * rows {
		x0, y0 := i%cols*patch, i/cols*patch
		first, mixed := labels[y0*w+x0], false
		for y := y0; y < y0+patch; y++ {
			for x := x0; x < x0+patch; x++ {
				mixed = mixed || labels[y*w+x] != first
			}
		}
		if mixed || valid[i] == 0 {
			continue
		}
		pure++
		// The patch point uses the median depth at the centre ray; on a
		// slanted surface that is off by up to half a pixel's depth change,
		// which grows with range, plus 1 mm quantisation.
		p := [3]float32(pts[3*i : 3*i+3])
		rng := math.Sqrt(math.Pow(float64(p[0])-eye[0], 2) + math.Pow(float64(p[1])-eye[1], 2) + math.Pow(float64(p[2])-eye[2], 2))
		if d := s.surfaceDistance(p); d > 0.001+0.002*rng*rng {
			t.Fatalf("patch %d point %v at range %.2f m is %v m off the surface", i, p, rng, d)
		}
	}
	if pure < cols*rows/2 {
		t.Fatalf("only %d pure valid patches", pure)
	}

	// Mask back-projection: every object point lies on the cylinder.
	mask := make([]uint8, w*h)
	if err := MaskFromLabels(labels, 1, mask); err != nil {
		t.Fatal(err)
	}
	obj, err := BackprojectMask(mask, depth, s.cam, baseFromC, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(obj) < 3*200 {
		t.Fatalf("object has %d points", len(obj)/3)
	}
	for i := 0; i < len(obj); i += 3 {
		if d := s.surfaceDistance([3]float32(obj[i : i+3])); d > 0.002 {
			t.Fatalf("object point %v is %v m off the cylinder", obj[i:i+3], d)
		}
	}

	// The centroid pseudo-label sits inside the object's footprint, on the camera side of the axis.
	c, ok, err := InstanceCentroid(mask, depth, s.cam, baseFromC, nil)
	if err != nil || !ok {
		t.Fatalf("centroid: %v %v", ok, err)
	}
	axisDist := math.Hypot(s.axis[0]-eye[0], s.axis[1]-eye[1])
	cDist := math.Hypot(float64(c[0])-eye[0], float64(c[1])-eye[1])
	if math.Hypot(float64(c[0])-s.axis[0], float64(c[1])-s.axis[1]) > s.radius || cDist > axisDist || c[2] < 0 || float64(c[2]) > s.h {
		t.Fatalf("centroid %v outside the visible half of the cylinder", c)
	}

	// Completion queries fall on the hidden back of the cylinder.
	g, err := NewCompletionTargets(CompletionConfig{Eps: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	eyeF := [3]float32{float32(eye[0]), float32(eye[1]), float32(eye[2])}
	q := make([]float32, 3*5)
	n, err := g.Generate(obj, eyeF, 5, q)
	if err != nil || n != 5 {
		t.Fatalf("completion: %d %v", n, err)
	}
	vx, vy := s.axis[0]-eye[0], s.axis[1]-eye[1]
	for i := range n {
		qx, qy := float64(q[3*i])-s.axis[0], float64(q[3*i+1])-s.axis[1]
		if qx*vx+qy*vy <= 0 || math.Abs(math.Hypot(qx, qy)-s.radius) > 0.35*s.radius {
			t.Fatalf("query %v is not on the occluded back", q[3*i:3*i+3])
		}
	}

	// The object's true centre projects inside its mask box.
	box, _ := MaskBox(mask, w, h)
	uv, pv := make([]float32, 2), make([]float32, 1)
	centre := []float32{float32(s.axis[0]), float32(s.axis[1]), float32(s.h / 2)}
	if err := ProjectPoints(centre, s.cam, baseFromC.Inverse(), DefaultDepthEps, uv, pv); err != nil {
		t.Fatal(err)
	}
	nb := NormalizeBox(box, w, h)
	if pv[0] != 1 || uv[0] < nb[0] || uv[0] > nb[2] || uv[1] < nb[1] || uv[1] > nb[3] {
		t.Fatalf("centre projects to %v (valid %v), box %v", uv, pv, nb)
	}
}
