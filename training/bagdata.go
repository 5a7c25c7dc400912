package training

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"go.uber.org/zap"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/encoder"
	"github.com/vla3d/vla3d/policy/preprocess"
)

// BagOptions configures LoadBags.
type BagOptions struct {
	Paths    []string // .bag/.mcap files or directories
	CacheDir string   // preprocessed-sample cache (dataset.Cache)
	Layout   Layout
	Spec     policy.Spec // model layout; vocabulary and statistics are filled in
	// IgnoreLabels are instance ids that are not objects (the simulator's
	// robot is 100); background 0 is always ignored.
	IgnoreLabels []uint16
	MinPixels    int
	// MaxSamples caps the number of samples (0: all), for quick runs.
	MaxSamples int
	// Detector produces the instances the pseudo labels are made from; nil
	// reads the recorded instance-id images directly (what RecordedLabels
	// would give, without the round trip).
	Detector Detector
	// CompletionPerInstance > 0 generates the predictor's completion
	// coordinates from the instance masks (CompletionLabeler), that many
	// queries per instance (the model's CompletionPerInst); 0 leaves them
	// to the model (derived in-graph).
	CompletionPerInstance int
	// Completion configures the completion-target generation (zero: the
	// perception defaults).
	Completion perception.CompletionConfig
	// Encoder, when set, is the frozen visual encoder run once per sample
	// on the preprocessed images (Sample.PatchFeatures); its output width
	// must be Layout.VisualFeatureDim, and the dataset's spec names it.
	Encoder *encoder.Encoder
	// Recordings names the recordings' topics and the observation rules
	// (cameras, gripper joint, depth validity...), the same as the node's
	// (dataset.Config.WithObservation of its config). Its zero value is
	// dataset.DefaultConfig(). Labels are always read.
	Recordings dataset.Config
	Log        *zap.Logger
}

var errStopEpisode = errors.New("stop episode")

// LoadBags reads recordings through the dataset layer (episodes,
// time-synchronised observations, preprocessing cache) and builds an
// in-memory dataset of training samples: normalized action chunks
// (dataset action statistics), pseudo instance labels from the recorded
// instance-id images or a Detector, and (CompletionPerInstance > 0) the
// predictor's completion coordinates from the same instance masks. The vocabulary is every word of the recordings'
// instructions, sorted.
func LoadBags(ctx context.Context, o BagOptions) (*MemoryDataset, error) {
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	if err := checkBagEncoder(o); err != nil {
		return nil, err
	}
	paths, err := dataset.ExpandPaths(o.Paths)
	if err != nil {
		return nil, err
	}
	dcfg := o.Recordings
	if dcfg.Topics == (contract.Topics{}) {
		dcfg = dataset.DefaultConfig()
	}
	dcfg.Labels = true
	dcfg.Logger = log
	d, err := dataset.Open(ctx, paths, dcfg)
	if err != nil {
		return nil, fmt.Errorf("open recordings: %w", err)
	}
	spec := o.Spec
	if o.Encoder != nil {
		path, err := filepath.Abs(o.Encoder.Path())
		if err != nil {
			return nil, fmt.Errorf("encoder path: %w", err)
		}
		spec.Encoder = &policy.EncoderSpec{Path: path, FeatureDim: o.Encoder.FeatureDim(), Normalize: o.Encoder.Normalize()}
	}
	if spec.Vocabulary, err = vocabulary(ctx, d); err != nil {
		return nil, err
	}
	cache, err := d.Cache(ctx, dataset.CacheOptions{Dir: o.CacheDir, Spec: spec, Labels: true})
	if err != nil {
		return nil, fmt.Errorf("preprocess recordings: %w", err)
	}
	defer cache.Close()
	spec.ActionMean, spec.ActionStd = cache.ActionStats()
	if len(spec.ActionMean) != o.Layout.ActionDim {
		return nil, fmt.Errorf("recordings have %d action dims, model %d", len(spec.ActionMean), o.Layout.ActionDim)
	}
	n := cache.Len()
	if o.MaxSamples > 0 {
		n = min(n, o.MaxSamples)
	}
	labeler := PseudoLabeler{Layout: o.Layout, Ignore: o.IgnoreLabels, MinPixels: o.MinPixels}
	completer := CompletionLabeler{Layout: o.Layout, PerInstance: o.CompletionPerInstance, Ignore: o.IgnoreLabels, MinPixels: o.MinPixels, Config: o.Completion}
	assembler := DetectionAssembler{Layout: o.Layout, Reserved: o.IgnoreLabels}
	queried := 0
	buf := make([]byte, cache.RecordSize())
	out := &MemoryDataset{Stats: spec}
	l := o.Layout
	var steps []EpisodeStep // per sample, for the anchors' keyframes
	var episodes []int
	for i := range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec := cache.NewRecord()
		if err := cache.Read(i, rec, buf); err != nil {
			return nil, fmt.Errorf("sample %d: %w", i, err)
		}
		s := &Sample{Input: rec.Input, Actions: make([]float32, l.Horizon*l.ActionDim), ActionValid: make([]float32, l.Horizon)}
		if err := cache.ActionChunk(i, l.Horizon, s.Actions, s.ActionValid); err != nil {
			return nil, fmt.Errorf("sample %d: %w", i, err)
		}
		if l.Anchors > 0 {
			steps = append(steps, episodeStep(rec.Input.Proprio, spec, rec.Action[msgs.ActionGripper]))
			episodes = append(episodes, rec.Episode)
		}
		for j := range s.Actions {
			k := j % l.ActionDim
			s.Actions[j] = (s.Actions[j] - spec.ActionMean[k]) / spec.ActionStd[k]
		}
		ids := rec.Labels
		if o.Detector != nil {
			if ids, err = detectIDs(ctx, o.Detector, &assembler, rec.Input, rec.Labels, rec.Depth); err != nil {
				return nil, fmt.Errorf("sample %d: %w", i, err)
			}
		}
		s.Labels = NewInstanceLabels(l)
		if err := labeler.Label(ids, rec.Depth, rec.Input.Intrinsics, rec.Input.CamFromBase, &s.Labels); err != nil {
			return nil, fmt.Errorf("sample %d: %w", i, err)
		}
		if o.Encoder != nil {
			s.PatchFeatures = make([]float32, l.Cameras*l.Patches*l.VisualFeatureDim)
			if err := o.Encoder.Encode(rec.Input.Images, s.PatchFeatures); err != nil {
				return nil, fmt.Errorf("sample %d: %w", i, err)
			}
		}
		if o.CompletionPerInstance > 0 {
			s.CompletionCoords, s.CompletionValid = make([]float32, 3*l.Completion), make([]float32, l.Completion)
			n, err := completer.Label(ids, rec.Depth, rec.Input.Intrinsics, rec.Input.CamFromBase, s.CompletionCoords, s.CompletionValid)
			if err != nil {
				return nil, fmt.Errorf("sample %d: %w", i, err)
			}
			queried += n
		}
		out.Samples = append(out.Samples, s)
	}
	if l.Anchors > 0 {
		if err := setAnchorTargets(out.Samples, steps, episodes, l.Anchors); err != nil {
			return nil, err
		}
	}
	if o.CompletionPerInstance > 0 && queried == 0 {
		// No instance anywhere (recordings without labels): completion
		// coordinates carry nothing, so leave them to the model.
		log.Warn("no instance to complete in the recordings; completion coordinates left to the model")
		for _, s := range out.Samples {
			s.CompletionCoords, s.CompletionValid = nil, nil
		}
	}
	log.Info("loaded recordings", zap.Int("episodes", d.Len()), zap.Int("samples", len(out.Samples)),
		zap.Int("vocabulary", len(spec.Vocabulary)), zap.Int("completion_instances", queried))
	return out, nil
}

// episodeStep is the end-effector position and yaw (proprio de-normalized
// with the spec's statistics when it has them) and the demonstrated gripper
// command of one sample.
func episodeStep(proprio []float32, spec policy.Spec, gripper float32) EpisodeStep {
	raw := make([]float64, len(proprio))
	for i, v := range proprio {
		raw[i] = float64(v)
		if len(spec.ProprioStd) > i {
			raw[i] = float64(v*spec.ProprioStd[i] + spec.ProprioMean[i])
		}
	}
	st := EpisodeStep{EE: [3]float32{float32(raw[0]), float32(raw[1]), float32(raw[2])}, Gripper: gripper}
	switch len(raw) {
	case preprocess.ProprioDimQuaternion: // xyz, quaternion (x, y, z, w), gripper
		st.Yaw = perception.Quat{X: raw[3], Y: raw[4], Z: raw[5], W: raw[6]}.Yaw()
	case preprocess.ProprioDimRPY: // xyz, roll, pitch, yaw, gripper
		st.Yaw = raw[5]
	}
	return st
}

// checkBagEncoder: the encoder and the layout agree on the features.
func checkBagEncoder(o BagOptions) error {
	l := o.Layout
	switch {
	case o.Encoder == nil && l.VisualFeatureDim > 0:
		return fmt.Errorf("the model reads %d-dim patch features but no encoder was given", l.VisualFeatureDim)
	case o.Encoder == nil:
		return nil
	case o.Encoder.FeatureDim() != l.VisualFeatureDim:
		return fmt.Errorf("encoder %s gives %d-dim features but the model reads %d", o.Encoder.Path(), o.Encoder.FeatureDim(), l.VisualFeatureDim)
	case o.Encoder.Patches() != l.Patches:
		return fmt.Errorf("encoder %s gives %d patch tokens per view but the model has %d", o.Encoder.Path(), o.Encoder.Patches(), l.Patches)
	}
	return nil
}

// vocabulary collects the words of every episode's instruction (first step
// only: the instruction is latched for the episode).
func vocabulary(ctx context.Context, d *dataset.Dataset) ([]string, error) {
	words := map[string]bool{}
	for i := range d.Len() {
		_, err := d.ReadEpisode(ctx, i, func(s *dataset.Step) error {
			for _, w := range strings.FieldsFunc(strings.ToLower(s.Obs.Instruction), func(r rune) bool { return !unicode.IsLetter(r) }) {
				words[w] = true
			}
			return errStopEpisode
		})
		if err != nil && !errors.Is(err, errStopEpisode) {
			return nil, fmt.Errorf("vocabulary: %w", err)
		}
	}
	out := make([]string, 0, len(words))
	for w := range words {
		out = append(out, w)
	}
	sort.Strings(out)
	return out, nil
}

// detectIDs runs the detector on every view of a sample and assembles its
// detections into instance-id images [V,H,W].
func detectIDs(ctx context.Context, det Detector, asm *DetectionAssembler, in *policy.Input, recorded []uint16, depth []float32) ([]uint16, error) {
	l := asm.Layout
	n := l.ImageW * l.ImageH
	dets := make([][]Detection, l.Cameras)
	for v := range l.Cameras {
		view := DetectorView{Image: in.Images[v*3*n : (v+1)*3*n], Width: l.ImageW, Height: l.ImageH}
		if len(recorded) == l.Cameras*n {
			view.Labels = recorded[v*n : (v+1)*n]
		}
		var err error
		if dets[v], err = det.Detect(ctx, view); err != nil {
			return nil, fmt.Errorf("detector, view %d: %w", v, err)
		}
	}
	ids := make([]uint16, l.Cameras*n)
	if err := asm.IDs(dets, depth, in.Intrinsics, in.CamFromBase, ids); err != nil {
		return nil, err
	}
	return ids, nil
}
