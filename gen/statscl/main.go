// Command statscl generates the AVX-512 or AVX2 kernel of fallback.StatsCL:
//
//	go run ./statscl -isa avx512|avx2 -out ... -stubs ... -pkg asm
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdbn/simdbn/gen/internal/cl"
)

func main() {
	isa := cl.Parse()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	// Chunks of 4 zmm (AVX-512) or 2 ymm (AVX2) of channels; each chunk
	// width takes as many phases per pass as its accumulators allow (see
	// cl.layout), so that a row visit reads whole cache lines and no line
	// is read twice. Measured on 256x1024 channels last: the former 2 zmm
	// with 4 phases ran the statistics at 1.9x copy, 4 zmm with 2 phases
	// at 1.3x.
	w := 4
	if !isa.AVX512() {
		w = 2
	}
	// AVX2: above wideC channels (one chunk) the rows are walked in memory
	// order with the float32 lanes in tmp (cl.reduceWide). Measured with
	// BenchmarkCL (GB/s, chunks / wide): C=64 from memory (64 MB),
	// statistics 13.7 / 28, backward 11.5 / 32; C=512 in cache (1 MB),
	// statistics 38 / 37, backward 26 / 48. AVX-512 keeps its 64-channel
	// chunks everywhere: there the wide walk tied from memory (19-25 GB/s
	// both at C=128 and 512) and lost in cache (statistics of C=512: 77 /
	// 52-64), its loads and stores of the lanes costing more than the
	// strided walk.
	wideC := 16
	if isa.AVX512() {
		wideC = 0
	}
	k := cl.Reduction{
		Name:  "statsCL" + isa.Suffix(),
		Sig:   "func(acc []float64, x []float32, rows, C, ld int, pivot, tmp []float32)",
		CName: "pivot",
		NQ:    2,
		W:     w,
		WideC: wideC,
		// d := x - pivot; S += d; Q += d*d (product rounded first)
		Row: func(r *cl.Row) {
			d, t := r.Temp(), r.Temp()
			r.Load(r.X, d)
			VSUBPS(r.C, d, d)
			VADDPS(d, r.Acc[0], r.Acc[0])
			VMULPS(d, d, t)
			VADDPS(t, r.Acc[1], r.Acc[1])
		},
	}
	isa.Reduce(k)
	// The same kernel with prefetches, for data that comes from memory
	// (cl.Reduction.Prefetch). On AVX-512 its chunks are 2 zmm with all
	// four phases a pass: at C = 64 a 4-zmm chunk is a whole row and
	// walks a 128-row block in two passes of every other pair of rows,
	// which the hardware prefetchers follow worse than two passes over
	// the halves of every row. Tune harness, TUNE_COLD=1, the binaries
	// of 4 and 2 zmm alternating (2026-12-07): the statistics of
	// 32x64x56x56 channels last 0.68-0.75x copy() -> 0.57-0.72 (twelve
	// pairs, lower in all), 64x128x56x56 0.62-0.74 -> 0.63-0.70 (nine
	// pairs, lower in eight); Train 1.51-1.63 -> 1.34-1.66 (lower in ten)
	// and 1.63-1.83 -> 1.59-1.78 (in seven). At C = 256, 512 and 2048
	// (32x256x28x28, 64x512x14x14, 32x2048x7x7, three pairs each) level.
	// Backward's Prefetch kernel with 2-zmm chunks was level too (four
	// pairs each shape), and keeps 4.
	k.Name, k.Prefetch = "statsCLPrefetch"+isa.Suffix(), true
	if isa.AVX512() {
		k.W = 2
	}
	isa.Reduce(k)
	k.W = w
	// The Cached form, for batches in cache (package reduce: below
	// cachedCLBytes): AVX-512 chunks of 8 zmm (128 channels, 8 lines of a
	// row), one phase per pass. A row visit reads as many lines as the
	// chunk holds, and when rows are a multiple of 4 KB apart all the
	// rows' lines of a chunk fall in those few sets of the L1 cache. A
	// temporary benchmark, 1 MB of x in 128-row calls: at C = 1024 the
	// plain kernel took 18.3 us with rows 4096 bytes apart and 12.0 with
	// rows 4160 bytes apart; 8-vector chunks took 10.8 and 10.5. In cache
	// they were ahead at every C from 128 to 1024 and 1 to 6 MB in a
	// steady loop (65-100 GB/s against 43-87); from memory (64 MB) they
	// lost (17 GB/s against 19-26 at C = 128 to 1024), as the
	// prefetchers follow the plain chunks' two phases per pass better.
	// AVX2 has no wider chunk that pays (3 ymm, one phase per pass: 20-39
	// GB/s against 31-38 for its wide walk, 1 and 6 MB, C = 128 to 1024),
	// so its Cached form is its plain kernel.
	if isa.AVX512() {
		k.Name, k.Prefetch, k.W = "statsCLCached"+isa.Suffix(), false, 8
		isa.Reduce(k)
	} else {
		isa.Alias("statsCLCached"+isa.Suffix(), "statsCL"+isa.Suffix(), k.Sig)
	}
	Generate()
}
