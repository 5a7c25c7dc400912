package sim

import (
	"context"
	"math"
	"testing"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
)

func TestIntrinsicsTable(t *testing.T) {
	cases := []struct {
		w, h       int
		fovy       float64
		fx, cx, cy float64
	}{
		// fy = (h/2)/tan(fovy/2): tan(22.5°) = 0.41421356
		{128, 128, 45, 64 / 0.41421356237309503, 63.5, 63.5},
		{224, 224, 90, 112, 111.5, 111.5},
		{320, 240, 60, 120 / math.Tan(math.Pi/6), 159.5, 119.5},
	}
	for _, c := range cases {
		fx, fy, cx, cy := Intrinsics(c.w, c.h, c.fovy)
		if math.Abs(fx-c.fx) > 1e-6 || fy != fx || cx != c.cx || cy != c.cy {
			t.Errorf("%dx%d fovy %v: got %v %v %v %v, want fx=fy=%v cx=%v cy=%v", c.w, c.h, c.fovy, fx, fy, cx, cy, c.fx, c.cx, c.cy)
		}
	}
}

func TestBaseFromOpticalAxes(t *testing.T) {
	// A MuJoCo camera looking straight down (-z_cam = -z_world) with image up
	// along +x: x_cam = (0,-1,0)... columns of mat are the camera axes.
	// x_cam = (0,-1,0), y_cam = (1,0,0), z_cam = (0,0,1).
	mat := [9]float64{0, 1, 0, -1, 0, 0, 0, 0, 1}
	tf := BaseFromOptical([3]float64{1, 2, 3}, mat)
	// Optical z (forward) must map to world -z, optical y (down) to -x, x (right) to -y.
	checks := []struct{ in, want Vec3 }{
		{Vec3{0, 0, 1}, Vec3{1, 2, 2}},
		{Vec3{0, 1, 0}, Vec3{0, 2, 3}},
		{Vec3{1, 0, 0}, Vec3{1, 1, 3}},
	}
	for _, c := range checks {
		got := TransformPoint(tf, c.in)
		if norm(sub(got, c.want)) > 1e-9 {
			t.Errorf("optical %v -> %v, want %v", c.in, got, c.want)
		}
	}
}

// emptyTable is a scene with only the table, walls and the robot.
func emptyTable(t *testing.T, w, h int) *Scene {
	t.Helper()
	s, err := BuildScene(EpisodeSpec{Task: TaskPickPlace, Split: SplitNone, Seed: 1}, w, h)
	if err != nil {
		t.Fatal(err)
	}
	s.Objects = nil
	return s
}

func pinhole(t *testing.T, cf *msgs.CameraFrame) (perception.Pinhole, perception.Rigid) {
	t.Helper()
	cam, err := perception.PinholeFromCameraInfo(cf.Info.Width, cf.Info.Height, cf.Info.DistortionModel, cf.Info.D, cf.Info.K, cf.Info.P)
	if err != nil {
		t.Fatal(err)
	}
	q := cf.BaseFromCamera.Rotation
	base, err := perception.RigidFromQuaternion(q[0], q[1], q[2], q[3], cf.BaseFromCamera.Translation)
	if err != nil {
		t.Fatal(err)
	}
	return cam, base
}

// TestDepthOfTablePlane renders the empty table and checks every table pixel's
// depth against the analytic intersection of its ray with the plane z = 0.
func TestDepthOfTablePlane(t *testing.T) {
	const w, h = 96, 72
	env, err := New(Config{Width: w, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	if err := env.ResetScene(ctx, EpisodeSpec{Task: TaskPickPlace, Split: SplitNone}, emptyTable(t, w, h)); err != nil {
		t.Fatal(err)
	}
	obs, err := env.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, cf := range obs.Cameras[:2] {
		cam, base := pinhole(t, &cf)
		checked, worst := 0, 0.0
		for v := 0; v < h; v++ {
			for u := 0; u < w; u++ {
				i := v*w + u
				if cf.Labels.IDs[i] != 0 {
					continue
				}
				ray := base.Rotate(cam.Ray(float64(u)+0.5, float64(v)+0.5))
				if ray[2] >= 0 {
					continue
				}
				z := -base.T[2] / ray[2] // depth along the optical axis (ray has z_opt = 1)
				p := add(base.T, scale(ray, z))
				if math.Abs(p[0]-tableCenterX) > tableHalfX-0.01 || math.Abs(p[1]) > tableHalfY-0.01 {
					continue
				}
				d := math.Abs(float64(cf.Depth.Meters[i]) - z)
				worst = math.Max(worst, d)
				checked++
			}
		}
		if checked < w*h/10 {
			t.Fatalf("%s: only %d table pixels", cf.Name, checked)
		}
		if worst > 0.002 {
			t.Errorf("%s: worst table depth error %.4f m over %d pixels", cf.Name, worst, checked)
		}
		t.Logf("%s: %d table pixels, worst depth error %.2g m", cf.Name, checked, worst)
	}
}

// distToBox is the distance from p (base frame) to an object's box volume.
func distToBox(p Vec3, pos Vec3, q perception.Quat, half Vec3) float64 {
	r := q.Matrix()
	d := sub(p, pos)
	var s float64
	for k := 0; k < 3; k++ {
		l := r[k]*d[0] + r[3+k]*d[1] + r[6+k]*d[2] // Rᵀ d
		e := math.Max(0, math.Abs(l)-half[k])
		s += e * e
	}
	return math.Sqrt(s)
}

// TestUnprojectLandsOnObjects unprojects every labelled pixel of the boxes
// with the published calibration (through the perception package) and
// checks it lies on the true object within 1 cm; it also projects each
// object's centre and checks that pixel carries the object's label.
func TestUnprojectLandsOnObjects(t *testing.T) {
	const w, h = 128, 96
	env, err := New(Config{Width: w, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	if err := env.Reset(ctx, EpisodeSpec{Task: TaskPickPlace, Split: SplitNone, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	obs, err := env.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := env.State()
	for _, cf := range obs.Cameras {
		cam, base := pinhole(t, &cf)
		camFromBase := base.Inverse()
		for _, o := range env.Scene().Objects {
			if o.Shape != ShapeBox {
				continue
			}
			os, _ := st.Object(o.Name)
			n, worst := 0, 0.0
			for i, id := range cf.Labels.IDs {
				if id != o.Label {
					continue
				}
				u, v := i%w, i/w
				p := base.Apply(cam.Unproject(float64(u)+0.5, float64(v)+0.5, float64(cf.Depth.Meters[i])))
				worst = math.Max(worst, distToBox(p, os.Pos, os.Quat, o.Size))
				n++
			}
			if n > 0 && worst > 0.01 {
				t.Errorf("%s/%s: %d pixels, worst distance to object %.4f m", cf.Name, o.Name, n, worst)
			}
			// Projection of the top-face centre (visible from above) must hit the object.
			top := add(os.Pos, Vec3{0, 0, o.Size[2] * 0.999})
			u, v, ok := cam.Project(camFromBase.Apply(top))
			if ok && cam.InImage(u, v) && n > 20 {
				if id := cf.Labels.IDs[int(v)*w+int(u)]; id != o.Label {
					t.Errorf("%s/%s: centre projects to (%.1f,%.1f) labelled %d", cf.Name, o.Name, u, v, id)
				}
			}
			t.Logf("%s/%s: %d pixels, worst %.2g m", cf.Name, o.Name, n, worst)
		}
	}
}

func TestObservationLayout(t *testing.T) {
	env, err := New(Config{Width: 40, Height: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	if err := env.Reset(ctx, EpisodeSpec{Task: TaskStack, Split: SplitNone, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	obs, err := env.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Cameras) != 3 || obs.BaseFrame != "base_link" || obs.Instruction == "" {
		t.Fatalf("bad observation header: %d cameras, frame %q, instruction %q", len(obs.Cameras), obs.BaseFrame, obs.Instruction)
	}
	for _, c := range obs.Cameras {
		if len(c.Color.Pix) != 40*30*3 || len(c.Depth.Meters) != 40*30 || len(c.Labels.IDs) != 40*30 {
			t.Errorf("%s: buffer sizes %d %d %d", c.Name, len(c.Color.Pix), len(c.Depth.Meters), len(c.Labels.IDs))
		}
		if c.Info.FrameID != OpticalFrameID(c.Name) || c.Info.K[8] != 1 || c.Info.P[10] != 1 {
			t.Errorf("%s: bad camera info %+v", c.Name, c.Info)
		}
	}
	if len(obs.JointPositions) != len(JointNames()) {
		t.Errorf("joint positions %v vs names %v", obs.JointPositions, JointNames())
	}
}
