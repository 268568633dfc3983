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
	// 128-channel rows in blocks of 8 took 1.69: it keeps 64.
	w, wideC := 4, 128
	if !isa.AVX512() {
		w, wideC = 2, 64
	}
	isa.ElementwiseWithNT(cl.Elementwise{
		Name:    "applyCL" + isa.Suffix(),
		Sig:     "func(y, x []float32, rows, C, ld int, p []float32)",
		OutName: "y",
		NP:      4,
		W:       w,
		Rows:    8,
		WideC:   wideC,
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
