package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// paramsCase is one call of TrainParamsRows: its inputs, which the kernel
// overwrites (sum and sq) or reads.
type paramsCase struct {
	sum, sq          []float64
	piv, gamma, beta []float32
	m, eps           float64
	tiny             bool
}

// newParamsCase draws n channels' sums as a Train over m values per
// channel would give them, with special values at some channels when
// special is set.
func newParamsCase(rng *rand.Rand, n int, m, eps float64, tiny, special bool) paramsCase {
	c := paramsCase{
		sum: make([]float64, n), sq: make([]float64, n),
		piv: make([]float32, n), gamma: make([]float32, n), beta: make([]float32, n),
		m: m, eps: eps, tiny: tiny,
	}
	for i := range n {
		sd := math.Exp(rng.NormFloat64() * 3) // standard deviations from 0.01 to 100
		off := rng.NormFloat64() * sd * 2     // the pivot's distance from the mean
		c.piv[i] = float32(rng.NormFloat64() * 1000)
		c.sum[i] = off * m
		c.sq[i] = (sd*sd + off*off) * m
		c.gamma[i] = float32(rng.NormFloat64())
		c.beta[i] = float32(rng.NormFloat64())
	}
	if special && n > 0 {
		sp64 := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1e300, -1e300, 1e-310, 5e-324}
		sp32 := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, 3e38, -3e38, 1e-45}
		for range 1 + n/8 {
			switch i := rng.IntN(n); rng.IntN(5) {
			case 0:
				c.sum[i] = sp64[rng.IntN(len(sp64))]
			case 1:
				c.sq[i] = sp64[rng.IntN(len(sp64))]
			case 2:
				c.piv[i] = sp32[rng.IntN(len(sp32))]
			case 3:
				c.gamma[i] = sp32[rng.IntN(len(sp32))]
			default:
				c.sum[i], c.sq[i] = 0, 0 // a constant channel: variance 0
			}
		}
	}
	return c
}

type paramsOut struct {
	sum, sq, inv []float64
	hi, lo, a, b []float32
	ok           bool
}

// run calls kernel k on copies of the case's inputs, its outputs in the
// given slices (of length n, fresh ones when nil).
func (c paramsCase) run(k func(sum, sq, inv []float64, piv, gamma, beta, hi, lo, a, b []float32, m, eps float64, tiny bool) bool, o *paramsOut) {
	n := len(c.sum)
	if o.sum == nil {
		o.sum, o.sq, o.inv = make([]float64, n), make([]float64, n), make([]float64, n)
		o.hi, o.lo, o.a, o.b = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	}
	copy(o.sum, c.sum)
	copy(o.sq, c.sq)
	o.ok = k(o.sum, o.sq, o.inv, c.piv, c.gamma, c.beta, o.hi, o.lo, o.a, o.b, c.m, c.eps, c.tiny)
}

func sameParams(t testing.TB, what string, got, want *paramsOut) bool {
	t.Helper()
	if got.ok != want.ok {
		t.Errorf("%s: returned %v, want %v", what, got.ok, want.ok)
		return false
	}
	return sameBits64(t, what+" mean", got.sum, want.sum) && sameBits64(t, what+" variance", got.sq, want.sq) &&
		sameBits64(t, what+" invstd", got.inv, want.inv) && sameBits32(t, what+" hi", got.hi, want.hi) &&
		sameBits32(t, what+" lo", got.lo, want.lo) && sameBits32(t, what+" a", got.a, want.a) &&
		sameBits32(t, what+" b", got.b, want.b)
}

// TestTrainParamsRows compares every tier's TrainParamsRows with fallback
// for 0 to 70 channels (every tail length of both vector widths), several
// counts, eps and the tiny check, with and without special values; both
// answers (fast path or not) must occur.
func TestTrainParamsRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, im := range availableImpls(t) {
		if im.TrainParamsRows == nil {
			t.Fatalf("tier %s lacks TrainParamsRows", im.Name)
		}
		seen := map[bool]int{}
		for n := 0; n <= 70; n++ {
			for _, m := range []float64{1, 2, 3, 49, 256, 100352} {
				for _, eps := range []float64{0, 1e-5, 1e-30} {
					for _, special := range []bool{false, true} {
						tiny := eps < 0x1p-80
						c := newParamsCase(rng, n, m, eps, tiny, special)
						var got, want paramsOut
						c.run(fallback.TrainParamsRows, &want)
						c.run(im.TrainParamsRows, &got)
						what := fmt.Sprintf("%s n=%d m=%v eps=%v special=%v", im.Name, n, m, eps, special)
						if !sameParams(t, what, &got, &want) {
							return
						}
						seen[want.ok]++
					}
				}
			}
		}
		if seen[true] == 0 || seen[false] == 0 {
			t.Errorf("%s: the cases never gave both answers: %v", im.Name, seen)
		}
	}
}

// FuzzTrainParamsRows compares every tier with fallback on channels built
// from the fuzzer's numbers.
func FuzzTrainParamsRows(f *testing.F) {
	f.Add(uint64(1), uint8(9), 256.0, 1e-5, false)
	f.Add(uint64(2), uint8(3), 1.0, 0.0, true)
	f.Add(uint64(3), uint8(17), 49.0, 1e-3, false)
	f.Add(uint64(4), uint8(64), 3.0, 1e-30, true)
	ims := asm.Impls()
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, m, eps float64, special bool) {
		if !(m >= 1) || math.IsInf(m, 0) || !(eps >= 0) || math.IsInf(eps, 0) {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 5))
		c := newParamsCase(rng, int(n), m, eps, eps < 0x1p-80, special)
		var want paramsOut
		c.run(fallback.TrainParamsRows, &want)
		for _, im := range ims {
			if !im.Available {
				continue
			}
			var got paramsOut
			c.run(im.TrainParamsRows, &got)
			sameParams(t, im.Name, &got, &want)
		}
	})
}

// BenchmarkParamsRows times the per-channel kernels on 1024 channels, the
// width of a 256x1024 batch (ns per call; fallback is the scalar Go loop).
func BenchmarkParamsRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(19, 20))
	tiers := []asm.Impl{{Name: "fallback", TrainParamsRows: fallback.TrainParamsRows, BackParamsRows: fallback.BackParamsRows}}
	for _, im := range asm.Impls() {
		if im.Available {
			tiers = append(tiers, im)
		}
	}
	tc := newParamsCase(rng, 1024, 256, 1e-5, false, false)
	bc := newBackParamsCase(rng, 1024, 256, false)
	for _, im := range tiers {
		b.Run("kernel=TrainParamsRows/C=1024/impl="+im.Name, func(b *testing.B) {
			var o paramsOut
			for b.Loop() {
				tc.run(im.TrainParamsRows, &o)
			}
		})
		b.Run("kernel=BackParamsRows/C=1024/impl="+im.Name, func(b *testing.B) {
			var o backParamsOut
			for b.Loop() {
				bc.run(im.BackParamsRows, &o)
			}
		})
	}
}
