// Command inferscale generates the kernel of fallback.InferScale for one
// tier: each channel's inference scale gamma/sqrt(variance + eps), in
// float64 as fallback computes it, D channels per vector. In scalar Go its
// square root and division took about a tenth of an Infer on
// cache-resident batches (1.9 us of about 20 on 8x512x7x7, 3.6 of about
// 31 on 256x1024; temporary benchmark).
//
//	go run ./inferscale -isa avx512|avx2 -out ... -stubs ... -pkg asm
//
// Square root, division and multiplication are correctly rounded in SIMD
// as in scalar code, so each lane gives fallback's bits; with both
// operands of the product NaN, the payload is gamma's, as in Go's code.
package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdbn/simdbn/gen/internal/params"
)

func main() {
	avx512 := params.ParseAVX512()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	name := "inferScale" + params.Suffix(avx512)
	TEXT(name, NOSPLIT, "func(a, gamma, variance []float32, eps float64)")
	Pragma("noescape")
	Doc(name+" is the "+params.Suffix(avx512)+" form of fallback.InferScale, with the same bits.",
		"It requires len(gamma) and len(variance) >= len(a).")
	ps := params.Slices("a", "gamma", "variance")
	pA, pGamma, pVar := ps[0], ps[1], ps[2]

	v := func(n int) reg.VecPhysical { return params.Vec(avx512, n) }
	cEps, cOne, cZero := v(0), v(1), v(2)
	tier := params.NewTier(avx512, v(3), params.Half(v(4)))
	VBROADCASTSD(params.Addr("eps"), cEps)
	params.Bcast(U64(math.Float64bits(1)), cOne, reg.X8, reg.RDX)
	VXORPD(cZero, cZero, cZero)
	masks := params.MaskTable(avx512, name+"Masks", reg.RDX)
	d, inv, g := v(5), v(6), v(7)
	var nz reg.Register = reg.K2
	if !avx512 {
		nz = v(8)
	}
	tier.Loop(params.I, params.N, masks, func() {
		Comment("d = float64(variance) + eps; inv = 1/sqrt(d), 0 where d == 0")
		tier.Ldf(params.At32(pVar), d)
		VADDPD(cEps, d, d)
		VSQRTPD(d, inv)
		VDIVPD(inv, cOne, inv)
		VCMPPD(U8(params.NEQ), cZero, d, nz)
		if avx512 {
			VMOVAPD_Z(inv, nz, inv)
		} else {
			VANDPD(nz, inv, inv)
		}
		Comment("a = float32(float64(gamma) * inv)")
		tier.Ldf(params.At32(pGamma), g)
		VMULPD(inv, g, g)
		tier.Narrow(g, g)
		tier.Stf(g, params.At32(pA))
	})
	VZEROUPPER()
	RET()
	Generate()
}
