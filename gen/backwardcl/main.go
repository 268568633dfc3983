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
	// AVX-512: 2 zmm of channels, all 4 phases per pass. AVX2: 2 ymm
	// (one cache line) of channels, 1 phase(s) per pass, so that a pass
	// reads whole lines and no line is read twice.
	w, pg := 2, 4
	if !isa.AVX512() {
		pg = 1
	}
	isa.Reduce(cl.Reduction{
		Name:  "backwardCL" + isa.Suffix(),
		Sig:   "func(acc []float64, dy, x []float32, rows, C int, mean []float32)",
		CName: "mean",
		HasDy: true,
		NQ:    3,
		W:     w,
		PG:    pg,
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
	})
	Generate()
}
