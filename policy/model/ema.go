package model

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// The EMA teacher of the predictor is a copy of the student context encoder
// (scope ScopePredictorStudent) under ScopePredictorTeacher whose variables
// are not trainable and follow the student by exponential moving average.

// teacherPair returns the teacher variable mirroring a student variable, or
// nil when v is not a student variable or the teacher was not built yet.
func teacherPair(ctx *context.Context, v *context.Variable) *context.Variable {
	scope := v.Scope()
	if scope != ScopePredictorStudent && !strings.HasPrefix(scope, ScopePredictorStudent+"/") {
		return nil
	}
	return ctx.GetVariableByScopeAndName(ScopePredictorTeacher+strings.TrimPrefix(scope, ScopePredictorStudent), v.Name())
}

// EMAUpdate adds teacher <- m*teacher + (1-m)*student to graph g for every
// student variable (call it in the training step graph after the optimizer
// update; momentum m is Config.EMAMomentum, or 0 to copy). Returns the
// number of variable pairs updated.
func EMAUpdate(ctx *context.Context, g *Graph, momentum float64) int {
	var pairs [][2]*context.Variable
	ctx.EnumerateVariables(func(v *context.Variable) {
		if t := teacherPair(ctx, v); t != nil {
			pairs = append(pairs, [2]*context.Variable{v, t})
		}
	})
	for _, p := range pairs {
		s, t := p[0].ValueGraph(g), p[1].ValueGraph(g)
		p[1].SetValueGraph(Add(MulScalar(t, momentum), MulScalar(s, 1-momentum)))
	}
	return len(pairs)
}

// SyncTeacher copies every student value into its teacher (host side): call
// once after variables are initialised so the teacher starts equal to the
// student, as in I-JEPA.
func SyncTeacher(ctx *context.Context) error {
	var errs []error
	ctx.EnumerateVariables(func(v *context.Variable) {
		t := teacherPair(ctx, v)
		if t == nil || !v.HasValue() {
			return
		}
		val, err := v.Value()
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", v.ScopeAndName(), err))
			return
		}
		c, err := val.LocalClone()
		if err != nil {
			errs = append(errs, fmt.Errorf("clone %s: %w", v.ScopeAndName(), err))
			return
		}
		if err := t.SetValue(c); err != nil {
			errs = append(errs, fmt.Errorf("set teacher %s: %w", t.ScopeAndName(), err))
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("sync teacher: %w", errs[0])
	}
	return nil
}
