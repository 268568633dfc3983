//go:build linux && amd64

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/fallback"
)

// TestTrainParamsRowsGuardPages runs every tier's TrainParamsRows with each
// of its ten slices ending right before a page mapped with no access, and
// then starting right after one, for 0 to 40 channels (every tail length of
// both vector widths): a read or write outside a slice faults and fails the
// test. The results must still be fallback's.
func TestTrainParamsRowsGuardPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const maxN = 40
	var regions [10]*guarded
	for i := range regions {
		regions[i] = newGuarded(t, 8*maxN)
	}
	for _, im := range availableImpls(t) {
		for n := 0; n <= maxN; n++ {
			for _, atEnd := range []bool{true, false} {
				c := newParamsCase(rng, n, 49, 1e-5, false, n%3 == 0)
				var want paramsOut
				c.run(fallback.TrainParamsRows, &want)
				f64 := func(r int) []float64 {
					if n == 0 {
						return []float64{}
					}
					return regions[r].f64(n, atEnd)
				}
				f32 := func(r int, src []float32) []float32 {
					s := regions[r].f32(n, atEnd)
					copy(s, src)
					return s
				}
				g := paramsCase{sum: c.sum, sq: c.sq, m: c.m, eps: c.eps, tiny: c.tiny,
					piv: f32(0, c.piv), gamma: f32(1, c.gamma), beta: f32(2, c.beta)}
				got := paramsOut{sum: f64(3), sq: f64(4), inv: f64(5),
					hi: f32(6, nil), lo: f32(7, nil), a: f32(8, nil), b: f32(9, nil)}
				what := fmt.Sprintf("%s n=%d atEnd=%v", im.Name, n, atEnd)
				if !noFault(t, what, func() { g.run(im.TrainParamsRows, &got) }) || !sameParams(t, what, &got, &want) {
					return
				}
			}
		}
	}
}

// TestBackParamsRowsGuardPages does the same for BackParamsRows.
func TestBackParamsRowsGuardPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	const maxN = 40
	var regions [10]*guarded
	for i := range regions {
		regions[i] = newGuarded(t, 8*maxN)
	}
	for _, im := range availableImpls(t) {
		for n := 0; n <= maxN; n++ {
			for _, atEnd := range []bool{true, false} {
				c := newBackParamsCase(rng, n, 49, n%3 == 0)
				var want backParamsOut
				c.run(fallback.BackParamsRows, &want)
				f64 := func(r int, src []float64) []float64 {
					if n == 0 {
						return []float64{}
					}
					s := regions[r].f64(n, atEnd)
					copy(s, src)
					return s
				}
				f32 := func(r int, src []float32) []float32 {
					s := regions[r].f32(n, atEnd)
					copy(s, src)
					return s
				}
				g := backParamsCase{sdy: f64(0, c.sdy), dot: f64(1, c.dot), res: f64(2, c.res),
					invstd: f32(3, c.invstd), gamma: f32(4, c.gamma), m: c.m}
				got := backParamsOut{dgamma: f64(5, nil), lo: f32(6, nil), k2: f32(7, nil), k3: f32(8, nil), k1: f32(9, nil)}
				what := fmt.Sprintf("%s n=%d atEnd=%v", im.Name, n, atEnd)
				if !noFault(t, what, func() { g.run(im.BackParamsRows, &got) }) || !sameBackParams(t, what, &got, &want) {
					return
				}
			}
		}
	}
}
