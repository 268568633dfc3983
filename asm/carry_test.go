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
	chStride := runLen + gap
	stride := nch*chStride + rng.IntN(5)
	n := (nruns-1)*stride + (nch-1)*chStride + runLen
	off := offsets[rng.IntN(len(offsets))]
	x := make([]float32, n+mis)[mis:]
	fill(rng, x, off, special)
	dy := make([]float32, n)
	fill(rng, dy, 0, special)
	cv := make([]float32, nch)
	for j := range cv {
		cv[j] = off + float32(rng.NormFloat64())
	}
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
