package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// randPart returns n float32 lanes of any sign and size, as a Carry kernel
// finds them after earlier blocks.
func randPart(rng *rand.Rand, n int) []float32 {
	p := make([]float32, n)
	for i := range p {
		p[i] = float32(rng.NormFloat64() * 10)
	}
	return p
}

// carryCase runs StatsCFCarry and BackwardCFCarry of im on one block
// (nruns runs of nch channels, runLen + gap values apart) from lanes left
// by earlier blocks, and compares out and the float64 and float32 lanes
// with fallback's, and the values past them, which must stay untouched (out
// too, unless end != 0).
func carryCase(t testing.TB, im asm.Impl, rng *rand.Rand, nch, nruns, runLen, gap, group, phase, end, mis int, special bool) bool {
	t.Helper()
	x, dy, cv, chStride, stride := chansBlock(rng, nch, nruns, runLen, gap, mis, special)
	what := fmt.Sprintf("%s nch=%d nruns=%d runLen=%d chStride=%d stride=%d group=%d phase=%d end=%d mis=%d",
		im.Name, nch, nruns, runLen, chStride, stride, group, phase, end, mis)
	for _, nq := range []int{2, 3} {
		m := nq * fallback.Lanes * nch
		wantAcc := randAcc(rng, m+3)
		gotAcc := append([]float64(nil), wantAcc...)
		wantPart := randPart(rng, m+3)
		gotPart := append([]float32(nil), wantPart...)
		wantOut := randAcc(rng, nq*nch+3)
		gotOut := append([]float64(nil), wantOut...)
		name := "StatsCFCarry "
		if nq == 2 {
			fallback.StatsCFCarry(wantOut, wantAcc, wantPart, x, nch, chStride, nruns, runLen, stride, group, phase, end, cv)
			im.StatsCFCarry(gotOut, gotAcc, gotPart, x, nch, chStride, nruns, runLen, stride, group, phase, end, cv)
		} else {
			name = "BackwardCFCarry "
			fallback.BackwardCFCarry(wantOut, wantAcc, wantPart, dy, x, nch, chStride, nruns, runLen, stride, group, phase, end, cv)
			im.BackwardCFCarry(gotOut, gotAcc, gotPart, dy, x, nch, chStride, nruns, runLen, stride, group, phase, end, cv)
		}
		if !sameBits64(t, name+"out "+what, gotOut, wantOut) || !sameBits64(t, name+"acc "+what, gotAcc, wantAcc) ||
			!sameBits32(t, name+"part "+what, gotPart, wantPart) {
			return false
		}
	}
	return true
}

func TestReductionsCFCarry(t *testing.T) {
	for _, im := range availableImpls(t) {
		if im.StatsCFCarry == nil || im.BackwardCFCarry == nil {
			t.Fatalf("tier %s lacks a Carry kernel", im.Name)
		}
		rng := rand.New(rand.NewPCG(31, 32))
		for _, runLen := range []int{1, 2, 7, 15, 16, 17, 31, 32, 33, 49, 63, 64, 65, 100, 196, 784, 1023, 1024} {
			for nch := 1; nch <= 5; nch++ {
				for nruns := 1; nruns <= 5; nruns++ {
					for _, group := range []int{1, 2, 3, max(1, fallback.FlushCF/runLen)} {
						phase := rng.IntN(group)
						for end := range 2 {
							if !carryCase(t, im, rng, nch, nruns, runLen, rng.IntN(3)*rng.IntN(9), group, phase, end, rng.IntN(16), rng.IntN(4) == 0) {
								return
							}
						}
					}
				}
			}
		}
	}
}
