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
	w := 4
	if !isa.AVX512() {
		w = 2
	}
	isa.ElementwiseWithNT(cl.Elementwise{
		Name:    "applyCL" + isa.Suffix(),
		Sig:     "func(y, x []float32, rows, C, ld int, p []float32)",
		OutName: "y",
		NP:      4,
		W:       w,
		Rows:    8,
		WideC:   64,
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
