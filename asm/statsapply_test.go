//go:build linux && amd64

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/fallback"
)

// statsApplyCase runs StatsApplyCFNT of im on one length and placement and
// compares acc and y with fallback.StatsApplyCF, bit for bit. x and xa
// start mis values into their regions (or end at the guard page: atEnd);
// y is aligned, as package reduce guarantees for the NT kernels, and ends
// at the guard page when its length is a whole number of 64-byte lines.
func statsApplyCase(t *testing.T, im statsApplyKernel, rng *rand.Rand, n, mis int, atEnd, special bool, offset float32) bool {
	xs := make([]float32, n+mis)
	fill(rng, xs, offset, special)
	xa := make([]float32, n+mis)
	fill(rng, xa, offset, special)
	p := make([]float32, fallback.ParamStrideCF)
	fill(rng, p, 0, false)
	p[0] = offset
	acc0 := randAcc(rng, 2*fallback.Lanes)

	gx, ga := newGuarded(t, 4*(n+mis)), newGuarded(t, 4*(n+mis))
	x, a := gx.f32(n+mis, atEnd)[mis:], ga.f32(n+mis, atEnd)[mis:]
	if atEnd {
		x, a = gx.f32(n, true), ga.f32(n, true)
	}
	copy(x, xs[mis:])
	copy(a, xa[mis:])
	gy := newGuarded(t, 4*n)
	y := gy.f32(n, n*4%64 == 0)

	want, wantAcc := make([]float32, n), append([]float64(nil), acc0...)
	fallback.StatsApplyCF(wantAcc, x, p[0]+0.5, want, a, p)
	gotAcc := append([]float64(nil), acc0...)
	what := fmt.Sprintf("%s n=%d mis=%d atEnd=%v special=%v offset=%v", im.name, n, mis, atEnd, special, offset)
	if !noFault(t, what, func() { im.f(gotAcc, x, p[0]+0.5, y, a, p) }) {
		return false
	}
	return sameBits64(t, what+" acc", gotAcc, wantAcc) && sameBits32(t, what+" y", y, want)
}

type statsApplyKernel struct {
	name string
	f    func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32)
}

// TestStatsApplyCF checks every tier's fused kernel against fallback for
// every length 0..300 and the lengths around the flush segments (1024) and
// a 56x56 run, start misalignments of x and xa 0..15, both guard-page
// placements, offsets up to 1e6, with and without NaN and Inf.
func TestStatsApplyCF(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, im := range availableImpls(t) {
		if im.StatsApplyCFNT == nil {
			t.Fatalf("%s: missing StatsApplyCFNT", im.Name)
		}
		k := statsApplyKernel{im.Name, im.StatsApplyCFNT}
		lengths := []int{1023, 1024, 1025, 1056, 2047, 2048, 2080, 3136, 4096 + 17}
		for n := 0; n <= 300; n++ {
			lengths = append(lengths, n)
		}
		for _, n := range lengths {
			for _, atEnd := range []bool{false, true} {
				mis := rng.IntN(16)
				special := n%3 == 0
				offset := offsets[rng.IntN(len(offsets))]
				if !statsApplyCase(t, k, rng, n, mis, atEnd, special, offset) {
					return
				}
			}
		}
	}
}
