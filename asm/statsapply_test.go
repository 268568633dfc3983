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
// y starts ymis values into its region (a head of 16 - ymis values up to
// its first 64-byte boundary), or ends at the guard page, and the rest of
// its region must keep its sentinel values.
func statsApplyCase(t *testing.T, im statsApplyKernel, rng *rand.Rand, n, mis, ymis int, atEnd, special bool, offset float32) bool {
	xs := make([]float32, n+mis)
	fill(rng, xs, offset, special)
	xa := make([]float32, n+mis)
	fill(rng, xa, offset, special)
	p := make([]float32, fallback.ParamStrideCF)
	fill(rng, p, 0, false)
	p[0] = offset
	acc0 := randAcc(rng, 2*fallback.Lanes)

	gx, ga := newGuarded(t, 4*(n+mis)), newGuarded(t, 4*(n+mis))
	defer gx.free()
	defer ga.free()
	x, a := gx.f32(n+mis, atEnd)[mis:], ga.f32(n+mis, atEnd)[mis:]
	if atEnd {
		x, a = gx.f32(n, true), ga.f32(n, true)
	}
	copy(x, xs[mis:])
	copy(a, xa[mis:])
	gy := newGuarded(t, 4*(n+ymis))
	defer gy.free()
	region := gy.f32(n+ymis, false)
	for i := range region {
		region[i] = -7.25
	}
	y := region[ymis:]
	if atEnd {
		y = gy.f32(n, true)
	}

	want, wantAcc := make([]float32, n), append([]float64(nil), acc0...)
	fallback.StatsApplyCF(wantAcc, x, p[0]+0.5, want, a, p)
	gotAcc := append([]float64(nil), acc0...)
	what := fmt.Sprintf("%s n=%d mis=%d ymis=%d atEnd=%v special=%v offset=%v", im.name, n, mis, ymis, atEnd, special, offset)
	if !noFault(t, what, func() { im.f(gotAcc, x, p[0]+0.5, y, a, p) }) {
		return false
	}
	if !sameBits64(t, what+" acc", gotAcc, wantAcc) || !sameBits32(t, what+" y", y, want) {
		return false
	}
	if !atEnd {
		for i, v := range region {
			if (i < ymis || i >= ymis+n) && v != -7.25 {
				t.Errorf("%s: y's region [%d] = %v, outside y", what, i, v)
				return false
			}
		}
	}
	return true
}

type statsApplyKernel struct {
	name string
	f    func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32)
}

// TestStatsApplyCF checks every tier's fused kernel against fallback for
// every length 0..300 and the lengths around the flush segments (1024) and
// a 56x56 run, start misalignments of x and xa 0..15 and of y 0..15 (each
// at every length up to 300), both guard-page placements, offsets up to
// 1e6, with and without NaN and Inf.
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
		lengths = append(lengths, 3025, 3024+16, 2*1024+15, 5*1024+3)
		for _, n := range lengths {
			for _, atEnd := range []bool{false, true} {
				yms := []int{rng.IntN(16)}
				if n <= 300 && !atEnd || n > 1000 {
					yms = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
				}
				for _, ymis := range yms {
					mis := rng.IntN(16)
					special := n%3 == 0
					offset := offsets[rng.IntN(len(offsets))]
					if !statsApplyCase(t, k, rng, n, mis, ymis, atEnd, special, offset) {
						return
					}
				}
			}
		}
	}
}
