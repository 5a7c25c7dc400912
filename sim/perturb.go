package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Split names: the unperturbed split and the LIBERO-Plus style perturbation
// suites. Each perturbation edits only its own part of the Scene.
const (
	SplitNone       = "none"
	SplitCamera     = "camera"     // fixed cameras' viewpoint shift and roll
	SplitRobot      = "robot"      // initial end-effector pose
	SplitLanguage   = "language"   // paraphrased instruction
	SplitLight      = "light"      // key light direction, intensity, tint
	SplitBackground = "background" // table, wall and floor colours
	SplitNoise      = "noise"      // image and depth noise
	SplitLayout     = "layout"     // wider placement and distractor objects
)

// Splits lists the valid split names.
func Splits() []string {
	return []string{SplitNone, SplitCamera, SplitRobot, SplitLanguage, SplitLight, SplitBackground, SplitNoise, SplitLayout}
}

// EpisodeSpec selects one episode: task, perturbation split, its severity
// in [0, 1], and the seed that fixes everything random about it.
type EpisodeSpec struct {
	Task     string
	Split    string
	Severity float64
	Seed     uint64
}

// Validate reports unknown names and out-of-range severities.
func (s EpisodeSpec) Validate() error {
	if _, err := LookupTask(s.Task); err != nil {
		return err
	}
	if !validSplit(s.Split) {
		names := Splits()
		sort.Strings(names)
		return fmt.Errorf("sim: unknown split %q (valid: %v)", s.Split, names)
	}
	if math.IsNaN(s.Severity) || s.Severity < 0 || s.Severity > 1 {
		return fmt.Errorf("sim: severity %v outside [0, 1]", s.Severity)
	}
	return nil
}

func validSplit(name string) bool {
	for _, s := range Splits() {
		if s == name {
			return true
		}
	}
	return false
}

// Independent random streams, so that one perturbation drawing numbers does
// not shift what another (or the nominal layout) draws.
const (
	streamLayout uint64 = iota + 1
	streamCamera
	streamRobot
	streamLanguage
	streamLight
	streamBackground
	streamNoise
)

func stream(seed, id uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15*id))
}

// BuildScene constructs the deterministic scene of an episode at image size w x h.
func BuildScene(spec EpisodeSpec, w, h int) (*Scene, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || w > 4096 || h > 4096 {
		return nil, fmt.Errorf("sim: invalid image size %dx%d", w, h)
	}
	task, _ := LookupTask(spec.Task)
	sev := spec.Severity
	if spec.Split == SplitNone {
		sev = 0
	}
	s := &Scene{
		Task: task.Name, Instruction: task.Instruction, Target: task.Target, Goal: task.Goal,
		Objects: baseObjects(), Cameras: defaultCameras(),
		EEStart: Vec3{0.4, 0, 0.25}, Light: defaultLight(), Background: defaultBackground(),
		Width: w, Height: h,
	}
	if task.Occlude {
		s.Objects = append(s.Objects, occluderObject())
	}
	spread, distractors := 1.0, 0
	if spec.Split == SplitLayout {
		spread = 1 + 0.5*sev
		distractors = int(math.Round(3 * sev))
		s.Objects = append(s.Objects, distractorObjects()[:distractors]...)
	}
	if err := placeObjects(s.Objects, task, stream(spec.Seed, streamLayout), spread); err != nil {
		return nil, err
	}
	switch spec.Split {
	case SplitCamera:
		perturbCameras(s, sev, stream(spec.Seed, streamCamera))
	case SplitRobot:
		perturbRobot(s, sev, stream(spec.Seed, streamRobot))
	case SplitLanguage:
		perturbLanguage(s, task, sev, stream(spec.Seed, streamLanguage))
	case SplitLight:
		perturbLight(s, sev, stream(spec.Seed, streamLight))
	case SplitBackground:
		perturbBackground(s, sev, stream(spec.Seed, streamBackground))
	case SplitNoise:
		s.Noise = Noise{RGBStd: 20 * sev, DepthStd: 0.01 * sev, DepthDropout: 0.05 * sev}
	}
	return s, nil
}

func uniform(rng *rand.Rand, a float64) float64 { return (2*rng.Float64() - 1) * a }

// perturbCameras moves each fixed camera up to 0.12·sev m, shifts its look-at
// point up to 0.06·sev m and rolls it up to 15°·sev. The wrist camera is
// part of the robot and stays.
func perturbCameras(s *Scene, sev float64, rng *rand.Rand) {
	for i := range s.Cameras {
		c := &s.Cameras[i]
		if c.Wrist {
			continue
		}
		c.Pos = add(c.Pos, Vec3{uniform(rng, 0.12*sev), uniform(rng, 0.12*sev), uniform(rng, 0.12*sev)})
		c.Target = add(c.Target, Vec3{uniform(rng, 0.06*sev), uniform(rng, 0.06*sev), 0})
		c.Roll = uniform(rng, 15*math.Pi/180*sev)
	}
}

// perturbRobot offsets the initial end-effector position and yaw.
func perturbRobot(s *Scene, sev float64, rng *rand.Rand) {
	s.EEStart = add(s.EEStart, Vec3{uniform(rng, 0.12*sev), uniform(rng, 0.15*sev), uniform(rng, 0.08*sev)})
	s.EEYaw = uniform(rng, 0.6*sev)
}

// perturbLanguage replaces the instruction with a paraphrase drawn from the
// first ceil(sev·n) entries (milder rewordings at low severity).
func perturbLanguage(s *Scene, task Task, sev float64, rng *rand.Rand) {
	n := int(math.Ceil(sev * float64(len(task.Paraphrases))))
	if n == 0 {
		return
	}
	s.Instruction = task.Paraphrases[rng.IntN(n)]
}

// perturbLight scales the key light by [1-0.7·sev, 1+0.5·sev], tints it and
// tilts its direction.
func perturbLight(s *Scene, sev float64, rng *rand.Rand) {
	gain := 1 + sev*(rng.Float64()*1.2-0.7)
	l := &s.Light
	for k := 0; k < 3; k++ {
		tint := 1 + uniform(rng, 0.3*sev)
		l.Diffuse[k] = clamp01(l.Diffuse[k] * gain * tint)
		l.Ambient[k] = clamp01(l.Ambient[k] * gain)
		l.Headlight[k] = clamp01(l.Headlight[k] * gain)
	}
	l.Dir = normalize(add(l.Dir, Vec3{uniform(rng, 0.8*sev), uniform(rng, 0.8*sev), 0}))
}

// perturbBackground blends the table, wall and floor colours toward random
// colours by sev.
func perturbBackground(s *Scene, sev float64, rng *rand.Rand) {
	blend := func(c *[4]float64) {
		for k := 0; k < 3; k++ {
			c[k] = (1-sev)*c[k] + sev*rng.Float64()
		}
	}
	blend(&s.Background.Table)
	blend(&s.Background.Wall)
	blend(&s.Background.Floor)
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }
