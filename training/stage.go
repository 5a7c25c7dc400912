package training

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/vla3d/vla3d/policy/model"
)

// teacherMarker is a scope component that marks EMA-teacher variables; they
// are never trained by gradients, only by the EMA update.
const teacherMarker = model.ScopeTeacher

// Stage is one of the paper's two training stages (appendix A).
type Stage int

// The two stages.
const (
	Stage1 Stage = 1 // fusion + instance module + action expert (+ base)
	Stage2 Stage = 2 // predictor + aggregation + action expert; stage-1 modules frozen
)

// ParseStage accepts 1 or 2.
func ParseStage(n int) (Stage, error) {
	switch Stage(n) {
	case Stage1, Stage2:
		return Stage(n), nil
	}
	return 0, fmt.Errorf("stage %d: want 1 or 2", n)
}

// TrainedScopes are the module scopes whose variables take gradient steps.
// The base policy trains in stage 1 because no pretrained VLM weights are
// available here (DESIGN.md); it is frozen with the other stage-1 modules in
// stage 2, as the paper freezes everything but the new stage-2 modules and
// the action expert.
func (s Stage) TrainedScopes() []string {
	if s == Stage2 {
		return []string{model.ScopePredictor, model.ScopeAggregation, model.ScopeActionExpert}
	}
	return []string{model.ScopeBase, model.ScopeSpatialFusion, model.ScopeInstanceModule, model.ScopeActionExpert}
}

// Trains reports whether a variable in scope (e.g. "/action_expert/block_0")
// is trained in stage s: its scope must contain a trained module component
// and no teacher or optimizer component.
func (s Stage) Trains(scope string) bool {
	parts := strings.Split(strings.Trim(scope, context.ScopeSeparator), context.ScopeSeparator)
	if len(parts) > 0 && parts[0] == OptimizerScope {
		return false
	}
	module := false
	for _, p := range parts {
		if p == teacherMarker {
			return false
		}
		for _, t := range s.TrainedScopes() {
			if p == t {
				module = true
			}
		}
	}
	return module
}

// ApplyStage marks every float variable of ctx trainable or frozen for stage
// s and returns how many parameters will train. It must run after the model
// graph created its variables and before the optimizer takes gradients.
func ApplyStage(ctx *context.Context, s Stage) (trainable int) {
	for v := range ctx.IterVariables() {
		on := v.DType().IsFloat() && s.Trains(v.Scope())
		v.SetTrainable(on)
		if on {
			trainable += v.Shape().Size()
		}
	}
	return trainable
}
