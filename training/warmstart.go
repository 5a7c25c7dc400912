package training

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/model"
)

// WarmStartScopes are what a warm start (Config.InitFrom) takes from a
// trained run: the base policy, the action expert and the instance
// anchors. The paper plugs its 3D modules into a trained VLA; here the
// trained VLA is a Baseline run (with anchors), and the other 3D modules
// start from their initialisation.
var WarmStartScopes = []string{model.ScopeBase, model.ScopeActionExpert, model.ScopeInstanceModule + context.ScopeSeparator + model.ScopeAnchors}

// warmStartShared are the model fields the warm-started variables' shapes
// and meaning depend on: they must agree between the two runs.
var warmStartShared = []string{"Cameras", "ImageHeight", "ImageWidth", "PatchSize", "ProprioDim", "InstructionLen",
	"VocabSize", "Horizon", "ActionDim", "VisualFeatureDim", "TextFeatureDim", "StemChannels", "StemPatch",
	"Width", "Heads", "MLPRatio", "BaseLayers", "ExpertLayers", "ActionHead", "Anchors", "EEBands", "ProprioMean", "ProprioStd"}

// warmStart restores WarmStartScopes from the newest readable checkpoint of
// the run directory dir into t.vars, after checking that the run read the
// same vocabulary (its model.json; other action statistics are logged) and
// shares the model fields the restored variables depend on; it logs how
// many variables it restored.
func (t *Trainer) warmStart(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil {
		return fmt.Errorf("warm start: %w", err)
	}
	var theirs policy.Spec
	if err := json.Unmarshal(b, &theirs); err != nil {
		return fmt.Errorf("warm start: %s: %w", filepath.Join(dir, SpecFile), err)
	}
	ours := t.Spec()
	var errs []error
	if !slices.Equal(theirs.Vocabulary, ours.Vocabulary) {
		errs = append(errs, fmt.Errorf("vocabulary: %v there, %v here", theirs.Vocabulary, ours.Vocabulary))
	}
	if !slices.Equal(theirs.ActionMean, ours.ActionMean) || !slices.Equal(theirs.ActionStd, ours.ActionStd) {
		// More recordings (DAgger's, say) move the statistics a little: the
		// head starts slightly off scale and training corrects it.
		t.log.Warn("warm start: the action statistics differ (other recordings); the action head starts off scale",
			zap.Float32s("theirs_mean", theirs.ActionMean), zap.Float32s("ours_mean", ours.ActionMean),
			zap.Float32s("theirs_std", theirs.ActionStd), zap.Float32s("ours_std", ours.ActionStd))
	}
	l, err := (Checkpointer{Dir: filepath.Join(dir, CheckpointDir), Log: t.log}).LoadLatest()
	if err != nil {
		return fmt.Errorf("warm start: %w", err)
	}
	if l == nil {
		return fmt.Errorf("warm start: no checkpoint in %s", filepath.Join(dir, CheckpointDir))
	}
	now, err := json.Marshal(t.cfg.Model)
	if err != nil {
		return err
	}
	for _, d := range jsonDiff(l.State.Model, now) {
		if field, _, _ := strings.Cut(d, ":"); slices.Contains(warmStartShared, field) {
			errs = append(errs, errors.New(d))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("warm start from %s: %w", l.Path, errors.Join(errs...))
	}
	n, err := l.RestoreScopes(t.vars, WarmStartScopes)
	if err != nil {
		return fmt.Errorf("warm start: %w", err)
	}
	t.log.Info("warm start", zap.String("checkpoint", l.Path), zap.Int("variables", n), zap.Strings("scopes", WarmStartScopes))
	return nil
}

// RestoreScopes is Restore limited to the variables under the given module
// scopes (relative to the root, e.g. "base" or "instance_module/anchors");
// it returns how many it restored.
func (l *Loaded) RestoreScopes(ctx *context.Context, scopes []string) (int, error) {
	keep := &Loaded{Path: l.Path, State: l.State, Vars: l.Vars}
	for _, cv := range l.order {
		s := strings.Trim(cv.Scope, context.ScopeSeparator) + context.ScopeSeparator
		for _, want := range scopes {
			if strings.HasPrefix(s, want+context.ScopeSeparator) {
				keep.order = append(keep.order, cv)
				break
			}
		}
	}
	return len(keep.order), keep.Restore(ctx)
}
