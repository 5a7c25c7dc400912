package policy

import "time"

// Extra output tensors of models with the 3D modules: what the model
// perceived, for visualization and diagnostics (never needed to act).
// Spec.Outputs lists those an exported model has.
const (
	// TensorInstancePoints [B,Q,3]: the instance probes' refined 3D
	// reference points in the base frame (metres).
	TensorInstancePoints = "instance_points"
	// TensorInstanceScores [B,Q]: each probe's confidence that it is an
	// object, in [0,1] (the sigmoid of its class logit).
	TensorInstanceScores = "instance_scores"
	// TensorCompletionPoints [B,M,3]: the base-frame coordinates at which the
	// predictor completed occluded geometry (rows with the predictor).
	TensorCompletionPoints = "completion_points"
	// TensorAnchorPoints [B,K,3]: the instructed instance anchors' 3D
	// reference points in the base frame (metres): anchor 0 where the policy
	// will grasp, anchor 1 where it will place (models with anchors).
	TensorAnchorPoints = "anchor_points"
)

// Perception is what a model reported of the scene for one observation.
// Slices are reused between calls.
type Perception struct {
	Stamp time.Time // the observation's stamp
	// Points [Q*3] and Scores [Q] are the instance probes (Q = 0 without
	// the instance module).
	Points []float32
	Scores []float32
	// Completion [M*3] are the predictor's completion coordinates.
	Completion []float32
	// Anchors [K*3] are the instructed instance anchors (grasp, place).
	Anchors []float32
}

// AnchorPoints is the number of instance anchors.
func (p *Perception) AnchorPoints() int { return len(p.Anchors) / 3 }

// Anchor returns anchor k's reference point.
func (p *Perception) Anchor(k int) [3]float32 {
	return [3]float32{p.Anchors[3*k], p.Anchors[3*k+1], p.Anchors[3*k+2]}
}

// Instances is the number of instance probes.
func (p *Perception) Instances() int { return len(p.Scores) }

// Point returns probe i's reference point.
func (p *Perception) Point(i int) [3]float32 {
	return [3]float32{p.Points[3*i], p.Points[3*i+1], p.Points[3*i+2]}
}

// CompletionPoints is the number of completion coordinates.
func (p *Perception) CompletionPoints() int { return len(p.Completion) / 3 }

// CompletionPoint returns completion coordinate j.
func (p *Perception) CompletionPoint(j int) [3]float32 {
	return [3]float32{p.Completion[3*j], p.Completion[3*j+1], p.Completion[3*j+2]}
}

// Perceiver is a Policy that also reports what it perceived.
type Perceiver interface {
	Policy
	// Perception copies the scene outputs of the last Predict into dst. It
	// reports false when the model exposes none (a Baseline without anchors,
	// or a model exported without them). Call it from the goroutine that called
	// Predict, before the next Predict.
	Perception(dst *Perception) bool
}

// ConfidenceColor is the colour every view draws an instance of confidence
// score in (live markers, offline pictures and plots): orange when just
// confident, green when certain. Components are in [0,1]; score is clamped.
func ConfidenceColor(score float64) (r, g, b float64) {
	t := max(0, min(1, score))
	return 1 - t, 0.4 + 0.6*t, 0.1
}
