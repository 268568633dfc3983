package asm_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

type cfKernels struct {
	name            string
	StatsCF         func(acc []float64, x []float32, nruns, runLen, stride, group int, pivot float32)
	BackwardCF      func(acc []float64, dy, x []float32, nruns, runLen, stride, group int, mean float32)
	ApplyCF         func(y, x []float32, n, c, s, stride int, p []float32)
	BackwardApplyCF func(dx, dy, x []float32, n, c, s, stride int, p []float32)
	StatsApplyCF    func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32)
}

func benchKernels(b *testing.B) []cfKernels {
	ks := []cfKernels{{"fallback", fallback.StatsCF, fallback.BackwardCF, fallback.ApplyCF, fallback.BackwardApplyCF, fallback.StatsApplyCF}}
	for _, im := range asm.Impls() {
		if im.Available && im.StatsCF != nil {
			ks = append(ks, cfKernels{im.Name, im.StatsCF, im.BackwardCF, im.ApplyCF, im.BackwardApplyCF, im.StatsApplyCFNT})
		}
	}
	return ks
}

// BenchmarkCF reports bytes read plus bytes written per second, for a
// 1 MB and a 64 MB x (runs of 3136 = 56*56 values, and of 196 = 14*14).
// StatsApplyCF reads x twice (the statistics of run i and the
// normalization of run i-1 in one call, as the training pipeline pairs
// them) and writes y, with non-temporal stores in the SIMD forms.
func BenchmarkCF(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, mb := range []int{1, 64} {
		for _, runLen := range []int{3136, 196} {
			nruns := mb << 20 / 4 / runLen
			n := nruns * runLen
			x, dy, y := make([]float32, n), make([]float32, n), make([]float32, n)
			fill(rng, x, 3, false)
			fill(rng, dy, 0, false)
			fill(rng, y, 0, false) // fault the pages in before timing
			p := make([]float32, nruns*fallback.ParamStrideCF)
			for i := range p {
				p[i] = 0.5
			}
			group := max(1, fallback.FlushCF/runLen)
			acc := make([]float64, 3*fallback.Lanes)
			for _, k := range benchKernels(b) {
				shape := fmt.Sprintf("size=%dMB/run=%d/impl=%s", mb, runLen, k.name)
				b.Run("kernel=StatsCF/"+shape, func(b *testing.B) {
					b.SetBytes(int64(4 * n))
					for b.Loop() {
						k.StatsCF(acc, x, nruns, runLen, runLen, group, 3)
					}
				})
				b.Run("kernel=BackwardCF/"+shape, func(b *testing.B) {
					b.SetBytes(int64(8 * n))
					for b.Loop() {
						k.BackwardCF(acc, dy, x, nruns, runLen, runLen, group, 3)
					}
				})
				b.Run("kernel=ApplyCF/"+shape, func(b *testing.B) {
					b.SetBytes(int64(8 * n))
					for b.Loop() {
						k.ApplyCF(y, x, 1, nruns, runLen, n, p)
					}
				})
				b.Run("kernel=StatsApplyCF/"+shape, func(b *testing.B) {
					if runLen*4%64 != 0 {
						b.Skip("non-temporal stores need runs of whole 64-byte lines")
					}
					b.SetBytes(int64(12 * n))
					for b.Loop() {
						k.StatsApplyCF(acc, x[:runLen], 3, y[:runLen], x[:runLen], p)
						for r := 1; r < nruns; r++ {
							k.StatsApplyCF(acc, x[r*runLen:(r+1)*runLen], 3, y[(r-1)*runLen:r*runLen], x[(r-1)*runLen:r*runLen], p)
						}
					}
				})
				b.Run("kernel=BackwardApplyCF/"+shape, func(b *testing.B) {
					b.SetBytes(int64(12 * n))
					for b.Loop() {
						k.BackwardApplyCF(y, dy, x, 1, nruns, runLen, n, p)
					}
				})
			}
		}
	}
}

// BenchmarkFusedPattern times, on the fastest tier, the access pattern of a
// pipelined training pass over a 32x64x56x56 tensor (groups of 10
// channels; each channel run of group g normalized while a run of group
// g+1 is summed), with every op started from memory and interleaved, and
// reports the median ms of each over the b.N rounds:
//
//	copy          copy() of the tensor
//	stats         StatsCF over every run
//	apply         ApplyCFNT over every run
//	pairs         the pipeline's pairs as two calls, StatsCF then ApplyCFNT
//	fused         the same pairs in one StatsApplyCFNT call
//	fusedhot      fused, each normalization reading one run-sized buffer
//	              that stays in L1 instead of the group before: the
//	              same traffic to memory (x read once, y written once)
//	              with the re-read made free, the bound of this schedule
//
//	go test -run '^$' -bench FusedPattern -benchtime 25x ./asm/
func BenchmarkFusedPattern(b *testing.B) {
	im := fastestTier(b)
	const N, C, S, G = 32, 64, 3136, 10
	stride, n := C*S, N*C*S
	x, y, cold := make([]float32, n), alignedF32(n), coldBuffer()
	fill(rand.New(rand.NewPCG(9, 10)), x, 3, false)
	clear(y)
	p := make([]float32, fallback.ParamStrideCF)
	acc := make([]float64, 2*fallback.Lanes)
	hot := make([]float32, S)
	copy(hot, x)
	pairs := func(fused, useHot bool) {
		for g := 0; g < C+G; g += G { // the last step normalizes the last group
			for r := range N {
				for j := range G {
					ca, cb := g+j-G, g+j // normalized, summed
					oa, ob := r*stride+ca*S, r*stride+cb*S
					switch {
					case ca >= 0 && cb < C && fused && useHot:
						im.StatsApplyCFNT(acc, x[ob:ob+S], 3, y[oa:oa+S], hot, p)
					case ca >= 0 && cb < C && fused:
						im.StatsApplyCFNT(acc, x[ob:ob+S], 3, y[oa:oa+S], x[oa:oa+S], p)
					case cb < C:
						im.StatsCF(acc, x[ob:ob+S], 1, S, S, 1, 3)
						if ca >= 0 {
							im.ApplyCFNT(y[oa:oa+S], x[oa:oa+S], 1, 1, S, S, p)
						}
					case ca >= 0 && ca < C:
						im.ApplyCFNT(y[oa:oa+S], x[oa:oa+S], 1, 1, S, S, p)
					}
				}
			}
		}
	}
	ops := []coldOp{
		{"copy", func() { copy(y, x) }},
		{"stats", func() {
			for i := 0; i < n; i += S {
				im.StatsCF(acc, x[i:i+S], 1, S, S, 1, 3)
			}
		}},
		{"apply", func() {
			for i := 0; i < n; i += S {
				im.ApplyCFNT(y[i:i+S], x[i:i+S], 1, 1, S, S, p)
			}
		}},
		{"pairs", func() { pairs(false, false) }},
		{"fused", func() { pairs(true, false) }},
		{"fusedhot", func() { pairs(true, true) }},
	}
	timeColdOps(b, cold, ops)
}

// BenchmarkBackwardPattern times, on the fastest tier, the memory traffic
// of a channels-first Backward of 32x64x56x56 in the schedules it could
// take, every op started from memory and interleaved, and reports the
// median ms of each over the b.N rounds:
//
//	copy       copy() of x into dx
//	sums       BackwardCF over x and dy in address order (the reductions
//	           alone: two tensors read)
//	apply      BackwardApplyCFNT over the whole tensor (x and dy read, dx
//	           written: Backward's traffic from memory, in one loop)
//	applypair  the same by BackwardApplyCFNTPair, the two halves of the
//	           tensor in lockstep (two sets of streams)
//	twopass    sums, then apply (every byte of x and dy read twice)
//	pipeline   the pipelined schedule of package reduce: groups of 2
//	           channels; per sample, the apply of the group before and
//	           then the sums of the next group's runs, so that the apply
//	           re-reads its group from cache
//	pipehot    pipeline, each apply reading x and dy from one group-sized
//	           buffer that stays in L1 and L2 instead of the group before:
//	           the same traffic to memory (x and dy read once, dx written
//	           once) with the re-read made free, the bound of this
//	           schedule
//
//	go test -run '^$' -bench BackwardPattern -benchtime 15x ./asm/
func BenchmarkBackwardPattern(b *testing.B) {
	im := fastestTier(b)
	const N, C, S, G = 32, 64, 3136, 2
	stride, n := C*S, N*C*S
	x, dy, dx, cold := make([]float32, n), make([]float32, n), alignedF32(n), coldBuffer()
	rng := rand.New(rand.NewPCG(11, 12))
	fill(rng, x, 3, false)
	fill(rng, dy, 0, false)
	clear(dx)
	p := make([]float32, fallback.ParamStrideCF)
	acc := make([]float64, 3*fallback.Lanes)
	sums := func(off int) { im.BackwardCF(acc, dy[off:off+S], x[off:off+S], 1, S, S, 1, 3) }
	hotX, hotDy := make([]float32, G*S), make([]float32, G*S)
	copy(hotX, x)
	copy(hotDy, dy)
	pipeline := func(useHot bool) {
		for g := 0; g < C+G; g += G {
			for r := range N {
				if g >= G {
					o := r*stride + (g-G)*S
					ax, ady := x[o:o+G*S], dy[o:o+G*S]
					if useHot {
						ax, ady = hotX, hotDy
					}
					im.BackwardApplyCFNT(dx[o:o+G*S], ady, ax, 1, 1, G*S, G*S, p)
				}
				for j := 0; j < G && g < C; j++ {
					sums(r*stride + (g+j)*S)
				}
			}
		}
	}
	ops := []coldOp{
		{"copy", func() { copy(dx, x) }},
		{"sums", func() { im.BackwardCF(acc, dy, x, n/S, S, S, 1, 3) }},
		{"apply", func() { im.BackwardApplyCFNT(dx, dy, x, 1, 1, n, n, p) }},
		{"applypair", func() { im.BackwardApplyCFNTPair(dx, dy, x, 1, 1, n/2, n/2, n/2, p) }},
		{"twopass", func() {
			im.BackwardCF(acc, dy, x, n/S, S, S, 1, 3)
			im.BackwardApplyCFNT(dx, dy, x, 1, 1, n, n, p)
		}},
		{"pipeline", func() { pipeline(false) }},
		{"pipehot", func() { pipeline(true) }},
	}
	timeColdOps(b, cold, ops)
}

// fastestTier returns the first assembly tier this CPU runs, or skips the
// benchmark.
func fastestTier(b *testing.B) asm.Impl {
	for _, t := range asm.Impls() {
		if t.Available {
			return t
		}
	}
	b.Skip("no assembly tier available")
	return asm.Impl{}
}

// coldBuffer returns the buffer timeColdOps copies within to evict the
// caches: each half is twice the last-level cache as CPUID reports it, and
// at least 64 MB. (A copy of 128 MB left part of a tensor in the 260 MB cache
// of an Intel Xeon VM.)
func coldBuffer() []float32 { return make([]float32, 2*max(64<<20, 2*cpuid.CPU.Cache.L3)/4) }

// coldOp is one op of a pattern benchmark.
type coldOp struct {
	name string
	f    func()
}

// timeColdOps runs every op once per round of b.Loop, each after evicting
// the caches (a copy within cold, larger than the last-level cache), and
// reports the median ms of each.
func timeColdOps(b *testing.B, cold []float32, ops []coldOp) {
	ms := make([][]float64, len(ops))
	for b.Loop() {
		for i, op := range ops {
			copy(cold[len(cold)/2:], cold[:len(cold)/2])
			t0 := time.Now()
			op.f()
			ms[i] = append(ms[i], float64(time.Since(t0).Microseconds())/1e3)
		}
	}
	for i, op := range ops {
		slices.Sort(ms[i])
		b.ReportMetric(ms[i][len(ms[i])/2], op.name+"-ms")
	}
}

// BenchmarkShortRunsHot bounds what the channels-first kernels can do on
// runs of 49 values (8x512x7x7) when no byte has to come from further
// than L1: the kernel calls of a Train and a Backward over eight channels
// of every sample (8x8x49 values, 37 KB with the output), repeated on
// those same channels, scaled to the 512 channels, against copy() of the
// whole 802 KB tensor (in cache, as bnbench runs it). The calls are the
// engine's: StatsCFChans and BackwardCFChans over the eight channels' runs
// (flush groups of FlushCF/49 runs), ApplyCF and BackwardApplyCF over
// the same block. Each op reports its median time as a ratio to copy()'s
// median ("-xcopy"); train-l1 and backward-l1 add the two passes:
//
//	go test -run '^$' -bench ShortRunsHot -benchtime 2000x ./asm/
func BenchmarkShortRunsHot(b *testing.B) {
	im := fastestTier(b)
	const N, C, S, G = 8, 512, 49, 8
	stride, n := C*S, N*C*S
	x, dy, y := make([]float32, n), make([]float32, n), make([]float32, n)
	rng := rand.New(rand.NewPCG(13, 14))
	fill(rng, x, 3, false)
	fill(rng, dy, 0, false)
	clear(y)
	p, piv, out, acc, group := chansArgs(G, S)
	// Every kernel op runs C/G times on the same G channels: a whole
	// tensor's worth of calls, with the data in L1.
	whole := func(f func()) func() {
		return func() {
			for range C / G {
				f()
			}
		}
	}
	ops := []coldOp{
		{"copy", func() { copy(y, x) }},
		{"stats-l1", whole(func() { im.StatsCFChans(out, acc, x, G, S, N, S, stride, group, piv) })},
		{"apply-l1", whole(func() { im.ApplyCF(y, x, N, G, S, stride, p) })},
		{"sums-l1", whole(func() { im.BackwardCFChans(out, acc, dy, x, G, S, N, S, stride, group, piv) })},
		{"bapply-l1", whole(func() { im.BackwardApplyCF(y, dy, x, N, G, S, stride, p) })},
	}
	ns := make([][]float64, len(ops))
	for b.Loop() {
		for i, op := range ops {
			t0 := time.Now()
			op.f()
			ns[i] = append(ns[i], float64(time.Since(t0).Nanoseconds()))
		}
	}
	med := make([]float64, len(ops))
	for i := range ops {
		slices.Sort(ns[i])
		med[i] = ns[i][len(ns[i])/2]
	}
	for i, op := range ops[1:] {
		b.ReportMetric(med[i+1]/med[0], op.name+"-xcopy")
	}
	b.ReportMetric((med[1]+med[2])/med[0], "train-l1-xcopy")
	b.ReportMetric((med[3]+med[4])/med[0], "backward-l1-xcopy")
	b.ReportMetric(med[0]/1e3, "copy-us")
}

// BenchmarkRunsInL1 times the channels-first kernels alone on data that
// stays in L1 (8 channels of 8 samples, C*S values apart, as in a batch
// of 512 channels), per run and per 16 values, for short run lengths: what
// the arithmetic itself costs, with no byte from further than L1. The
// statistics take four floating-point operations per vector (x - p,
// S += d, d*d, Q += d*d), Backward's sums five and its apply six, each
// rounded as package fallback rounds it (no fused multiply-add):
//
//	go test -run '^$' -bench RunsInL1 ./asm/
func BenchmarkRunsInL1(b *testing.B) {
	const N, C, G = 8, 512, 8
	for _, S := range []int{16, 48, 49, 64} {
		stride, n := C*S, N*C*S
		// dy and y start 1 and 2 KB into their pages: Go gives each of
		// the three a page of its own, and on runs of 16 or 64 values,
		// whose samples lie a multiple of 4 KB apart, the eight samples of
		// x and of dy would share the same L1 sets, more lines than a set
		// holds.
		x, dy, y := make([]float32, n), make([]float32, n+256)[256:], make([]float32, n+512)[512:]
		rng := rand.New(rand.NewPCG(13, 14))
		fill(rng, x, 3, false)
		fill(rng, dy, 0, false)
		p, piv, out, acc, group := chansArgs(G, S)
		for _, im := range asm.Impls() {
			if !im.Available || im.StatsCFChans == nil {
				continue
			}
			kernels := []struct {
				name string
				f    func()
			}{
				{"stats", func() { im.StatsCFChans(out, acc, x, G, S, N, S, stride, group, piv) }},
				{"apply", func() { im.ApplyCF(y, x, N, G, S, stride, p) }},
				{"sums", func() { im.BackwardCFChans(out, acc, dy, x, G, S, N, S, stride, group, piv) }},
				{"bapply", func() { im.BackwardApplyCF(y, dy, x, N, G, S, stride, p) }},
			}
			for _, k := range kernels {
				b.Run(fmt.Sprintf("kernel=%s/run=%d/impl=%s", k.name, S, im.Name), func(b *testing.B) {
					for b.Loop() {
						k.f()
					}
					ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					b.ReportMetric(ns/(N*G), "ns/run")
					b.ReportMetric(ns/(N*G*float64(S)/16), "ns/16values")
				})
			}
		}
	}
}

// BenchmarkShortRunsOutput shows what the normalization of runs of 49
// values (8x512x7x7, one ApplyCF call over the batch, ordinary stores)
// waits for when the batch is not in L1: each round first copies 8 MB
// between two other buffers, which leaves x and y in the last-level cache
// only, then reads x (into L2), and, for y-l2, y too; then it times the
// call. y-llc is the call whose y lines come from the last-level cache:
// an ordinary store fetches its line before it writes it. Medians in
// microseconds:
//
//	go test -run '^$' -bench ShortRunsOutput -benchtime 2000x ./asm/
func BenchmarkShortRunsOutput(b *testing.B) {
	im := fastestTier(b)
	const N, C, S = 8, 512, 49
	stride, n := C*S, N*C*S
	x, y := make([]float32, n), make([]float32, n)
	rng := rand.New(rand.NewPCG(15, 16))
	fill(rng, x, 3, false)
	clear(y)
	p, _, _, _, _ := chansArgs(C, S)
	src, dst := make([]float32, 1<<20), make([]float32, 1<<20)
	var sink float32
	read := func(v []float32) {
		var t float32
		for i := 0; i < len(v); i += 16 {
			t += v[i]
		}
		sink += t
	}
	cases := []struct {
		name  string
		yInL2 bool
	}{{"y-llc", false}, {"y-l2", true}}
	us := make([][]float64, len(cases))
	for b.Loop() {
		for i, c := range cases {
			copy(dst, src)
			read(x)
			if c.yInL2 {
				read(y)
			}
			t0 := time.Now()
			im.ApplyCF(y, x, N, C, S, stride, p)
			us[i] = append(us[i], float64(time.Since(t0).Nanoseconds())/1e3)
		}
	}
	for i, c := range cases {
		slices.Sort(us[i])
		b.ReportMetric(us[i][len(us[i])/2], c.name+"-us")
	}
	if sink == 1 {
		b.Log(sink)
	}
}

// chansArgs returns the other arguments of the channels-first kernels on
// g channels of runs of s values: every parameter 0.5 (ApplyCF,
// BackwardApplyCF), pivots of 0, and the Chans kernels' out, lanes and
// flush group.
func chansArgs(g, s int) (p, piv []float32, out, acc []float64, group int) {
	p = make([]float32, g*fallback.ParamStrideCF)
	for i := range p {
		p[i] = 0.5
	}
	return p, make([]float32, g), make([]float64, 3*g), make([]float64, 3*fallback.Lanes), fallback.FlushCF / s
}
