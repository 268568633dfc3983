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
	w := 4
	if !isa.AVX512() {
		w = 2
	}
	isa.ElementwiseWithNT(cl.Elementwise{
		Name:    "backwardApplyCL" + isa.Suffix(),
		Sig:     "func(dx, dy, x []float32, rows, C, ld int, p []float32)",
		OutName: "dx",
		HasDy:   true,
		NP:      5,
		W:       w,
		Rows:    8,
		WideC:   64,
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
