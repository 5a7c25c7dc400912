package model

import (
	"fmt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// GraphCost is the arithmetic of one built graph.
type GraphCost struct {
	// MatMulFLOPs counts 2*M*N*K for every Dot/DotGeneral (multiply + add).
	MatMulFLOPs int64
	// ElementwiseOps counts one op per output element of every other
	// non-shape node (Add, Exp, Reduce..., Where...); Reshape, Transpose,
	// Broadcast, Slice, Concatenate, constants and parameters count zero.
	ElementwiseOps int64
	// OpCounts is the number of nodes per op type.
	OpCounts map[string]int
}

// FLOPs is MatMulFLOPs + ElementwiseOps.
func (c GraphCost) FLOPs() int64 { return c.MatMulFLOPs + c.ElementwiseOps }

// OpTypes returns the op types present, sorted.
func (c GraphCost) OpTypes() []string {
	var ops []string
	for k := range c.OpCounts {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	return ops
}

// zeroCostOps move or describe data without arithmetic.
var zeroCostOps = map[string]bool{
	"Parameter": true, "Constant": true, "Reshape": true, "Transpose": true, "Broadcast": true,
	"BroadcastInDim": true, "Slice": true, "Concatenate": true, "Iota": true, "ConvertDType": true,
	"Identity": true, "StopGradient": true, "Gather": true, "Where": true,
}

var contractingAxesRE = regexp.MustCompile(`lhsContractingAxes=\[([0-9 ]*)\]`)

// moduleMarks records, in build order, the last node each module created.
type moduleMarks struct {
	names []string
	last  []NodeId
}

// mark records that every node created since the previous mark belongs to
// module; a nil receiver records nothing.
func (mm *moduleMarks) mark(g *Graph, module string) {
	if mm == nil {
		return
	}
	mm.names = append(mm.names, module)
	mm.last = append(mm.last, g.LastNode().Id())
}

// moduleOf returns the module that created node id ("" after the last mark).
func (mm *moduleMarks) moduleOf(id NodeId) string {
	for i, last := range mm.last {
		if id <= last {
			return mm.names[i]
		}
	}
	return ""
}

// CountGraph walks every node of g (built, not necessarily compiled).
func CountGraph(g *Graph) (GraphCost, error) {
	return countNodes(g.Nodes())
}

// CountReachable counts the nodes that outputs depend on: what a backend that
// prunes dead nodes (SimpleGo, XLA) computes.
func CountReachable(outputs []*Node) (GraphCost, error) {
	seen := map[NodeId]bool{}
	var nodes []*Node
	stack := slices.Clone(outputs)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n.Id()] {
			continue
		}
		seen[n.Id()] = true
		nodes = append(nodes, n)
		stack = append(stack, n.Inputs()...)
	}
	return countNodes(nodes)
}

// countNodes is CountGraph over a subset of nodes.
func countNodes(nodes []*Node) (GraphCost, error) {
	c := GraphCost{OpCounts: map[string]int{}}
	for _, n := range nodes {
		typ := n.Type().String()
		typ = strings.TrimPrefix(typ, "NodeType")
		c.OpCounts[typ]++
		switch {
		case typ == "DotGeneral":
			lhs := n.Inputs()[0].Shape()
			m := contractingAxesRE.FindStringSubmatch(n.String())
			if m == nil {
				return c, fmt.Errorf("cannot read contracting axes of %s", n)
			}
			k := int64(1)
			for _, f := range strings.Fields(m[1]) {
				ax, err := strconv.Atoi(f)
				if err != nil {
					return c, fmt.Errorf("contracting axis %q: %w", f, err)
				}
				k *= int64(lhs.Dimensions[ax])
			}
			c.MatMulFLOPs += 2 * k * int64(n.Shape().Size())
		case typ == "Dot":
			lhs := n.Inputs()[0].Shape()
			k := int64(lhs.Dimensions[lhs.Rank()-1])
			c.MatMulFLOPs += 2 * k * int64(n.Shape().Size())
		case zeroCostOps[typ]:
		default:
			if n.NumOutputs() == 1 {
				c.ElementwiseOps += int64(n.Shape().Size())
			}
		}
	}
	return c, nil
}

// ParamCounts returns the number of parameters per top-level scope (module)
// of the variables in ctx, skipping the EMA teacher (a copy, not part of the
// deployed model) and non-float state such as the RNG.
func ParamCounts(ctx *context.Context) map[string]int {
	counts := map[string]int{}
	for v := range ctx.IterVariables() {
		if !v.DType().IsFloat() || strings.HasPrefix(v.Scope(), ScopePredictorTeacher) {
			continue
		}
		parts := strings.SplitN(strings.TrimPrefix(v.Scope(), "/"), "/", 2)
		counts[parts[0]] += v.Shape().Size()
	}
	return counts
}

// ModuleReport is the cost of one configuration's inference graph.
type ModuleReport struct {
	Row  string
	Cost GraphCost
	// ModuleFLOPs splits Cost.FLOPs() by the module that built the nodes
	// (keys are the variable scopes; the token concatenation before the
	// action expert counts towards it).
	ModuleFLOPs map[string]int64
	Params      map[string]int
}

// BaseParams is the parameter count of the base policy and action expert.
func (r ModuleReport) BaseParams() int { return r.Params[ScopeBase] + r.Params[ScopeActionExpert] }

// AddedParams is the parameter count of the 3D modules.
func (r ModuleReport) AddedParams() int {
	return r.Params[ScopeSpatialFusion] + r.Params[ScopeInstanceModule] + r.Params[ScopePredictor] + r.Params[ScopeAggregation]
}

// Rows are the paper's ablation rows in table order.
var Rows = []string{"baseline", "A", "B", "C"}

// CostReport builds the batch-1 inference graph of every ablation row of cfg
// (variables are created in a scratch context, not initialised) and returns
// each row's FLOPs, op counts and parameters per module.
func CostReport(backend backends.Backend, cfg Config) (reports []ModuleReport, err error) {
	for _, row := range Rows {
		r, err := RowCost(backend, cfg, row)
		if err != nil {
			return nil, fmt.Errorf("cost of row %s: %w", row, err)
		}
		reports = append(reports, r)
	}
	return reports, nil
}

// RowCost is CostReport of one row.
func RowCost(backend backends.Backend, cfg Config, row string) (r ModuleReport, err error) {
	cfg, err = cfg.Row(row)
	if err != nil {
		return r, err
	}
	m, err := New(cfg)
	if err != nil {
		return r, err
	}
	// GoMLX reports graph-building errors by panicking.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("building graph: %v", p)
		}
	}()
	ctx := context.New()
	g := NewGraph(backend, "cost_"+row)
	defer g.Finalize()
	v, n := cfg.Cameras, cfg.Patches()
	p := func(name string, dt dtypes.DType, dims ...int) *Node {
		return Parameter(g, name, shapes.Make(dt, dims...))
	}
	in := Inputs{
		Images: p("images", dtypeF32, 1, v, 3, cfg.ImageHeight, cfg.ImageWidth), Points: p("points", dtypeF32, 1, v, n, 3),
		PointValid: p("point_valid", dtypeF32, 1, v, n), Intrinsics: p("intrinsics", dtypeF32, 1, v, 4),
		CamFromBase: p("cam_from_base", dtypeF32, 1, v, 12), Proprio: p("proprio", dtypeF32, 1, cfg.ProprioDim),
		Instruction: p("instruction", dtypes.Int64, 1, cfg.InstructionLen), Noise: p("noise", dtypeF32, 1, cfg.Horizon, cfg.ActionDim),
	}
	if cfg.VisualFeatureDim > 0 {
		in.PatchFeatures = p("patch_features", dtypeF32, 1, v, n, cfg.VisualFeatureDim)
	}
	if cfg.TextFeatureDim > 0 {
		in.InstructionFeatures = p("instruction_features", dtypeF32, 1, cfg.InstructionLen, cfg.TextFeatureDim)
	}
	marks := &moduleMarks{}
	m.forward(ctx, in, marks)
	cost, err := CountGraph(g)
	if err != nil {
		return r, err
	}
	byModule := map[string][]*Node{}
	for _, n := range g.Nodes() {
		mod := marks.moduleOf(n.Id())
		byModule[mod] = append(byModule[mod], n)
	}
	flops := map[string]int64{}
	for mod, nodes := range byModule {
		c, err := countNodes(nodes)
		if err != nil {
			return r, err
		}
		if c.FLOPs() > 0 {
			flops[mod] = c.FLOPs()
		}
	}
	return ModuleReport{Row: row, Cost: cost, ModuleFLOPs: flops, Params: ParamCounts(ctx)}, nil
}
