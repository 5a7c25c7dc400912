package sim

import (
	"context"
	"fmt"
	"math"

	"github.com/vla3d/vla3d/msgs"
)

// SweepResult is a t=0 layout sweep: at t=0 every episode has the same
// robot state, so any difference between the first action chunks of a
// policy across layouts must come from what it sees. Per seed it holds the
// xy displacement the policy's first chunk commands and the expert's over
// as many steps; Corr is their correlation across seeds and SpreadRatio the
// ratio of their standard deviations, per axis (x, y). A policy that
// ignores the images has a spread ratio near 0; one that localises the
// target approaches correlation 1 and ratio 1.
type SweepResult struct {
	Seeds       []uint64     `json:"seeds"`
	Policy      [][2]float64 `json:"policy_xy"`
	Expert      [][2]float64 `json:"expert_xy"`
	Corr        [2]float64   `json:"corr"`
	SpreadRatio [2]float64   `json:"spread_ratio"`
	Horizon     int          `json:"horizon"`
}

// LayoutSweep runs the t=0 layout sweep of the controller factory builds on
// the episodes of spec (Task, Split, Severity) with the given seeds.
func LayoutSweep(ctx context.Context, env *Env, spec EpisodeSpec, seeds []uint64, factory Factory) (*SweepResult, error) {
	if len(seeds) < 2 {
		return nil, fmt.Errorf("sim: a layout sweep needs at least 2 seeds, got %d", len(seeds))
	}
	ctrl, err := factory(env)
	if err != nil {
		return nil, fmt.Errorf("sim: build controller: %w", err)
	}
	res := &SweepResult{Seeds: seeds}
	for _, seed := range seeds {
		s := spec
		s.Seed = seed
		if err := env.Reset(ctx, s); err != nil {
			return nil, err
		}
		obs, err := env.Observe(ctx)
		if err != nil {
			return nil, err
		}
		chunk, err := ctrl.Act(ctx, obs)
		if err != nil {
			return nil, fmt.Errorf("sim: seed %d: controller: %w", seed, err)
		}
		if err := validateChunk(&chunk); err != nil {
			return nil, err
		}
		res.Horizon = chunk.Horizon
		var p [2]float64
		for k := range chunk.Horizon {
			a := chunk.Step(k)
			p[0] += float64(a[msgs.ActionDX])
			p[1] += float64(a[msgs.ActionDY])
		}
		// The expert from the same reset, for as many steps.
		if err := env.Reset(ctx, s); err != nil {
			return nil, err
		}
		x := NewExpert(env)
		var e [2]float64
		for range chunk.Horizon {
			a, err := x.Action(ctx)
			if err != nil {
				return nil, err
			}
			e[0] += float64(a[msgs.ActionDX])
			e[1] += float64(a[msgs.ActionDY])
			if err := env.Step(ctx, a); err != nil {
				return nil, err
			}
		}
		res.Policy, res.Expert = append(res.Policy, p), append(res.Expert, e)
	}
	for ax := range 2 {
		pv, ev := make([]float64, len(seeds)), make([]float64, len(seeds))
		for i := range seeds {
			pv[i], ev[i] = res.Policy[i][ax], res.Expert[i][ax]
		}
		res.Corr[ax], res.SpreadRatio[ax] = corrAndRatio(pv, ev)
	}
	return res, nil
}

// corrAndRatio is Pearson's correlation of a and b and std(a)/std(b); 0
// where a spread is zero.
func corrAndRatio(a, b []float64) (corr, ratio float64) {
	n := float64(len(a))
	var ma, mb float64
	for i := range a {
		ma, mb = ma+a[i]/n, mb+b[i]/n
	}
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	if saa > 0 && sbb > 0 {
		corr = sab / math.Sqrt(saa*sbb)
	}
	if sbb > 0 {
		ratio = math.Sqrt(saa / sbb)
	}
	return corr, ratio
}
