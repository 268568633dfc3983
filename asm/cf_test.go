package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// availableImpls returns the tiers this machine runs; it skips the test when
// there is none (purego, noasm, other architectures, old CPUs).
func availableImpls(t testing.TB) []asm.Impl {
	t.Helper()
	var ims []asm.Impl
	for _, im := range asm.Impls() {
		if im.Available {
			ims = append(ims, im)
		} else {
			t.Logf("tier %s not available on this machine", im.Name)
		}
	}
	if len(ims) == 0 {
		t.Skip("no assembly tier available in this build or on this machine")
	}
	return ims
}

func requireCF(t testing.TB, im asm.Impl) {
	t.Helper()
	if im.StatsCF == nil || im.BackwardCF == nil || im.ApplyCF == nil || im.BackwardApplyCF == nil {
		t.Fatalf("tier %s lacks a channels-first kernel", im.Name)
	}
}

// fill writes values around offset into x, with NaN and ±Inf at a few
// places when special is set.
func fill(rng *rand.Rand, x []float32, offset float32, special bool) {
	for i := range x {
		x[i] = offset + float32(rng.NormFloat64())*(1+float32(rng.IntN(4)))
	}
	if special && len(x) > 0 {
		specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
			math.Float32frombits(0xffc00000), math.Float32frombits(0x7fa00001), float32(math.Copysign(0, -1)), 1e38, -1e38}
		for range 1 + len(x)/64 {
			x[rng.IntN(len(x))] = specials[rng.IntN(len(specials))]
		}
	}
}

func randAcc(rng *rand.Rand, n int) []float64 {
	a := make([]float64, n)
	for i := range a {
		a[i] = rng.NormFloat64() * 100
	}
	return a
}

// Bits must match exactly, except that a NaN matches any NaN: when two NaNs
// meet, x86 returns the first operand's, and Go does not fix the operand
// order of its float adds, so the NaN payload is not part of the contract.
func sameBits64(t testing.TB, what string, got, want []float64) bool {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Errorf("%s: acc[%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
			return false
		}
	}
	return true
}

func sameBits32(t testing.TB, what string, got, want []float32) bool {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Errorf("%s: [%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			return false
		}
	}
	return true
}

var offsets = []float32{0, 1, -3.5, 1000, 1e6}

// reductionCase runs StatsCF and BackwardCF of im on one geometry and
// compares them with fallback.
func reductionCase(t testing.TB, im asm.Impl, rng *rand.Rand, nruns, runLen, stride, group, mis int, special bool) bool {
	t.Helper()
	n := (nruns-1)*stride + runLen
	off := offsets[rng.IntN(len(offsets))]
	xb := make([]float32, n+mis)
	x := xb[mis:]
	fill(rng, x, off, special)
	dyb := make([]float32, n+(mis*7)%16)
	dy := dyb[(mis*7)%16:]
	fill(rng, dy, 0, special)
	pivot := off + float32(rng.NormFloat64())
	what := fmt.Sprintf("%s nruns=%d runLen=%d stride=%d group=%d mis=%d", im.Name, nruns, runLen, stride, group, mis)

	a0 := randAcc(rng, 2*fallback.Lanes)
	want := append([]float64(nil), a0...)
	got := append([]float64(nil), a0...)
	fallback.StatsCF(want, x, nruns, runLen, stride, group, pivot)
	im.StatsCF(got, x, nruns, runLen, stride, group, pivot)
	if !sameBits64(t, "StatsCF "+what, got, want) {
		return false
	}

	b0 := randAcc(rng, 3*fallback.Lanes)
	want = append([]float64(nil), b0...)
	got = append([]float64(nil), b0...)
	fallback.BackwardCF(want, dy, x, nruns, runLen, stride, group, pivot)
	im.BackwardCF(got, dy, x, nruns, runLen, stride, group, pivot)
	return sameBits64(t, "BackwardCF "+what, got, want)
}

// chansBlock makes the data of a multi-channel reduction: nruns runs of
// nch channels, runLen + gap (chStride) values apart, samples stride
// apart, x starting mis values past an aligned allocation, around one of
// offsets, and a pivot or mean per channel near it.
func chansBlock(rng *rand.Rand, nch, nruns, runLen, gap, mis int, special bool) (x, dy, cv []float32, chStride, stride int) {
	chStride = runLen + gap
	stride = nch*chStride + rng.IntN(5)
	n := (nruns-1)*stride + (nch-1)*chStride + runLen
	off := offsets[rng.IntN(len(offsets))]
	x = make([]float32, n+mis)[mis:]
	fill(rng, x, off, special)
	dy = make([]float32, n)
	fill(rng, dy, 0, special)
	cv = make([]float32, nch)
	for j := range cv {
		cv[j] = off + float32(rng.NormFloat64())
	}
	return x, dy, cv, chStride, stride
}

// chansCase runs StatsCFChans and BackwardCFChans of im over nch
// channels, runLen + gap values apart, and compares them with fallback.
// out and acc start with garbage: the kernels must overwrite out and clear
// acc themselves.
func chansCase(t testing.TB, im asm.Impl, rng *rand.Rand, nch, nruns, runLen, gap, group, mis int, special bool) bool {
	t.Helper()
	x, dy, piv, chStride, stride := chansBlock(rng, nch, nruns, runLen, gap, mis, special)
	what := fmt.Sprintf("%s nch=%d nruns=%d runLen=%d chStride=%d stride=%d group=%d mis=%d", im.Name, nch, nruns, runLen, chStride, stride, group, mis)
	for _, nq := range []int{2, 3} {
		want, got := randAcc(rng, nq*nch+3), randAcc(rng, nq*nch+3)
		copy(want[nq*nch:], got[nq*nch:]) // past the channels: untouched
		wacc, gacc := randAcc(rng, nq*fallback.Lanes), randAcc(rng, nq*fallback.Lanes)
		if nq == 2 {
			fallback.StatsCFChans(want, wacc, x, nch, chStride, nruns, runLen, stride, group, piv)
			im.StatsCFChans(got, gacc, x, nch, chStride, nruns, runLen, stride, group, piv)
			if !sameBits64(t, "StatsCFChans "+what, got, want) {
				return false
			}
			continue
		}
		fallback.BackwardCFChans(want, wacc, dy, x, nch, chStride, nruns, runLen, stride, group, piv)
		im.BackwardCFChans(got, gacc, dy, x, nch, chStride, nruns, runLen, stride, group, piv)
		if !sameBits64(t, "BackwardCFChans "+what, got, want) {
			return false
		}
	}
	return true
}

func TestReductionsCFChans(t *testing.T) {
	for _, im := range availableImpls(t) {
		if im.StatsCFChans == nil || im.BackwardCFChans == nil {
			t.Fatalf("tier %s lacks a multi-channel kernel", im.Name)
		}
		rng := rand.New(rand.NewPCG(9, 10))
		for _, runLen := range []int{1, 2, 7, 15, 16, 17, 31, 32, 33, 49, 63, 64, 65, 100, 196, 784, 1023, 1024, 1025, 3136} {
			for nch := 1; nch <= 5; nch++ {
				for nruns := 1; nruns <= 4; nruns++ {
					group := 1 + rng.IntN(3)
					if !chansCase(t, im, rng, nch, nruns, runLen, rng.IntN(3)*rng.IntN(9), group, rng.IntN(16), rng.IntN(4) == 0) {
						return
					}
				}
			}
		}
	}
}

// TestReductionsCFChansZeros runs the multi-channel reductions on data of
// signed zeros only, with pivots and means of either sign. Where a channel
// flushes once, the SIMD kernels take its float64 lanes as float64(acc32)
// without adding them to a zeroed acc, which gives the same bits only
// because a float32 lane sum is never -0; here every sum is a zero, so a
// -0 would show.
func TestReductionsCFChansZeros(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	for _, im := range availableImpls(t) {
		rng := rand.New(rand.NewPCG(21, 22))
		zeros := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				if rng.IntN(2) == 0 {
					v[i] = negZero
				}
			}
			return v
		}
		for _, runLen := range []int{1, 16, 17, 33, 49, 1025} {
			for nch := 1; nch <= 3; nch++ {
				for nruns := 1; nruns <= 4; nruns++ {
					for group := 1; group <= 3; group++ {
						chStride := runLen
						stride := nch * chStride
						n := (nruns-1)*stride + (nch-1)*chStride + runLen
						x, dy, piv := zeros(n), zeros(n), zeros(nch)
						what := fmt.Sprintf("%s zeros nch=%d nruns=%d runLen=%d group=%d", im.Name, nch, nruns, runLen, group)
						want, got := make([]float64, 3*nch), randAcc(rng, 3*nch)
						fallback.StatsCFChans(want, make([]float64, 2*fallback.Lanes), x, nch, chStride, nruns, runLen, stride, group, piv)
						im.StatsCFChans(got, randAcc(rng, 2*fallback.Lanes), x, nch, chStride, nruns, runLen, stride, group, piv)
						if !sameBits64(t, "StatsCFChans "+what, got[:2*nch], want[:2*nch]) {
							return
						}
						fallback.BackwardCFChans(want, make([]float64, 3*fallback.Lanes), dy, x, nch, chStride, nruns, runLen, stride, group, piv)
						im.BackwardCFChans(got, randAcc(rng, 3*fallback.Lanes), dy, x, nch, chStride, nruns, runLen, stride, group, piv)
						if !sameBits64(t, "BackwardCFChans "+what, got, want) {
							return
						}
					}
				}
			}
		}
	}
}

func runLens() []int {
	var ls []int
	for l := 1; l <= 300; l++ {
		ls = append(ls, l)
	}
	return append(ls, 1023, 1024, 1025, 2048, 2049, 3136, 5000)
}

func TestReductionsCF(t *testing.T) {
	for _, im := range availableImpls(t) {
		requireCF(t, im)
		t.Run(im.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for _, runLen := range runLens() {
				for nruns := 1; nruns <= 5; nruns++ {
					for group := 1; group <= 3; group++ {
						for mis := 0; mis < 16; mis++ {
							if runLen > 300 && mis%5 != 0 {
								continue
							}
							stride := runLen + 1 + rng.IntN(17)
							if !reductionCase(t, im, rng, nruns, runLen, stride, group, mis, rng.IntN(4) == 0) {
								return
							}
						}
					}
				}
			}
			// Every misalignment with a few shapes, and stride == runLen.
			for mis := 0; mis < 16; mis++ {
				for _, runLen := range []int{1, 15, 16, 17, 31, 32, 33, 49, 196, 1025} {
					if !reductionCase(t, im, rng, 3, runLen, runLen+mis, 2, mis, mis%3 == 0) ||
						!reductionCase(t, im, rng, 4, runLen, runLen, 3, mis, false) {
						return
					}
				}
			}
		})
	}
}

// elementwiseCase runs ApplyCF and BackwardApplyCF of im on one geometry,
// out of place and in place, and compares them with fallback.
func elementwiseCase(t testing.TB, im asm.Impl, rng *rand.Rand, n, c, s, stride, mis int, special bool) bool {
	t.Helper()
	size := 0
	if n > 0 {
		size = (n-1)*stride + c*s
	}
	off := offsets[rng.IntN(len(offsets))]
	mk := func(shift int) []float32 {
		b := make([]float32, size+shift)
		return b[shift:]
	}
	x := mk(mis)
	fill(rng, x, off, special)
	dy := mk((mis + 5) % 16)
	fill(rng, dy, 0, special)
	p := make([]float32, c*fallback.ParamStrideCF)
	for i := range p {
		p[i] = float32(rng.NormFloat64())
		if i%8 == 0 {
			p[i] = off + float32(rng.NormFloat64())
		}
		if i%8 > 4 {
			p[i] = float32(math.NaN()) // unused slots
		}
	}
	if special && c > 0 {
		p[rng.IntN(len(p))] = float32(math.Inf(1))
		p[rng.IntN(len(p))] = float32(math.NaN())
	}
	what := fmt.Sprintf("%s n=%d c=%d s=%d stride=%d mis=%d", im.Name, n, c, s, stride, mis)

	ok := true
	// ApplyCF out of place and in place.
	want := make([]float32, size)
	fallback.ApplyCF(want, x, n, c, s, stride, p)
	got := mk((mis + 3) % 16)
	fill(rng, got, 7, false)
	for i := range want { // untouched gaps keep the old values
		if !covered(i, n, c, s, stride) {
			want[i] = got[i]
		}
	}
	im.ApplyCF(got, x, n, c, s, stride, p)
	ok = ok && sameBits32(t, "ApplyCF "+what, got, want)
	inplace := append(mk(mis)[:0], x...)
	wantIn := append([]float32(nil), x...)
	fallback.ApplyCF(wantIn, wantIn, n, c, s, stride, p)
	im.ApplyCF(inplace, inplace, n, c, s, stride, p)
	ok = ok && sameBits32(t, "ApplyCF in place "+what, inplace, wantIn)

	// BackwardApplyCF out of place, dx is dy, dx is x.
	want = make([]float32, size)
	got = mk((mis + 9) % 16)
	fill(rng, got, -2, false)
	copy(want, got)
	fallback.BackwardApplyCF(want, dy, x, n, c, s, stride, p)
	im.BackwardApplyCF(got, dy, x, n, c, s, stride, p)
	ok = ok && sameBits32(t, "BackwardApplyCF "+what, got, want)

	wdy, gdy := append([]float32(nil), dy...), append(mk(mis)[:0], dy...)
	fallback.BackwardApplyCF(wdy, wdy, x, n, c, s, stride, p)
	im.BackwardApplyCF(gdy, gdy, x, n, c, s, stride, p)
	ok = ok && sameBits32(t, "BackwardApplyCF dx=dy "+what, gdy, wdy)

	wx, gx := append([]float32(nil), x...), append(mk((mis + 1) % 16)[:0], x...)
	fallback.BackwardApplyCF(wx, dy, wx, n, c, s, stride, p)
	im.BackwardApplyCF(gx, dy, gx, n, c, s, stride, p)
	ok = ok && sameBits32(t, "BackwardApplyCF dx=x "+what, gx, wx)
	return ok
}

// covered reports whether index i is part of a run of the block.
func covered(i, n, c, s, stride int) bool {
	if stride == 0 {
		return false
	}
	return i/stride < n && i%stride < c*s
}

func TestElementwiseCF(t *testing.T) {
	for _, im := range availableImpls(t) {
		requireCF(t, im)
		t.Run(im.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			for _, s := range runLens() {
				for _, nc := range [][2]int{{1, 1}, {2, 3}, {3, 1}} {
					n, c := nc[0], nc[1]
					if s > 1100 && n*c > 3 {
						continue
					}
					for mis := 0; mis < 16; mis++ {
						if s > 300 && mis%5 != 0 {
							continue
						}
						stride := c*s + rng.IntN(20)
						if !elementwiseCase(t, im, rng, n, c, s, stride, mis, rng.IntN(4) == 0) {
							return
						}
					}
				}
			}
			for mis := 0; mis < 16; mis++ {
				for _, s := range []int{1, 7, 8, 9, 16, 17, 49, 64, 65, 100} {
					if !elementwiseCase(t, im, rng, 2, 2, s, 2*s+mis, mis, mis%2 == 0) {
						return
					}
				}
			}
			// Empty blocks: nothing read or written.
			for _, d := range [][3]int{{0, 3, 5}, {2, 0, 5}, {2, 3, 0}} {
				elementwiseCase(t, im, rng, d[0], d[1], d[2], d[1]*d[2]+1, 0, false)
			}
		})
	}
}
