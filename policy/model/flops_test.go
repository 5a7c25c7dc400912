package model

import (
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// TestCountGraphMatMul checks the FLOP count of a known matmul chain.
func TestCountGraphMatMul(t *testing.T) {
	g := NewGraph(testBackend(t), "count")
	x := Parameter(g, "x", shapes.Make(dtypeF32, 2, 5, 7))
	w := Parameter(g, "w", shapes.Make(dtypeF32, 7, 3))
	y := Einsum("bti,io->bto", x, w) // 2*(2*5*3)*7 = 420
	z := Add(y, y)                   // 30 elementwise
	g.Compile(z)
	c, err := CountGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	if c.MatMulFLOPs != 420 || c.ElementwiseOps != 30 {
		t.Errorf("matmul %d (want 420), elementwise %d (want 30); ops %v", c.MatMulFLOPs, c.ElementwiseOps, c.OpCounts)
	}
}

// onnxOps is the op set agreed with the ONNX exporter for the inference graph.
var onnxOps = map[string]bool{
	"Parameter": true, "Constant": true, "Add": true, "Sub": true, "Mul": true, "Div": true, "Neg": true,
	"Exp": true, "Log": true, "Sqrt": true, "Rsqrt": true, "Tanh": true, "Logistic": true, "Sin": true, "Cos": true,
	"Max": true, "Min": true, "Abs": true, "DotGeneral": true, "Dot": true, "Reshape": true, "Transpose": true,
	"Concatenate": true, "Slice": true, "Broadcast": true, "BroadcastInDim": true, "ReduceSum": true, "ReduceMax": true,
	"Gather": true, "Where": true, "Iota": true, "ConvertDType": true, "Equal": true, "NotEqual": true,
	"GreaterThan": true, "GreaterOrEqual": true, "LessThan": true, "LessOrEqual": true, "LogicalAnd": true,
	"LogicalOr": true, "LogicalNot": true, "StopGradient": true, "Identity": true,
}

// TestInferenceGraphOpsAndCost checks that every row's inference graph keeps
// to the exporter's op set, and logs FLOPs and parameters per module.
func TestInferenceGraphOpsAndCost(t *testing.T) {
	for _, head := range []string{HeadL1, HeadFlow} {
		cfg := DefaultConfig()
		cfg.ActionHead = head
		reports, err := CostReport(testBackend(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		baseline := reports[0]
		for _, r := range reports {
			for op := range r.Cost.OpCounts {
				if !onnxOps[op] {
					t.Errorf("%s/%s: inference graph uses op %s outside the exporter's set", r.Row, head, op)
				}
			}
			if r.Row == "baseline" {
				if r.AddedParams() != 0 {
					t.Errorf("baseline has %d 3D-module parameters", r.AddedParams())
				}
			} else if r.AddedParams() == 0 || r.Cost.FLOPs() <= baseline.Cost.FLOPs() {
				t.Errorf("row %s adds no parameters or FLOPs", r.Row)
			}
			var sum int64
			for _, f := range r.ModuleFLOPs {
				sum += f
			}
			if sum != r.Cost.FLOPs() || r.ModuleFLOPs[""] != 0 {
				t.Errorf("%s: module FLOPs %v sum to %d, graph has %d", r.Row, r.ModuleFLOPs, sum, r.Cost.FLOPs())
			}
			t.Logf("%s row %-8s FLOPs/sample %.1f M (matmul %.1f M)  params base+expert %d  added %d (%.1f%%)\n\tparams per module %v\n\tFLOPs per module %v",
				head, r.Row, float64(r.Cost.FLOPs())/1e6, float64(r.Cost.MatMulFLOPs)/1e6, r.BaseParams(), r.AddedParams(),
				100*float64(r.AddedParams())/float64(r.BaseParams()), r.Params, r.ModuleFLOPs)
			if r.Row == "C" && head == HeadL1 {
				t.Logf("row C inference op types: %v", r.Cost.OpTypes())
			}
		}
	}
}
