package asm_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/simdbn/simdbn/fallback"
)

// BenchmarkSumsBySize reads x and dy of a given total size again and
// again with the fastest tier's channels-first backward sums (one run
// each), and reports GB/s: how much one core reads at L2 speed. The
// pipelined channels-first Backward re-reads a channel's x and dy from L2
// only if they stay there; bench/MEASUREMENTS.md quotes this sweep
// (README's performance section as it stood at b8c508f).
func BenchmarkSumsBySize(b *testing.B) {
	im := fastestTier(b)
	for _, kb := range []int{256, 512, 768, 1024, 1536, 2048, 3072, 8192} {
		n := kb << 10 / 8 // x and dy together kb KB
		x, dy := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], dy[i] = float32(i%7), float32(i%5)
		}
		out, acc, mean := make([]float64, 3), make([]float64, 3*fallback.Lanes), make([]float32, 1)
		b.Run(fmt.Sprintf("xdy=%dKB", kb), func(b *testing.B) {
			for b.Loop() {
				im.BackwardCFChans(out, acc, dy, x, 1, n, 1, n, n, 1, mean)
			}
			b.ReportMetric(float64(kb<<10)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// BenchmarkBlockPlacement times, on the fastest tier, the channels-last
// backward apply and sums over one 256-channel block of 256 rows of 1024
// channels (rows 4 KB apart, as in a channel-blocked Backward of
// 256x1024), with x, dy and dx page-aligned (as Go allocates large
// slices) or a quarter of a page apart, and over 256 rows of 256 channels
// (the same values contiguous). It reports ns per 16-value vector: with
// the three page-aligned, every row's part of the block lands in the same
// few L1 sets (reduce's unblockedBytes).
func BenchmarkBlockPlacement(b *testing.B) {
	im := fastestTier(b)
	const rows, C = 256, 256
	for _, pl := range []struct {
		name string
		ld   int
		off  [3]int // x, dy, dx: values from a page boundary
	}{
		{"aligned", 1024, [3]int{0, 0, 0}},
		{"quarters", 1024, [3]int{0, 256, 512}},
		{"contiguous", 256, [3]int{0, 0, 0}},
	} {
		n := rows * pl.ld
		page := func(off int) []float32 { return make([]float32, n+1024)[off : off+n] }
		x, dy, dx := page(pl.off[0]), page(pl.off[1]), page(pl.off[2])
		for i := range x {
			x[i], dy[i] = float32(i%7), float32(i%5)
		}
		p := make([]float32, 5*C)
		acc, mean := make([]float64, 3*fallback.Phases*C), make([]float32, C)
		tmp := make([]float32, fallback.TmpCL(3, C))
		vec := float64(rows * C / 16)
		b.Run("apply/"+pl.name, func(b *testing.B) {
			for b.Loop() {
				im.BackwardApplyCL(dx, dy, x, rows, C, pl.ld, p)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/vec, "ns/vec")
		})
		b.Run("sums/"+pl.name, func(b *testing.B) {
			for b.Loop() {
				im.BackwardCLCached(acc, dy, x, rows, C, pl.ld, mean, tmp)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/vec, "ns/vec")
		})
	}
}

// BenchmarkBackwardRepeated times, on the fastest tier, the pieces of a
// channels-first Backward of 32x64x56x56 the way bench/compare repeats a
// call (blocks of seven calls, the median of each block), each against
// copy() of the tensor: the sums of every channel, the non-temporal apply
// alone, and one channel at a time summed then applied (whose apply would
// re-read the channel's 803 KB of x and dy from L2). bench/MEASUREMENTS.md
// quotes it (README's performance section as it stood at b8c508f).
func BenchmarkBackwardRepeated(b *testing.B) {
	im := fastestTier(b)
	const N, C, S = 32, 64, 3136
	n := N * C * S
	x, dy, dx, cp := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], dy[i] = float32(i%97)*0.1, float32(i%89)*0.01
	}
	out, acc, mean := make([]float64, 3*C), make([]float64, 3*fallback.Lanes), make([]float32, C)
	p := make([]float32, fallback.ParamStrideCF*C)
	ops := []coldOp{
		{"copy", func() { copy(cp, x) }},
		{"sums", func() { im.BackwardCFChans(out, acc, dy, x, C, S, N, S, C*S, 1, mean) }},
		{"apply", func() { im.BackwardApplyCFNT(dx, dy, x, N, C, S, C*S, p) }},
		{"channel-at-a-time", func() {
			for c := range C {
				o := c * S
				im.BackwardCFChans(out, acc, dy[o:], x[o:], 1, S, N, S, C*S, 1, mean)
				im.BackwardApplyCFNT(dx[o:], dy[o:], x[o:], N, 1, S, C*S, p)
			}
		}},
	}
	ratios := make([][]float64, len(ops))
	for b.Loop() {
		var tc float64
		for i, op := range ops {
			t := make([]float64, 7)
			for k := range t {
				t0 := time.Now()
				op.f()
				t[k] = float64(time.Since(t0))
			}
			slices.Sort(t)
			if i == 0 {
				tc = t[3]
			}
			ratios[i] = append(ratios[i], t[3]/tc)
		}
	}
	for i, op := range ops[1:] {
		r := ratios[i+1]
		slices.Sort(r)
		b.ReportMetric(r[len(r)/2], op.name+"-xcopy")
	}
}
