// Command backwardapplycl generates the AVX-512 or AVX2 kernel of
// fallback.BackwardApplyCL:
//
//	go run ./backwardapplycl -isa avx512|avx2 -out ... -stubs ... -pkg asm
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdbn/simdbn/gen/internal/cl"
)

func main() {
	isa := cl.Parse()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	// Rows wider than wideC channels stream one row per block (see
	// cl.Elementwise). AVX2's chunks are 16 channels, so at 64 channels a
	// block of 8 rows walked 64 bytes of each row at a time; one row per
	// block from 33 channels up took bnbench backward 32x64x56x56 channels
	// last from 4.0-5.9x copy to 3.3-4.4 (other shapes within noise), and
	// its apply from memory from 14 to 30 GB/s. The same for the training
	// apply made inference slower (32x64x56x56: 1.02-1.16 -> 1.21-1.28).
	//
	// AVX-512 rows of 65 to 256 channels could keep their parameters in
	// registers in blocks of 8 rows. A temporary kernel that did
	// (2026-12-07; x, dy and dx of rows x C, medians of 400 calls
	// alternating with this one in one process, four runs) took 0.88-0.94x
	// the time of the one-row walk on 6272x256 (19.3 MB, partly from
	// memory) and 0.88-0.89 on 12544x128, but 1.03-1.15 on 392 to 3136
	// rows of 256 channels (1.2 to 9.6 MB, in cache) and 0.96-1.06 on 128
	// and 192 channels in cache; bnbench Backward of 8x256x28x28 channels
	// last, four alternating pairs, 3.09-3.72x copy() -> 2.88-3.37. A gain
	// only where the inputs partly come from memory, a loss in cache: not
	// kept.
	w, wideC := 4, 64
	if !isa.AVX512() {
		w, wideC = 2, 32
	}
	isa.ElementwiseWithNT(cl.Elementwise{
		Name:    "backwardApplyCL" + isa.Suffix(),
		Sig:     "func(dx, dy, x []float32, rows, C, ld int, p []float32)",
		OutName: "dx",
		HasDy:   true,
		NP:      5,
		W:       w,
		Rows:    8,
		WideC:   wideC,
		// t = ((x - hi) - lo)*k3 (rounded); dx = (dy*k1 - k2) - t
		Elem: func(e *cl.Elem) {
			hi, lo, k2, k3, k1 := e.P[0], e.P[1], e.P[2], e.P[3], e.P[4]
			t, u := e.Temp(), e.Temp()
			e.Load(e.X, t)
			VSUBPS(hi, t, t)
			VSUBPS(lo, t, t)
			VMULPS(k3, t, t)
			e.Load(e.Dy, u)
			VMULPS(k1, u, u)
			VSUBPS(k2, u, u)
			VSUBPS(t, u, u)
			e.Store(u)
		},
	})
	Generate()
}
