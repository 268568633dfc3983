package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/fallback"
)

// phaseValues draws the totals t of n channels and their phase lanes a
// (stride apart), with special values when special is set: NaNs of four
// payloads, infinities, signed zeros, subnormals and sums that overflow.
func phaseValues(rng *rand.Rand, n, stride int, special bool) (t, a []float64) {
	t, a = make([]float64, n), make([]float64, 3*stride+n)
	for i := range t {
		t[i] = rng.NormFloat64() * 1e3
	}
	for i := range a {
		a[i] = rng.NormFloat64() * math.Exp(rng.NormFloat64()*5)
	}
	if special && n > 0 {
		sp := []float64{math.Float64frombits(0x7ff8000000000001), math.Float64frombits(0xfff8000000000002),
			math.Float64frombits(0x7ff8000000000003), math.Float64frombits(0x7ff4000000000004),
			math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 5e-324, -1e-310, math.MaxFloat64, -math.MaxFloat64}
		for range 1 + n/2 {
			i := rng.IntN(n)
			if rng.IntN(5) == 0 {
				t[i] = sp[rng.IntN(len(sp))]
			} else {
				a[rng.IntN(4)*stride+i] = sp[rng.IntN(len(sp))]
			}
		}
	}
	return t, a
}

// sameExact64 compares bit for bit, NaN payloads included.
func sameExact64(t testing.TB, what string, got, want []float64) bool {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Errorf("%s: t[%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
			return false
		}
	}
	return true
}

// TestAddPhases compares every tier's AddPhases with fallback's, bit for
// bit (a NaN only has to be a NaN: which operand's payload Go's code
// passes on changes with the build, -race for one), for 0 to 70 channels
// (every tail length of both vector widths) and strides from len(t) up, on
// plain and special values; a must be left alone.
func TestAddPhases(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, im := range availableImpls(t) {
		for n := 0; n <= 70; n++ {
			for _, gap := range []int{0, 1, 7} {
				for _, special := range []bool{false, true} {
					stride := n + gap
					want, a := phaseValues(rng, n, stride, special)
					got := append([]float64(nil), want...)
					a0 := append([]float64(nil), a...)
					fallback.AddPhases(want, a, stride)
					im.AddPhases(got, a, stride)
					what := fmt.Sprintf("%s n=%d stride=%d special=%v", im.Name, n, stride, special)
					if !sameBits64(t, what, got, want) || !sameExact64(t, what+" (a changed)", a, a0) {
						return
					}
				}
			}
		}
	}
}

// FuzzAddPhases compares every tier with fallback on random channel
// counts, strides and values.
func FuzzAddPhases(f *testing.F) {
	f.Add(uint64(1), uint8(9), uint8(0), false)
	f.Add(uint64(2), uint8(33), uint8(5), true)
	f.Add(uint64(3), uint8(0), uint8(3), true)
	f.Fuzz(func(t *testing.T, seed uint64, n, gap uint8, special bool) {
		rng := rand.New(rand.NewPCG(seed, 25))
		stride := int(n) + int(gap)
		want, a := phaseValues(rng, int(n), stride, special)
		in := append([]float64(nil), want...)
		fallback.AddPhases(want, a, stride)
		for _, im := range availableImpls(t) {
			got := append([]float64(nil), in...)
			im.AddPhases(got, a, stride)
			sameBits64(t, im.Name, got, want)
		}
	})
}
