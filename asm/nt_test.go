//go:build linux && amd64

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// TestNTKernels checks the non-temporal forms of the element-wise kernels
// against fallback, bit for bit, with the output placed against a guard
// page (a stray store faults). Channels first: runs of any length and any
// start (the kernels store each run's head, or with runs of
// ShortRunMinCF..ShortRunMaxCF-1 values each sample's head, the ordinary
// way up to the next 64-byte line), the output ending at the guard page
// or starting right after it. Channels last: C a multiple of 16 and the
// output NTAlign aligned, as package reduce guarantees for those kernels,
// on both sides of the widths where a tier's NT forms switch from blocks
// of rows to one row per block (AVX2: 32 for ApplyCLNT, 32 for
// BackwardApplyCLNT; AVX-512: 96 and 64).
func TestNTKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, im := range availableImpls(t) {
		if im.ApplyCFNT == nil || im.ApplyCLNT == nil || im.BackwardApplyCFNT == nil || im.BackwardApplyCLNT == nil {
			t.Fatalf("%s: missing NT kernels", im.Name)
		}
		for i, s := range []int{1, 3, 7, 15, 16, 17, 32, 33, 48, 49, 55, 64, 128, 1023, 1024, 1040, 3025, 3136} {
			for _, c := range []int{1, 2, 5} {
				for _, n := range []int{1, 3} {
					stride := c*s + 16*rng.IntN(3)
					if i%2 == 0 {
						stride = c*s + rng.IntN(20)
					}
					total := (n-1)*stride + c*s
					x, dy := make([]float32, total), make([]float32, total)
					fill(rng, x, 1e3, true)
					fill(rng, dy, 0, true)
					p := make([]float32, fallback.ParamStrideCF*c)
					fill(rng, p, 0, false)
					atEnd := (i+n)%2 == 0
					what := fmt.Sprintf("%s n=%d c=%d s=%d stride=%d atEnd=%v", im.Name, n, c, s, stride, atEnd)
					checkNTCF(t, im, what, newGuarded(t, 4*total).f32(total, atEnd), x, dy, n, c, s, stride, p)
				}
			}
		}
		// Short runs, walked sample by sample: the output at every start
		// within a line, so that the sample's head (up to the next line)
		// takes every length and crosses channel boundaries, and the end
		// against the guard page; the inputs and parameters against guard
		// pages too.
		for _, s := range []int{16, 17, 20, 49, 100, 255} {
			for _, c := range []int{1, 3, 7} {
				for shift := range 16 {
					n := 2
					stride := c*s + shift%3
					total := (n-1)*stride + c*s
					// x ends against a guard page and dy starts right after
					// one, so that a load past either end faults too.
					gx, gdy := newGuarded(t, 4*total), newGuarded(t, 4*total)
					x, dy := gx.f32(total, true), gdy.f32(total, false)
					fill(rng, x, 1e3, true)
					fill(rng, dy, 0, true)
					gp, gy := newGuarded(t, 4*fallback.ParamStrideCF*c), newGuarded(t, 4*(total+shift))
					p := gp.f32((c-1)*fallback.ParamStrideCF+5, true)
					fill(rng, p, 0, false)
					what := fmt.Sprintf("%s n=%d c=%d s=%d stride=%d shift=%d", im.Name, n, c, s, stride, shift)
					checkNTCF(t, im, what, gy.f32(total+shift, true)[shift:], x, dy, n, c, s, stride, p)
					gp.free()
					gy.free()
					gx.free()
					gdy.free()
				}
			}
		}
		for _, C := range []int{16, 32, 48, 64, 80, 96, 112, 128, 144, 512} {
			for _, rows := range []int{1, 2, 7, 8, 9, 33} {
				// ld = C + 16 keeps every row on a 64-byte boundary: a
				// block of the channels of wider rows.
				ld := C + rows%2*16
				total := (rows-1)*ld + C
				// x and dy against guard pages too, one at its end and
				// one at its start (BackwardApplyCLNT prefetches ahead,
				// which must never turn into a read).
				x := newGuarded(t, 4*total).f32(total, rows%2 == 0)
				dy := newGuarded(t, 4*total).f32(total, rows%2 == 1)
				fill(rng, x, 1e3, true)
				fill(rng, dy, 0, true)
				p := make([]float32, 5*C)
				fill(rng, p, 0, false)
				what := fmt.Sprintf("%s rows=%d C=%d ld=%d", im.Name, rows, C, ld)
				want := make([]float32, total)
				g := newGuarded(t, 4*total)
				got := g.f32(total, true)
				fallback.ApplyCL(want, x, rows, C, ld, p)
				noFault(t, "ApplyCLNT "+what, func() { im.ApplyCLNT(got, x, rows, C, ld, p) })
				sameBits32(t, "ApplyCLNT "+what, got, want)
				fallback.BackwardApplyCL(want, dy, x, rows, C, ld, p)
				noFault(t, "BackwardApplyCLNT "+what, func() { im.BackwardApplyCLNT(got, dy, x, rows, C, ld, p) })
				sameBits32(t, "BackwardApplyCLNT "+what, got, want)
			}
		}
	}
}

// checkNTCF runs ApplyCFNT and BackwardApplyCFNT into got and compares
// what they write with fallback's, bit for bit; a fault fails the test.
// Both start from the same filler, so the gaps between samples (stride >
// c*s) must come out untouched too.
func checkNTCF(t *testing.T, im asm.Impl, what string, got, x, dy []float32, n, c, s, stride int, p []float32) {
	t.Helper()
	want := make([]float32, len(got))
	fillGaps := func() {
		for i := range got {
			got[i] = float32(i%7) - 9.5
			want[i] = got[i]
		}
	}
	fillGaps()
	fallback.ApplyCF(want, x, n, c, s, stride, p)
	noFault(t, "ApplyCFNT "+what, func() { im.ApplyCFNT(got, x, n, c, s, stride, p) })
	sameBits32(t, "ApplyCFNT "+what, got, want)
	fillGaps()
	fallback.BackwardApplyCF(want, dy, x, n, c, s, stride, p)
	noFault(t, "BackwardApplyCFNT "+what, func() { im.BackwardApplyCFNT(got, dy, x, n, c, s, stride, p) })
	sameBits32(t, "BackwardApplyCFNT "+what, got, want)
}
