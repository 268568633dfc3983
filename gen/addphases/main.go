// Command addphases generates the kernel of fallback.AddPhases for one
// tier: the Phases float64 lanes of a channels-last reduction added into
// per-channel totals, several channels per vector. In scalar Go this took
// up to a tenth of a row-major Train or Backward on cache-resident batches
// (pprof: 8x512x7x7 channels last, 256x1024), once per slab and quantity.
//
//	go run ./addphases -isa avx512|avx2 -out ... -stubs ... -pkg asm
//
// Each lane does fallback's additions in fallback's order, and each
// addition's first source is the one the Go compiler puts first (it only
// shows when both operands are NaNs with different payloads): p1 + p0,
// p2 + p3, their sum, and that plus t.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdbn/simdbn/gen/internal/params"
)

func main() {
	avx512 := params.ParseAVX512()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	TEXT("addPhases"+params.Suffix(avx512), NOSPLIT, "func(t, a []float64, stride int)")
	Pragma("noescape")
	Doc("addPhases"+params.Suffix(avx512)+" is the "+params.Suffix(avx512)+" form of fallback.AddPhases, with the same bits.",
		"It requires len(a) >= 3*stride + len(t) when len(t) > 0.")
	ps := params.Slices("t", "a")
	pT, pA0 := ps[0], ps[1]
	// The other three phases' bases: a + u*stride, in bytes.
	st := reg.R11
	pA1, pA2, pA3 := reg.R8, reg.R9, reg.R10
	Load(Param("stride"), st)
	SHLQ(U8(3), st)
	LEAQ(Mem{Base: pA0, Index: st, Scale: 1}, pA1)
	LEAQ(Mem{Base: pA1, Index: st, Scale: 1}, pA2)
	LEAQ(Mem{Base: pA2, Index: st, Scale: 1}, pA3)

	v := func(n int) reg.VecPhysical { return params.Vec(avx512, n) }
	tier := params.NewTier(avx512, v(0), params.Half(v(1)))
	masks := params.MaskTable(avx512, "addPhasesAVX2Masks", reg.RDX)
	p0, p1, p2, p3, t := v(2), v(3), v(4), v(5), v(6)
	tier.Loop(params.I, params.N, masks, func() {
		tier.Ld(params.At64(pA0), p0)
		tier.Ld(params.At64(pA1), p1)
		tier.Ld(params.At64(pA2), p2)
		tier.Ld(params.At64(pA3), p3)
		tier.Ld(params.At64(pT), t)
		VADDPD(p0, p1, p0) // p1 + p0
		VADDPD(p3, p2, p2) // p2 + p3
		VADDPD(p2, p0, p0) // (p0 + p1) + (p2 + p3)
		VADDPD(t, p0, p0)  // that + t
		tier.St(p0, params.At64(pT))
	})
	VZEROUPPER()
	RET()
	Generate()
}
