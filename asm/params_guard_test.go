//go:build linux && amd64

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/fallback"
)

// guardSet places n values against guard pages, one region per slice:
// each slice ends right before a page mapped with no access (atEnd), or
// starts right after one.
type guardSet struct {
	regions []*guarded
	n       int
	atEnd   bool
}

func newGuardSet(t *testing.T, k, maxN int) *guardSet {
	g := &guardSet{}
	for range k {
		g.regions = append(g.regions, newGuarded(t, 8*maxN))
	}
	return g
}

// f64 returns the n float64 of region r, with src copied in.
func (g *guardSet) f64(r int, src []float64) []float64 {
	if g.n == 0 {
		return []float64{}
	}
	s := g.regions[r].f64(g.n, g.atEnd)
	copy(s, src)
	return s
}

// f32 returns the n float32 of region r, with src copied in.
func (g *guardSet) f32(r int, src []float32) []float32 {
	s := g.regions[r].f32(g.n, g.atEnd)
	copy(s, src)
	return s
}

// TestTrainParamsRowsGuardPages runs every tier's TrainParamsRows with each
// of its ten slices ending right before a page mapped with no access, and
// then starting right after one, for 0 to 40 channels (every tail length of
// both vector widths): a read or write outside a slice faults and fails the
// test. The results must still be fallback's.
func TestTrainParamsRowsGuardPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	g := newGuardSet(t, 10, 40)
	for _, im := range availableImpls(t) {
		for g.n = 0; g.n <= 40; g.n++ {
			for _, g.atEnd = range []bool{true, false} {
				c := newParamsCase(rng, g.n, 49, 1e-5, false, g.n%3 == 0)
				var want paramsOut
				c.run(fallback.TrainParamsRows, &want)
				in := paramsCase{sum: c.sum, sq: c.sq, m: c.m, eps: c.eps, tiny: c.tiny,
					piv: g.f32(0, c.piv), gamma: g.f32(1, c.gamma), beta: g.f32(2, c.beta)}
				got := paramsOut{sum: g.f64(3, nil), sq: g.f64(4, nil), inv: g.f64(5, nil),
					hi: g.f32(6, nil), lo: g.f32(7, nil), a: g.f32(8, nil), b: g.f32(9, nil)}
				what := fmt.Sprintf("%s n=%d atEnd=%v", im.Name, g.n, g.atEnd)
				if !noFault(t, what, func() { in.run(im.TrainParamsRows, &got) }) || !sameParams(t, what, &got, &want) {
					return
				}
			}
		}
	}
}

// TestBackParamsRowsGuardPages does the same for BackParamsRows.
func TestBackParamsRowsGuardPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	g := newGuardSet(t, 10, 40)
	for _, im := range availableImpls(t) {
		for g.n = 0; g.n <= 40; g.n++ {
			for _, g.atEnd = range []bool{true, false} {
				c := newBackParamsCase(rng, g.n, 49, g.n%3 == 0)
				var want backParamsOut
				c.run(fallback.BackParamsRows, &want)
				in := backParamsCase{sdy: g.f64(0, c.sdy), dot: g.f64(1, c.dot), res: g.f64(2, c.res),
					invstd: g.f32(3, c.invstd), gamma: g.f32(4, c.gamma), m: c.m}
				got := backParamsOut{dgamma: g.f64(5, nil), lo: g.f32(6, nil), k2: g.f32(7, nil), k3: g.f32(8, nil), k1: g.f32(9, nil)}
				what := fmt.Sprintf("%s n=%d atEnd=%v", im.Name, g.n, g.atEnd)
				if !noFault(t, what, func() { in.run(im.BackParamsRows, &got) }) || !sameBackParams(t, what, &got, &want) {
					return
				}
			}
		}
	}
}

// TestAddPhasesGuardPages runs every tier's AddPhases with t and a each
// ending right before a page mapped with no access, and then starting
// right after one, for 0 to 40 channels at stride len(t) (the last phase
// ends where a does): a read or write outside either slice faults and
// fails the test. The results must still be fallback's.
func TestAddPhasesGuardPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	gt, ga := newGuarded(t, 8*40), newGuarded(t, 8*4*40)
	for _, im := range availableImpls(t) {
		for n := 0; n <= 40; n++ {
			for _, atEnd := range []bool{true, false} {
				want, a := phaseValues(rng, n, n, n%3 == 0)
				tg, ag := []float64{}, []float64{}
				if n > 0 {
					tg, ag = gt.f64(n, atEnd), ga.f64(4*n, atEnd)
				}
				copy(tg, want)
				copy(ag, a)
				fallback.AddPhases(want, a, n)
				what := fmt.Sprintf("%s n=%d atEnd=%v", im.Name, n, atEnd)
				if !noFault(t, what, func() { im.AddPhases(tg, ag, n) }) || !sameBits64(t, what, tg, want) {
					return
				}
			}
		}
	}
}

// TestInferScaleGuardPages runs every tier's InferScale with a, gamma and
// variance each ending right before a page mapped with no access, and then
// starting right after one, for 0 to 40 channels: a read or write outside
// a slice faults and fails the test. The results must still be fallback's.
func TestInferScaleGuardPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	g := newGuardSet(t, 3, 40)
	for _, im := range availableImpls(t) {
		for g.n = 0; g.n <= 40; g.n++ {
			for _, g.atEnd = range []bool{true, false} {
				gamma, variance := scaleValues(rng, g.n, g.n%3 == 0)
				want := make([]float32, g.n)
				fallback.InferScale(want, gamma, variance, 1e-5)
				a := []float32{}
				if g.n > 0 {
					a, gamma, variance = g.f32(0, nil), g.f32(1, gamma), g.f32(2, variance)
				}
				what := fmt.Sprintf("%s n=%d atEnd=%v", im.Name, g.n, g.atEnd)
				if !noFault(t, what, func() { im.InferScale(a, gamma, variance, 1e-5) }) || !sameBits32(t, what, a, want) {
					return
				}
			}
		}
	}
}
