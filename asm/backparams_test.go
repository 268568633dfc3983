package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// backParamsCase is one call of BackParamsRows.
type backParamsCase struct {
	sdy, dot, res []float64
	invstd, gamma []float32
	m             float64
}

// newBackParamsCase draws n channels' backward sums over m values each,
// with special values and out-of-range invstd at some channels when
// special is set.
func newBackParamsCase(rng *rand.Rand, n int, m float64, special bool) backParamsCase {
	c := backParamsCase{sdy: make([]float64, n), dot: make([]float64, n), res: make([]float64, n),
		invstd: make([]float32, n), gamma: make([]float32, n), m: m}
	for i := range n {
		c.sdy[i] = rng.NormFloat64() * math.Sqrt(m)
		c.dot[i] = rng.NormFloat64() * math.Sqrt(m) * 3
		c.res[i] = rng.NormFloat64() * 1e-3 * m
		c.invstd[i] = float32(math.Exp(rng.NormFloat64() * 3))
		c.gamma[i] = float32(rng.NormFloat64())
	}
	if special && n > 0 {
		sp64 := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1e300, -1e300, 5e-324, 0x1p120 * m}
		sp32 := []float32{float32(math.NaN()), float32(math.Inf(1)), 0, 0x1p50, 0x1p51, 0x1p-120, 0x1p-121, 1e-45, 3e38}
		for range 1 + n/8 {
			switch i := rng.IntN(n); rng.IntN(5) {
			case 0:
				c.sdy[i] = sp64[rng.IntN(len(sp64))]
			case 1:
				c.dot[i] = sp64[rng.IntN(len(sp64))]
			case 2:
				c.res[i] = sp64[rng.IntN(len(sp64))]
			case 3:
				c.invstd[i] = sp32[rng.IntN(len(sp32))]
			default:
				c.gamma[i] = sp32[rng.IntN(len(sp32))]
			}
		}
	}
	return c
}

type backParamsOut struct {
	dgamma         []float64
	lo, k2, k3, k1 []float32
	ok             bool
}

func (c backParamsCase) run(k func(sdy, dot, res, dgamma []float64, invstd, gamma, lo, k2, k3, k1 []float32, m float64) bool, o *backParamsOut) {
	n := len(c.sdy)
	if o.dgamma == nil {
		o.dgamma = make([]float64, n)
		o.lo, o.k2, o.k3, o.k1 = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	}
	o.ok = k(c.sdy, c.dot, c.res, o.dgamma, c.invstd, c.gamma, o.lo, o.k2, o.k3, o.k1, c.m)
}

func sameBackParams(t testing.TB, what string, got, want *backParamsOut) bool {
	t.Helper()
	if got.ok != want.ok {
		t.Errorf("%s: returned %v, want %v", what, got.ok, want.ok)
		return false
	}
	return sameBits64(t, what+" dgamma", got.dgamma, want.dgamma) && sameBits32(t, what+" lo", got.lo, want.lo) &&
		sameBits32(t, what+" k2", got.k2, want.k2) && sameBits32(t, what+" k3", got.k3, want.k3) &&
		sameBits32(t, what+" k1", got.k1, want.k1)
}

// TestBackParamsRows compares every tier's BackParamsRows with fallback
// for 0 to 70 channels and several counts, with and without special
// values; both answers must occur.
func TestBackParamsRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, im := range availableImpls(t) {
		if im.BackParamsRows == nil {
			t.Fatalf("tier %s lacks BackParamsRows", im.Name)
		}
		seen := map[bool]int{}
		for n := 0; n <= 70; n++ {
			for _, m := range []float64{1, 2, 3, 49, 256, 100352} {
				for _, special := range []bool{false, true} {
					c := newBackParamsCase(rng, n, m, special)
					var got, want backParamsOut
					c.run(fallback.BackParamsRows, &want)
					c.run(im.BackParamsRows, &got)
					if !sameBackParams(t, fmt.Sprintf("%s n=%d m=%v special=%v", im.Name, n, m, special), &got, &want) {
						return
					}
					seen[want.ok]++
				}
			}
		}
		if seen[true] == 0 || seen[false] == 0 {
			t.Errorf("%s: the cases never gave both answers: %v", im.Name, seen)
		}
	}
}

// FuzzBackParamsRows compares every tier with fallback on channels built
// from the fuzzer's numbers.
func FuzzBackParamsRows(f *testing.F) {
	f.Add(uint64(1), uint8(9), 256.0, false)
	f.Add(uint64(2), uint8(3), 1.0, true)
	f.Add(uint64(3), uint8(17), 49.0, true)
	f.Add(uint64(4), uint8(64), 3.0, false)
	ims := asm.Impls()
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, m float64, special bool) {
		if !(m >= 1) || math.IsInf(m, 0) {
			return
		}
		c := newBackParamsCase(rand.New(rand.NewPCG(seed, 6)), int(n), m, special)
		var want backParamsOut
		c.run(fallback.BackParamsRows, &want)
		for _, im := range ims {
			if !im.Available {
				continue
			}
			var got backParamsOut
			c.run(im.BackParamsRows, &got)
			sameBackParams(t, im.Name, &got, &want)
		}
	})
}
