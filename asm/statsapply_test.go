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

// TestStatsApplyCF checks every tier's fused kernels (non-temporal and
// ordinary stores) against fallback for
// every length 0..300 and the lengths around the flush segments (1024) and
// a 56x56 run, start misalignments of x and xa 0..15 and of y 0..15 (each
// at every length up to 300), both guard-page placements, offsets up to
// 1e6, with and without NaN and Inf.
func TestStatsApplyCF(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, im := range availableImpls(t) {
		if im.StatsApplyCFNT == nil || im.StatsApplyCF == nil {
			t.Fatalf("%s: missing StatsApplyCFNT or StatsApplyCF", im.Name)
		}
		for _, k := range []statsApplyKernel{{im.Name + " NT", im.StatsApplyCFNT}, {im.Name, im.StatsApplyCF}} {
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
}

// TestStatsApplyCFPair checks every tier's StatsApplyCFNTPair against
// fallback.StatsApplyCFPair, bit for bit, on the geometry package reduce
// gives it: n and pair multiples of 16 (every such n up to 1104, then the
// lengths around the flush segments and a 56x56 run), a gap of 0 to 48
// values between the two stretches that must keep its sentinels, and y on
// a 64-byte boundary. x, xa, y and acc each lie against a guard page, at
// the end or at the start, so that a stray load or store faults; the
// kernel also runs in place (y = xa). Offsets up to 1e6; NaN and Inf in
// every third case.
func TestStatsApplyCFPair(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	lengths := pairLengths()
	for _, im := range availableImpls(t) {
		if im.StatsApplyCFNTPair == nil {
			t.Fatalf("%s: missing StatsApplyCFNTPair", im.Name)
		}
		for k, n := range lengths {
			for _, inPlace := range []bool{false, true} {
				pair := n + 16*((k+len(lengths)/2)%4)
				total := pair + n
				atEnd := (k+boolInt(inPlace))%2 == 0
				special := k%3 == 0
				offset := offsets[rng.IntN(len(offsets))]
				gx, ga, gy, gacc := newGuarded(t, 4*total), newGuarded(t, 4*total), newGuarded(t, 4*total), newGuarded(t, 8*4*fallback.Lanes)
				x, xa, y := gx.f32(total, atEnd), ga.f32(total, !atEnd), gy.f32(total, atEnd)
				acc := gacc.f64(4*fallback.Lanes, !atEnd)
				fill(rng, x, offset, special)
				fill(rng, xa, offset, special)
				p := make([]float32, fallback.ParamStrideCF)
				fill(rng, p, 0, false)
				p[0] = offset
				acc0 := randAcc(rng, 4*fallback.Lanes)
				copy(acc, acc0)
				want := make([]float32, total)
				for i := range y {
					y[i] = float32(i%5) - 7.25
					want[i] = y[i]
				}
				out, src := y, xa
				if inPlace {
					copy(y, xa)
					copy(want, xa)
					src = y
				}
				wantAcc := append([]float64(nil), acc0...)
				wantSrc := xa
				if inPlace {
					wantSrc = want
				}
				fallback.StatsApplyCFPair(wantAcc, x, n, pair, p[0]+0.5, want, wantSrc, p)
				what := fmt.Sprintf("%s n=%d pair=%d atEnd=%v inPlace=%v special=%v offset=%v", im.Name, n, pair, atEnd, inPlace, special, offset)
				ok := noFault(t, what, func() { im.StatsApplyCFNTPair(acc, x, n, pair, p[0]+0.5, out, src, p) }) &&
					sameBits64(t, what+" acc", acc, wantAcc) && sameBits32(t, what+" y", y, want)
				for _, g := range []*guarded{gx, ga, gy, gacc} {
					g.free()
				}
				if !ok {
					return
				}
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
