// Command backwardcl generates the AVX-512 or AVX2 kernel of
// fallback.BackwardCL:
//
//	go run ./backwardcl -isa avx512|avx2 -out ... -stubs ... -pkg asm
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
		Name:  "backwardCL" + isa.Suffix(),
		Sig:   "func(acc []float64, dy, x []float32, rows, C, ld int, mean, tmp []float32)",
		CName: "mean",
		HasDy: true,
		NQ:    3,
		W:     w,
		WideC: wideC,
		// d := x - mean; g := dy; Sdy += g; P += g*d (rounded); R += d
		Row: func(r *cl.Row) {
			d, g := r.Temp(), r.Temp()
			r.Load(r.X, d)
			VSUBPS(r.C, d, d)
			r.Load(r.Dy, g)
			VADDPS(g, r.Acc[0], r.Acc[0])
			VMULPS(d, g, g)
			VADDPS(g, r.Acc[1], r.Acc[1])
			VADDPS(d, r.Acc[2], r.Acc[2])
		},
	}
	isa.Reduce(k)
	// The same kernel with prefetches, for data that comes from memory
	// (cl.Reduction.Prefetch).
	k.Name, k.Prefetch = "backwardCLPrefetch"+isa.Suffix(), true
	isa.Reduce(k)
	// The Cached form (see statscl): AVX-512 chunks of 7 zmm, the most
	// whose three accumulators, constant and four temporaries fit. A
	// temporary benchmark, 1 MB of x and of dy in 128-row calls: 46-47
	// GB/s against 32-33 at C = 1024, 49-54 against 47-49 at C = 512,
	// level at 128 and 256.
	if isa.AVX512() {
		k.Name, k.Prefetch, k.W = "backwardCLCached"+isa.Suffix(), false, 7
		isa.Reduce(k)
	} else {
		isa.Alias("backwardCLCached"+isa.Suffix(), "backwardCL"+isa.Suffix(), k.Sig)
	}
	Generate()
}
