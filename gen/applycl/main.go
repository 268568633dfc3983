// Command applycl generates the AVX-512 or AVX2 kernel of fallback.ApplyCL:
//
//	go run ./applycl -isa avx512|avx2 -out ... -stubs ... -pkg asm
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdbn/simdbn/gen/internal/cl"
)

func main() {
	isa := cl.Parse()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	// Rows wider than wideC channels stream one row per block, the
	// parameters reloaded every row (see cl.Elementwise). From memory
	// (102 MB, non-temporal stores, AVX-512), rows of 128 channels took
	// 1.21x copy that way and 1.02-1.05 in blocks of 8 rows; rows of 512
	// took 1.10-1.17 either way. AVX2's chunks are 16 channels, and its
	// 128-channel rows in blocks of 8 took 1.69: it keeps 64, and its NT
	// form, which serves outputs from memory, 32. In blocks of 8 rows a
	// 64-channel row is walked a line at a time, four passes over the
	// block; from memory one row per block took AVX2's Infer of
	// 32x64x56x56 channels last from 1.18-1.31x copy() to 0.89-0.90, of
	// 32x40x56x56 from 1.41-1.43 to 1.02-1.03, of 16x48x56x56 from
	// 1.04-1.16 to 0.91-0.94 (tune harness, TUNE_COLD=1, the binaries
	// alternating, two or three pairs), and in bnbench Infer of
	// 32x64x56x56 from 1.21-1.27 to 0.95-0.98 (three pairs); in cache
	// (64x64x7x7, warm) it took the plain form from 1.05-1.06 to
	// 1.29-1.32, which therefore keeps 64. The NT form's one loss: a 9.6
	// MB batch of 48 channels partly in the last-level cache (16x48x56x56,
	// the harness without TUNE_COLD, and bnbench) went from 1.02-1.28 to
	// 1.31-1.45, while 64x48x56x56 went from 1.30-1.35 to 1.04-1.20. At
	// 32 channels the NT form's blocks stayed ahead (0.93 against
	// 0.94-0.99). AVX-512's NT form walks rows of more than 96 channels
	// one row per block since the pairing of rows (the measurement above
	// is from before it): Infer of 64x128x56x56 channels last from
	// memory 0.95-1.00 -> 0.90-0.94, warm 1.02-1.05 -> 0.93-0.97, Train
	// 1.59-1.71 -> 1.55-1.62 and 1.73-1.78 -> 1.63-1.71 (three pairs
	// each); 16x128x112x112 Infer 0.95-0.98 -> 0.88-0.93 from memory,
	// 32x112x56x56 0.94-0.99 -> 0.88-0.92; at 96 channels mixed (Train
	// from memory 1.49-1.52 -> 1.57-1.59), so 96 keeps its blocks.
	w, wideC, ntWideC := 4, 128, 96
	if !isa.AVX512() {
		w, wideC, ntWideC = 2, 64, 32
	}
	isa.ElementwiseWithNT(cl.Elementwise{
		Name:    "applyCL" + isa.Suffix(),
		Sig:     "func(y, x []float32, rows, C, ld int, p []float32)",
		OutName: "y",
		NP:      4,
		W:       w,
		Rows:    8,
		WideC:   wideC,
		NTWideC: ntWideC,
		// y = ((x - hi) - lo)*a + b (product rounded first)
		Elem: func(e *cl.Elem) {
			hi, lo, a, b := e.P[0], e.P[1], e.P[2], e.P[3]
			t := e.Temp()
			e.Load(e.X, t)
			VSUBPS(hi, t, t)
			VSUBPS(lo, t, t)
			VMULPS(a, t, t)
			VADDPS(b, t, t)
			e.Store(t)
		},
	})
	Generate()
}
