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
	// AVX-512: 2 zmm of channels, all 4 phases per pass. AVX2: 2 ymm
	// (one cache line) of channels, 2 phase(s) per pass, so that a pass
	// reads whole lines and no line is read twice.
	w, pg := 2, 4
	if !isa.AVX512() {
		pg = 2
	}
	isa.Reduce(cl.Reduction{
		Name:  "statsCL" + isa.Suffix(),
		Sig:   "func(acc []float64, x []float32, rows, C int, pivot []float32)",
		CName: "pivot",
		NQ:    2,
		W:     w,
		PG:    pg,
		// d := x - pivot; S += d; Q += d*d (product rounded first)
		Row: func(r *cl.Row) {
			d, t := r.Temp(), r.Temp()
			r.Load(r.X, d)
			VSUBPS(r.C, d, d)
			VADDPS(d, r.Acc[0], r.Acc[0])
			VMULPS(d, d, t)
			VADDPS(t, r.Acc[1], r.Acc[1])
		},
	})
	Generate()
}
