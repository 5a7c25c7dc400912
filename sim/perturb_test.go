package sim

import (
	"context"
	"math"
	"reflect"
	"slices"
	"testing"
)

// sceneGroups names the parts of a Scene that differ between a and b.
func sceneGroups(a, b *Scene) []string {
	var d []string
	if a.Instruction != b.Instruction {
		d = append(d, "language")
	}
	if !reflect.DeepEqual(a.Objects, b.Objects) {
		d = append(d, "layout")
	}
	if !reflect.DeepEqual(a.Cameras, b.Cameras) {
		d = append(d, "camera")
	}
	if a.EEStart != b.EEStart || a.EEYaw != b.EEYaw {
		d = append(d, "robot")
	}
	if a.Light != b.Light {
		d = append(d, "light")
	}
	if a.Background != b.Background {
		d = append(d, "background")
	}
	if a.Noise != b.Noise {
		d = append(d, "noise")
	}
	if a.Task != b.Task || a.Target != b.Target || a.Goal != b.Goal || a.Width != b.Width || a.Height != b.Height {
		d = append(d, "task")
	}
	return d
}

// TestPerturbationsChangeOnlyTheirPart checks, for every task, split and
// seed, that a perturbed scene differs from the unperturbed one in exactly
// the split's own part, and that severity 0 changes nothing.
func TestPerturbationsChangeOnlyTheirPart(t *testing.T) {
	for _, task := range Tasks() {
		for _, split := range Splits() {
			for seed := uint64(0); seed < 5; seed++ {
				nominal, err := BuildScene(EpisodeSpec{Task: task.Name, Split: SplitNone, Seed: seed}, 64, 64)
				if err != nil {
					t.Fatal(err)
				}
				zero, err := BuildScene(EpisodeSpec{Task: task.Name, Split: split, Severity: 0, Seed: seed}, 64, 64)
				if err != nil {
					t.Fatal(err)
				}
				if d := sceneGroups(nominal, zero); len(d) != 0 {
					t.Errorf("%s/%s seed %d severity 0 changed %v", task.Name, split, seed, d)
				}
				pert, err := BuildScene(EpisodeSpec{Task: task.Name, Split: split, Severity: 0.8, Seed: seed}, 64, 64)
				if err != nil {
					t.Fatal(err)
				}
				d := sceneGroups(nominal, pert)
				want := []string{split}
				if split == SplitNone {
					want = nil
				}
				if !slices.Equal(d, want) {
					t.Errorf("%s/%s seed %d: changed %v, want %v", task.Name, split, seed, d, want)
				}
				again, _ := BuildScene(EpisodeSpec{Task: task.Name, Split: split, Severity: 0.8, Seed: seed}, 64, 64)
				if !reflect.DeepEqual(pert, again) {
					t.Errorf("%s/%s seed %d: not deterministic", task.Name, split, seed)
				}
			}
		}
	}
}

func TestSeverityScalesPerturbation(t *testing.T) {
	nominal, _ := BuildScene(EpisodeSpec{Task: TaskPickPlace, Split: SplitNone, Seed: 4}, 64, 64)
	prev := 0.0
	for _, sev := range []float64{0.25, 0.5, 1} {
		s, err := BuildScene(EpisodeSpec{Task: TaskPickPlace, Split: SplitRobot, Severity: sev, Seed: 4}, 64, 64)
		if err != nil {
			t.Fatal(err)
		}
		d := norm(sub(s.EEStart, nominal.EEStart))
		if d <= prev {
			t.Errorf("robot offset %.4f at severity %v not larger than %.4f", d, sev, prev)
		}
		prev = d
	}
	s, _ := BuildScene(EpisodeSpec{Task: TaskPickPlace, Split: SplitLayout, Severity: 1, Seed: 4}, 64, 64)
	if len(s.Objects) != len(nominal.Objects)+3 {
		t.Errorf("layout severity 1: %d objects, want %d", len(s.Objects), len(nominal.Objects)+3)
	}
	n, _ := BuildScene(EpisodeSpec{Task: TaskPickPlace, Split: SplitNoise, Severity: 0.5, Seed: 4}, 64, 64)
	if n.Noise.RGBStd != 10 || n.Noise.DepthStd != 0.005 {
		t.Errorf("noise at severity 0.5: %+v", n.Noise)
	}
}

// TestRenderedPerturbations checks the images: appearance perturbations
// change colours but not geometry (depth, labels); the camera perturbation
// moves the fixed cameras only; noise leaves labels alone.
func TestRenderedPerturbations(t *testing.T) {
	env, err := New(Config{Width: 48, Height: 48})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	render := func(split string) ([][]uint8, [][]float32, [][]uint16, []Vec3) {
		if err := env.Reset(ctx, EpisodeSpec{Task: TaskPickPlace, Split: split, Severity: 1, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		obs, err := env.Observe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var rgb [][]uint8
		var dep [][]float32
		var lab [][]uint16
		var pos []Vec3
		for _, c := range obs.Cameras {
			rgb, dep, lab = append(rgb, c.Color.Pix), append(dep, c.Depth.Meters), append(lab, c.Labels.IDs)
			pos = append(pos, c.BaseFromCamera.Translation)
		}
		return rgb, dep, lab, pos
	}
	rgb0, dep0, lab0, pos0 := render(SplitNone)
	rgbA, depA, labA, _ := render(SplitNone)
	if !reflect.DeepEqual(rgb0, rgbA) || !sameDepth(dep0, depA) || !reflect.DeepEqual(lab0, labA) {
		t.Fatal("rendering is not deterministic")
	}
	for _, split := range []string{SplitLight, SplitBackground} {
		rgb, dep, lab, pos := render(split)
		if reflect.DeepEqual(rgb, rgb0) {
			t.Errorf("%s: colours unchanged", split)
		}
		if !sameDepth(dep, dep0) || !reflect.DeepEqual(lab, lab0) || !reflect.DeepEqual(pos, pos0) {
			t.Errorf("%s: geometry changed", split)
		}
	}
	rgb, dep, lab, pos := render(SplitNoise)
	if reflect.DeepEqual(rgb, rgb0) || sameDepth(dep, dep0) {
		t.Error("noise: images unchanged")
	}
	if !reflect.DeepEqual(lab, lab0) || !reflect.DeepEqual(pos, pos0) {
		t.Error("noise: labels or poses changed")
	}
	_, _, _, pos = render(SplitCamera)
	if pos[0] == pos0[0] || pos[1] == pos0[1] {
		t.Error("camera: fixed cameras did not move")
	}
	if pos[2] != pos0[2] {
		t.Error("camera: wrist camera moved")
	}
}

func sameDepth(a, b [][]float32) bool {
	for i := range a {
		for k := range a[i] {
			x, y := a[i][k], b[i][k]
			if x != y && !(math.IsNaN(float64(x)) && math.IsNaN(float64(y))) {
				return false
			}
		}
	}
	return true
}

func TestBadInputs(t *testing.T) {
	bad := []EpisodeSpec{
		{Task: "juggle", Split: SplitNone},
		{Task: TaskPickPlace, Split: "weather"},
		{Task: TaskPickPlace, Split: SplitLight, Severity: -0.1},
		{Task: TaskPickPlace, Split: SplitLight, Severity: 1.5},
		{Task: TaskPickPlace, Split: SplitLight, Severity: math.NaN()},
	}
	for _, s := range bad {
		if _, err := BuildScene(s, 64, 64); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	if _, err := New(Config{Width: -1}); err == nil {
		t.Error("negative width accepted")
	}
	env, err := New(Config{Width: 32, Height: 32, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	if err := env.Step(ctx, make([]float32, 7)); err == nil {
		t.Error("Step before Reset accepted")
	}
	if err := env.Reset(ctx, bad[0]); err == nil {
		t.Error("unknown task accepted by Reset")
	}
	if err := env.Reset(ctx, EpisodeSpec{Task: TaskPickPlace, Split: SplitNone}); err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	for _, a := range [][]float32{nil, make([]float32, 6), make([]float32, 8), {nan, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, float32(math.Inf(1))}} {
		if err := env.Step(ctx, a); err == nil {
			t.Errorf("action %v accepted", a)
		}
	}
	// The sim still works after rejected commands.
	if err := env.Step(ctx, []float32{0.01, 0, 0, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := Evaluate(ctx, env, EvalConfig{Task: TaskPickPlace, Split: "weather", Episodes: 1}, ExpertFactory); err == nil {
		t.Error("Evaluate accepted an unknown split")
	}
}

// FuzzStep feeds arbitrary actions to a live sim: it must either reject them
// with an error or keep the end-effector target finite and in the workspace.
func FuzzStep(f *testing.F) {
	env, err := New(Config{Width: 16, Height: 16, SkipLabels: true})
	if err != nil {
		f.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	if err := env.Reset(ctx, EpisodeSpec{Task: TaskPickPlace, Split: SplitNone}); err != nil {
		f.Fatal(err)
	}
	f.Add(float32(0.01), float32(0), float32(0), float32(0), float32(0), float32(0.1), float32(1), 7)
	f.Add(float32(math.NaN()), float32(0), float32(0), float32(0), float32(0), float32(0), float32(0), 7)
	f.Add(float32(1e30), float32(-1e30), float32(5), float32(9), float32(-9), float32(3), float32(-4), 7)
	f.Add(float32(0), float32(0), float32(0), float32(0), float32(0), float32(0), float32(0), 3)
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g, h float32, n int) {
		act := []float32{a, b, c, d, e, g, h}
		if n >= 0 && n < len(act) {
			act = act[:n]
		}
		err := env.Step(ctx, act)
		if err == nil && ValidateAction(act) != nil {
			t.Fatalf("invalid action %v accepted", act)
		}
		st := env.State()
		lo, hi := workspace()
		for k := 0; k < 3; k++ {
			if math.IsNaN(st.TargetPos[k]) || st.TargetPos[k] < lo[k] || st.TargetPos[k] > hi[k] {
				t.Fatalf("target %v left the workspace", st.TargetPos)
			}
		}
	})
}

// TestScenesSettle resets many scenes and checks every object rests where
// it was placed (nothing interpenetrates or gets launched at reset).
func TestScenesSettle(t *testing.T) {
	env, err := New(Config{Width: 16, Height: 16, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	seeds := uint64(5)
	if testing.Short() {
		seeds = 2
	}
	for _, task := range Tasks() {
		for _, split := range Splits() {
			for seed := uint64(0); seed < seeds; seed++ {
				if err := env.Reset(ctx, EpisodeSpec{Task: task.Name, Split: split, Severity: 1, Seed: 3000 + seed}); err != nil {
					t.Fatal(err)
				}
				st := env.State()
				for i, o := range env.Scene().Objects {
					if d := norm(sub(st.Objects[i].Pos, o.Pos)); d > 0.005 {
						t.Errorf("%s/%s seed %d: %s moved %.3f m while settling", task.Name, split, seed, o.Name, d)
					}
				}
			}
		}
	}
}
