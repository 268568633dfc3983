//go:build linux && amd64

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/fallback"
)

// TestGuardPagesCFCarry places x, dy, acc, part and out against a page mapped
// with no access, at either end, for every run length up to 100 and
// several channel and run counts: the Carry kernels must read and write
// only their slices.
func TestGuardPagesCFCarry(t *testing.T) {
	ims := availableImpls(t)
	rng := rand.New(rand.NewPCG(33, 34))
	const maxLen, maxCh, maxRuns = 100, 3, 3
	gx := newGuarded(t, 4*(maxRuns*(maxCh*maxLen+8)))
	gdy := newGuarded(t, 4*(maxRuns*(maxCh*maxLen+8)))
	gacc := newGuarded(t, 8*3*fallback.Lanes*maxCh)
	gpart := newGuarded(t, 4*3*fallback.Lanes*maxCh)
	gout := newGuarded(t, 8*3*maxCh)
	for _, im := range ims {
		for _, atEnd := range []bool{true, false} {
			for runLen := 1; runLen <= maxLen; runLen++ {
				for a := 0; a < 9; a++ {
					nch, nruns := 1+a%maxCh, 1+a/maxCh
					stride := nch*runLen + a%4
					n := (nruns-1)*stride + nch*runLen
					group := 1 + a%2
					end := (a + runLen) % 2
					for _, nq := range []int{2, 3} {
						x, dy := gx.f32(n, atEnd), gdy.f32(n, !atEnd)
						fill(rng, x, 1, false)
						fill(rng, dy, 0, false)
						acc := gacc.f64(nq*fallback.Lanes*nch, atEnd)
						part := gpart.f32(nq*fallback.Lanes*nch, !atEnd)
						for i := range acc {
							acc[i] = float64(i)
						}
						for i := range part {
							part[i] = float32(i % 7)
						}
						out := gout.f64(nq*nch, atEnd)
						clear(out)
						wantAcc, wantPart, wantOut := append([]float64(nil), acc...), append([]float32(nil), part...), make([]float64, nq*nch)
						cv := []float32{0.5, 0.25, 1}[:nch]
						what := fmt.Sprintf("%s atEnd=%v nq=%d nch=%d nruns=%d runLen=%d stride=%d end=%d", im.Name, atEnd, nq, nch, nruns, runLen, stride, end)
						var ok bool
						if nq == 2 {
							fallback.StatsCFCarry(wantOut, wantAcc, wantPart, x, nch, runLen, nruns, runLen, stride, group, 0, end, cv)
							ok = noFault(t, "StatsCFCarry "+what, func() {
								im.StatsCFCarry(out, acc, part, x, nch, runLen, nruns, runLen, stride, group, 0, end, cv)
							})
						} else {
							fallback.BackwardCFCarry(wantOut, wantAcc, wantPart, dy, x, nch, runLen, nruns, runLen, stride, group, 0, end, cv)
							ok = noFault(t, "BackwardCFCarry "+what, func() {
								im.BackwardCFCarry(out, acc, part, dy, x, nch, runLen, nruns, runLen, stride, group, 0, end, cv)
							})
						}
						if !ok || !sameBits64(t, what, out, wantOut) || !sameBits64(t, what, acc, wantAcc) || !sameBits32(t, what, part, wantPart) {
							return
						}
					}
				}
			}
		}
	}
}
