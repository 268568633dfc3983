//go:build linux && amd64

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// TestPairKernels checks ApplyCFNTPair and BackwardApplyCFNTPair against
// fallback, bit for bit, on the geometry package reduce gives them (runs,
// strides and the distance between the blocks in whole 64-byte lines, the
// output aligned): n samples of c channels at the start of the slices and
// again pair values on, with gaps between the samples and between the
// blocks that must come out untouched. The output, x, dy and the
// parameters each lie against a guard page, at the end or at the start,
// so that a stray load or store faults; every form also runs in place.
func TestPairKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, im := range availableImpls(t) {
		if im.ApplyCFNTPair == nil || im.BackwardApplyCFNTPair == nil {
			t.Fatalf("%s: missing Pair kernels", im.Name)
		}
		pairGeometries(func(k, n, c, s, stride, pair int) {
			total := pair + (n-1)*stride + c*s
			atEnd := k%2 == 0
			gx, gdy := newGuarded(t, 4*total), newGuarded(t, 4*total)
			x, dy := gx.f32(total, atEnd), gdy.f32(total, !atEnd)
			fill(rng, x, 1e3, true)
			fill(rng, dy, 0, true)
			gp := newGuarded(t, 4*fallback.ParamStrideCF*c)
			p := gp.f32((c-1)*fallback.ParamStrideCF+5, atEnd)
			fill(rng, p, 0, false)
			gy := newGuarded(t, 4*total)
			got := gy.f32(total, !atEnd)
			what := fmt.Sprintf("%s n=%d c=%d s=%d stride=%d pair=%d atEnd=%v", im.Name, n, c, s, stride, pair, atEnd)
			checkPair(t, im, what, got, x, dy, n, c, s, stride, pair, p)
			for _, g := range []*guarded{gx, gdy, gp, gy} {
				g.free()
			}
		})
	}
}

// checkPair runs both Pair kernels into got and in place, and compares
// with fallback bit for bit (a fault fails the test). got starts from a
// filler, so the values outside the two blocks' runs must come out as
// they were.
func checkPair(t *testing.T, im asm.Impl, what string, got, x, dy []float32, n, c, s, stride, pair int, p []float32) {
	t.Helper()
	want := make([]float32, len(got))
	fillGaps := func() {
		for i := range got {
			got[i] = float32(i%7) - 9.5
			want[i] = got[i]
		}
	}
	fillGaps()
	fallback.ApplyCFPair(want, x, n, c, s, stride, pair, p)
	noFault(t, "ApplyCFNTPair "+what, func() { im.ApplyCFNTPair(got, x, n, c, s, stride, pair, p) })
	sameBits32(t, "ApplyCFNTPair "+what, got, want)
	fillGaps()
	fallback.BackwardApplyCFPair(want, dy, x, n, c, s, stride, pair, p)
	noFault(t, "BackwardApplyCFNTPair "+what, func() { im.BackwardApplyCFNTPair(got, dy, x, n, c, s, stride, pair, p) })
	sameBits32(t, "BackwardApplyCFNTPair "+what, got, want)

	// In place: y is x; dx is dy, then x.
	copy(got, x)
	copy(want, x)
	fallback.ApplyCFPair(want, want, n, c, s, stride, pair, p)
	noFault(t, "ApplyCFNTPair in place "+what, func() { im.ApplyCFNTPair(got, got, n, c, s, stride, pair, p) })
	sameBits32(t, "ApplyCFNTPair in place "+what, got, want)
	copy(got, dy)
	copy(want, dy)
	fallback.BackwardApplyCFPair(want, want, x, n, c, s, stride, pair, p)
	noFault(t, "BackwardApplyCFNTPair dx = dy "+what, func() { im.BackwardApplyCFNTPair(got, got, x, n, c, s, stride, pair, p) })
	sameBits32(t, "BackwardApplyCFNTPair dx = dy "+what, got, want)
	copy(got, x)
	copy(want, x)
	fallback.BackwardApplyCFPair(want, dy, want, n, c, s, stride, pair, p)
	noFault(t, "BackwardApplyCFNTPair dx = x "+what, func() { im.BackwardApplyCFNTPair(got, dy, got, n, c, s, stride, pair, p) })
	sameBits32(t, "BackwardApplyCFNTPair dx = x "+what, got, want)
}

// TestQuadKernel checks ApplyCFNTQuad against fallback.ApplyCFQuad, bit
// for bit, as TestPairKernels checks the Pair kernels: n samples of c
// channels at the start of the slices and again pair, 2*pair and 3*pair
// values on, with gaps that must come out untouched, the output, x and
// the parameters against guard pages, and in place.
func TestQuadKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	for _, im := range availableImpls(t) {
		if im.ApplyCFNTQuad == nil {
			t.Fatalf("%s: missing ApplyCFNTQuad", im.Name)
		}
		pairGeometries(func(k, n, c, s, stride, pair int) {
			total := 3*pair + (n-1)*stride + c*s
			atEnd := k%2 == 0
			gx, gy := newGuarded(t, 4*total), newGuarded(t, 4*total)
			x, got := gx.f32(total, atEnd), gy.f32(total, !atEnd)
			fill(rng, x, 1e3, true)
			gp := newGuarded(t, 4*fallback.ParamStrideCF*c)
			p := gp.f32((c-1)*fallback.ParamStrideCF+4, atEnd)
			fill(rng, p, 0, false)
			what := fmt.Sprintf("%s n=%d c=%d s=%d stride=%d pair=%d atEnd=%v", im.Name, n, c, s, stride, pair, atEnd)
			want := make([]float32, total)
			for i := range got {
				got[i] = float32(i%7) - 9.5
				want[i] = got[i]
			}
			fallback.ApplyCFQuad(want, x, n, c, s, stride, pair, p)
			noFault(t, "ApplyCFNTQuad "+what, func() { im.ApplyCFNTQuad(got, x, n, c, s, stride, pair, p) })
			sameBits32(t, "ApplyCFNTQuad "+what, got, want)
			copy(got, x)
			copy(want, x)
			fallback.ApplyCFQuad(want, want, n, c, s, stride, pair, p)
			noFault(t, "ApplyCFNTQuad in place "+what, func() { im.ApplyCFNTQuad(got, got, n, c, s, stride, pair, p) })
			sameBits32(t, "ApplyCFNTQuad in place "+what, got, want)
			for _, g := range []*guarded{gx, gy, gp} {
				g.free()
			}
		})
	}
}

// TestBackwardCFPair checks every tier's BackwardCFPair against
// fallback.BackwardCFPair, bit for bit, on the geometry package reduce
// gives it: n and pair multiples of 16 (every such n up to 1104, then the
// lengths around the flush segments and a 56x56 run), a gap of 0 to 48
// values between the two runs. dy, x and acc each lie against a guard
// page, at the end or at the start, so that a stray load or store faults.
// Offsets up to 1e6; NaN and Inf in every third case.
func TestBackwardCFPair(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	lengths := pairLengths()
	for _, im := range availableImpls(t) {
		if im.BackwardCFPair == nil {
			t.Fatalf("%s: missing BackwardCFPair", im.Name)
		}
		for k, n := range lengths {
			pair := n + 16*(k%4)
			total := pair + n
			atEnd := k%2 == 0
			special := k%3 == 0
			offset := offsets[rng.IntN(len(offsets))]
			gx, gdy, gacc := newGuarded(t, 4*total), newGuarded(t, 4*total), newGuarded(t, 8*6*fallback.Lanes)
			x, dy := gx.f32(total, atEnd), gdy.f32(total, !atEnd)
			acc := gacc.f64(6*fallback.Lanes, atEnd)
			fill(rng, x, offset, special)
			fill(rng, dy, 0, special)
			acc0 := randAcc(rng, 6*fallback.Lanes)
			copy(acc, acc0)
			mean := offset + 0.5
			want := append([]float64(nil), acc0...)
			fallback.BackwardCFPair(want, dy, x, n, pair, mean)
			what := fmt.Sprintf("%s n=%d pair=%d atEnd=%v special=%v offset=%v", im.Name, n, pair, atEnd, special, offset)
			ok := noFault(t, what, func() { im.BackwardCFPair(acc, dy, x, n, pair, mean) }) && sameBits64(t, what, acc, want)
			for _, g := range []*guarded{gx, gdy, gacc} {
				g.free()
			}
			if !ok {
				return
			}
		}
	}
}

// pairGeometries calls f with the geometries the Pair and Quad tests
// take (case number k from 1): runs s of 16 to 3136 values, 1, 2 or 5
// channels, 1 to 3 samples, gaps of 0 to 32 values between the samples
// and of 0 to 48 between the blocks (pair values from one block's start
// to the next's), all whole vectors of 16.
func pairGeometries(f func(k, n, c, s, stride, pair int)) {
	k := 0
	for _, s := range []int{16, 32, 48, 64, 80, 112, 256, 784, 1040, 3136} {
		for _, c := range []int{1, 2, 5} {
			for _, n := range []int{1, 2, 3} {
				k++
				stride := c*s + 16*(k%3)
				pair := n*stride - (stride - c*s) + 16*(k%4)
				f(k, n, c, s, stride, pair)
			}
		}
	}
}

// pairLengths returns the run lengths the Pair reduction tests take: every
// multiple of 16 up to 1104, then the lengths around the flush segments
// and a 56x56 run.
func pairLengths() []int {
	var lengths []int
	for n := 16; n <= 1104; n += 16 {
		lengths = append(lengths, n)
	}
	return append(lengths, 2032, 2048, 2064, 3136, 4096+16, 5*1024+48)
}
