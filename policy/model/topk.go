package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
)

// rankDescending returns, for scores [B,Q], the rank [B,Q] (float, 0 = best)
// of each entry in descending order, ties broken by lower index. It uses
// only comparisons and sums (no Sort/TopK op), O(Q^2) which is tiny for Q
// probes.
func rankDescending(scores *Node) *Node {
	g := scores.Graph()
	q := scores.Shape().Dimensions[1]
	si := InsertAxes(scores, -1) // [B,Q,1] entry i
	sj := InsertAxes(scores, 1)  // [B,1,Q] entry j
	ii := Iota(g, shapeOf(scores.DType(), q, q), 0)
	jj := Iota(g, shapeOf(scores.DType(), q, q), 1)
	earlier := InsertAxes(LessThan(jj, ii), 0) // j before i
	beats := LogicalOr(GreaterThan(sj, si), LogicalAnd(Equal(sj, si), earlier))
	return ReduceSum(ConvertDType(beats, scores.DType()), -1)
}

// selectTop returns the [B,K,Q] one-hot matrix picking the K best entries of
// scores [B,Q] in rank order: row k selects the entry of rank k.
func selectTop(scores *Node, k int) *Node {
	rank := InsertAxes(rankDescending(scores), 1) // [B,1,Q]
	ks := Iota(scores.Graph(), shapeOf(scores.DType(), 1, k, 1), 1)
	return ConvertDType(Equal(rank, ks), scores.DType())
}

// rankAscendingRows returns, for dist [B,I,J], each entry's rank within its
// row in ascending order (ties by index): used for k-nearest neighbours.
func rankAscendingRows(dist *Node) *Node {
	g := dist.Graph()
	j := dist.Shape().Dimensions[2]
	di := InsertAxes(dist, -1) // [B,I,J,1] entry j
	dj := InsertAxes(dist, 2)  // [B,I,1,J] entry j'
	a := Iota(g, shapeOf(dist.DType(), j, j), 0)
	c := Iota(g, shapeOf(dist.DType(), j, j), 1)
	earlier := InsertAxes(LessThan(c, a), 0, 0)
	beats := LogicalOr(LessThan(dj, di), LogicalAnd(Equal(dj, di), earlier))
	return ReduceSum(ConvertDType(beats, dist.DType()), -1)
}
