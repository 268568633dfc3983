//go:build linux && amd64

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/fallback"
)

// backSumsApplyCase runs BackwardSumsApplyCF of im on n values and
// compares acc and dx with fallback.BackwardSumsApplyCF, bit for bit. Each
// of the five slices lies in a guarded region of its own, starting mis
// values in (at the region's start, so that a load before it faults) or
// ending at the trailing guard page (atEnd); dx's region keeps sentinels
// around dx that must survive. With inPlace, dx is the very same slice
// as xa (inPlace 1) or dya (inPlace 2).
func backSumsApplyCase(t *testing.T, name string, f func(acc []float64, dy, x []float32, mean float32, dx, dya, xa []float32, p []float32),
	rng *rand.Rand, n, mis int, atEnd bool, inPlace int, special bool, offset float32) bool {
	what := fmt.Sprintf("%s n=%d mis=%d atEnd=%v inPlace=%d special=%v offset=%v", name, n, mis, atEnd, inPlace, special, offset)
	var gs []*guarded
	defer func() {
		for _, g := range gs {
			g.free()
		}
	}()
	place := func() []float32 {
		g := newGuarded(t, 4*(n+mis))
		gs = append(gs, g)
		if atEnd {
			return g.f32(n, true)
		}
		return g.f32(n+mis, false)[mis:]
	}
	x, dy, xa, dya := place(), place(), place(), place()
	for _, s := range [][]float32{x, xa} {
		fill(rng, s, offset, special)
	}
	for _, s := range [][]float32{dy, dya} {
		fill(rng, s, 0, special)
	}
	gdx := newGuarded(t, 4*(n+2*mis))
	gs = append(gs, gdx)
	region := gdx.f32(n+2*mis, false)
	if atEnd {
		region = gdx.f32(n+mis, true)
	}
	for i := range region {
		region[i] = -7.25
	}
	dx := region[mis : mis+n]
	switch inPlace {
	case 1:
		copy(dx, xa)
		xa = dx
	case 2:
		copy(dx, dya)
		dya = dx
	}
	p := make([]float32, fallback.ParamStrideCF)
	fill(rng, p, 0, false)
	p[0] = offset
	mean := offset + 0.5
	acc0 := randAcc(rng, 3*fallback.Lanes)

	want := make([]float32, n)
	wantAcc := append([]float64(nil), acc0...)
	fallback.BackwardSumsApplyCF(wantAcc, dy, x, mean, want, append([]float32(nil), dya...), append([]float32(nil), xa...), p)
	gotAcc := append([]float64(nil), acc0...)
	if !noFault(t, what, func() { f(gotAcc, dy, x, mean, dx, dya, xa, p) }) {
		return false
	}
	if !sameBits64(t, what+" acc", gotAcc, wantAcc) || !sameBits32(t, what+" dx", dx, want) {
		return false
	}
	for i, v := range region {
		if (i < mis || i >= mis+n) && v != -7.25 {
			t.Errorf("%s: dx's region [%d] = %v, outside dx", what, i, v)
			return false
		}
	}
	return true
}

// TestBackwardSumsApplyCF checks every tier's BackwardSumsApplyCF against
// fallback for every length 0..300, the lengths around the flush segments
// (1024) and 28x28 and 56x56 runs; start misalignments 0..15 of all five
// slices (every one of them up to 80 values, one at random above), against the guard page before them or ending at the one after;
// dx apart, in place over xa and in place over dya; offsets up to 1e6;
// NaN and Inf in every third length.
func TestBackwardSumsApplyCF(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	lengths := []int{784, 1023, 1024, 1025, 1056, 2047, 2048, 2080, 3136, 4096 + 17}
	for n := 0; n <= 300; n++ {
		lengths = append(lengths, n)
	}
	for _, im := range availableImpls(t) {
		if im.BackwardSumsApplyCF == nil {
			t.Fatalf("%s: missing BackwardSumsApplyCF", im.Name)
		}
		for k, n := range lengths {
			for _, atEnd := range []bool{false, true} {
				miss := []int{rng.IntN(16)}
				if n <= 80 && !atEnd {
					miss = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
				}
				for _, mis := range miss {
					special := n%3 == 0
					offset := offsets[rng.IntN(len(offsets))]
					if !backSumsApplyCase(t, im.Name, im.BackwardSumsApplyCF, rng, n, mis, atEnd, (k+mis+boolInt(atEnd))%3, special, offset) {
						return
					}
				}
			}
		}
	}
}
