package training

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// EMAUpdateGraph moves every teacher variable under teacherScope toward the
// student variable at the same relative path under studentScope:
// θ_t ← m·θ_t + (1 − m)·θ_s. It must run after the optimizer in the same
// graph: Variable.ValueGraph then yields the student's updated value, as in
// I-JEPA where the target encoder follows the post-step context encoder.
// Teacher variables without a student counterpart are an error (a renamed
// layer would otherwise silently stop tracking).
func EMAUpdateGraph(ctx *context.Context, g *Graph, teacherScope, studentScope string, momentum float64) (int, error) {
	teacherScope = strings.TrimSuffix(teacherScope, context.ScopeSeparator)
	studentScope = strings.TrimSuffix(studentScope, context.ScopeSeparator)
	type pair struct{ t, s *context.Variable }
	var pairs []pair
	for v := range ctx.IterVariables() {
		scope := v.Scope()
		if scope != teacherScope && !strings.HasPrefix(scope, teacherScope+context.ScopeSeparator) {
			continue
		}
		if !v.DType().IsFloat() {
			continue
		}
		sScope := studentScope + strings.TrimPrefix(scope, teacherScope)
		s := ctx.GetVariableByScopeAndName(sScope, v.Name())
		if s == nil {
			return 0, fmt.Errorf("ema: teacher %s has no student %s/%s", v.ScopeAndName(), sScope, v.Name())
		}
		if !s.Shape().Equal(v.Shape()) {
			return 0, fmt.Errorf("ema: teacher %s shape %s != student shape %s", v.ScopeAndName(), v.Shape(), s.Shape())
		}
		pairs = append(pairs, pair{v, s})
	}
	for _, p := range pairs {
		t := p.t.ValueGraph(g)
		s := StopGradient(p.s.ValueGraph(g))
		p.t.SetValueGraph(Add(MulScalar(t, momentum), MulScalar(s, 1-momentum)))
	}
	return len(pairs), nil
}
