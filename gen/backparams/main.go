// Command backparams generates the kernel of fallback.BackParamsRows for
// one tier: the per-channel float64 work of a row-major Backward (dgamma
// and the constants of the apply kernel), several channels per vector. On
// 256x1024 this work, four divisions per channel, took about a tenth of a
// backward call in scalar Go.
//
//	go run ./backparams -isa avx512|avx2 -out ... -stubs ... -pkg asm
//
// As in trainparams, every operation is correctly rounded in both the
// vector instructions and Go, lane by lane, and the last n % D channels run
// as one masked vector.
package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdbn/simdbn/gen/internal/params"
)

// Mirrors of fallback.ExtremeMean, MaxInvStd and MinInvStd.
const (
	extremeMean = 0x1p120
	maxInvStd   = 0x1p50
	minInvStd   = 0x1p-120
)

const sig = "func(sdy, dot, res, dgamma []float64, invstd, gamma, lo, k2, k3, k1 []float32, m float64) bool"

// CX is Tier.Loop's and the scratch of the constants; DX the AVX2 tail's.
var rT, rScr = reg.RCX, reg.RDX

func main() {
	avx512 := params.ParseAVX512()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	TEXT("backParamsRows"+params.Suffix(avx512), NOSPLIT, sig)
	Pragma("noescape")
	ps := params.Slices("sdy", "dot", "res", "dgamma", "invstd", "gamma", "lo", "k2", "k3", "k1")
	pSdy, pDot, pRes, pDg, pInv, pGamma, pLo, pK2, pK3, pK1 := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5], ps[6], ps[7], ps[8], ps[9]

	// Vector registers: the constants, the accumulator of passing lanes
	// and (AVX2) the tail masks, then the values.
	v := func(n int) reg.VecPhysical { return params.Vec(avx512, n) }
	cM, cExt, cMax, cMin, cAbs, cZero := v(0), v(1), v(2), v(3), v(4), v(5)
	tier := params.NewTier(avx512, v(7), params.Half(v(8)))
	VBROADCASTSD(params.Addr("m"), cM)
	params.Bcast(U64(math.Float64bits(extremeMean)), cExt, reg.X9, rT)
	params.Bcast(U64(math.Float64bits(maxInvStd)), cMax, reg.X9, rT)
	params.Bcast(U64(math.Float64bits(minInvStd)), cMin, reg.X9, rT)
	params.Bcast(U64(1<<63-1), cAbs, reg.X9, rT)
	VXORPD(cZero, cZero, cZero)
	masks := params.MaskTable(avx512, "backParamsRowsAVX2Masks", rScr)

	// Masks: k registers (AVX-512), or vectors of all-ones lanes (AVX2,
	// which computes them in value registers whose values are dead).
	s, dot, res, inv, r, dp, u := v(9), v(10), v(11), v(12), v(13), v(14), v(15)
	var ok, mF, m2 reg.Register
	if avx512 {
		s, dot, res, inv, r, dp, u = v(16), v(17), v(18), v(19), v(20), v(21), v(22)
		ok, mF, m2 = reg.K2, reg.K3, reg.K4
		KXNORW(ok, ok, ok)
	} else {
		ok, mF, m2 = v(6), u, dot
		VCMPPD(U8(params.EQ), cZero, cZero, v(6)) // all ones
	}
	w, k := dot, res                 // dot and res are dead once the check has read them
	and := func(b, a reg.Register) { // a &= b
		if avx512 {
			KANDW(b, a, a)
		} else {
			VANDPD(b, a, a)
		}
	}
	cmpAnd := func(pred int, b Op, a reg.Register) { // mF &= a pred b
		VCMPPD(U8(pred), b, a, m2)
		and(m2, mF)
	}

	tier.Loop(params.I, params.N, masks, func() {
		tier.Ld(params.At64(pSdy), s)
		tier.Ld(params.At64(pDot), dot)
		tier.Ld(params.At64(pRes), res)
		tier.Ldf(params.At32(pInv), inv)
		Comment("r = res/m; dotp = dot - r*sdy, or dot where sdy is not finite")
		VDIVPD(cM, res, r)
		VMULPD(s, r, u)
		VSUBPD(u, dot, dp)
		VSUBPD(s, s, u)
		VCMPPD(U8(params.EQ), cZero, u, mF)
		if avx512 {
			KNOTW(mF, m2)
			VMOVAPD(dot, m2, dp)
		} else {
			VBLENDVPD(mF, dp, dot, dp) // dp where sdy is finite, else dot
		}
		Comment("ok: sdy, dot, res finite, |sdy/m| < 2^120, 2^-120 <= inv <= 2^50")
		VSUBPD(dot, dot, w)
		cmpAnd(params.EQ, cZero, w)
		VSUBPD(res, res, w)
		cmpAnd(params.EQ, cZero, w)
		VDIVPD(cM, s, w)
		if avx512 {
			VPANDQ(cAbs, w, w)
		} else {
			VANDPD(cAbs, w, w)
		}
		cmpAnd(params.LT, cExt, w)
		cmpAnd(params.LE, cMax, inv)
		cmpAnd(params.GE, cMin, inv)
		if tier.Masked { // lanes off the tail pass
			if avx512 {
				KNOTW(tier.KTail, m2)
				KORW(m2, mF, mF)
			} else {
				VCMPPD(U8(params.EQ), cZero, tier.MaskD, m2) // a mask lane is a NaN
				VORPD(m2, mF, mF)
			}
		}
		and(mF, ok)
		Comment("dgamma = dotp*inv; k = gamma*inv; lo, k2, k3, k1")
		VMULPD(inv, dp, u)
		tier.St(u, params.At64(pDg))
		tier.Ldf(params.At32(pGamma), k)
		VMULPD(inv, k, k)
		tier.Narrow(r, r)
		tier.Stf(r, params.At32(pLo))
		VMULPD(s, k, u)
		VDIVPD(cM, u, u)
		tier.Narrow(u, u)
		tier.Stf(u, params.At32(pK2))
		VMULPD(dp, k, u)
		VMULPD(inv, u, u)
		VMULPD(inv, u, u)
		VDIVPD(cM, u, u)
		tier.Narrow(u, u)
		tier.Stf(u, params.At32(pK3))
		tier.Narrow(k, k)
		tier.Stf(k, params.At32(pK1))
	})
	if avx512 {
		KMOVW(ok, reg.EDX)
		ANDL(U32(0xff), reg.EDX)
		CMPL(reg.EDX, U32(0xff))
	} else {
		VMOVMSKPD(ok.(reg.VecPhysical), reg.EDX)
		CMPL(reg.EDX, U32(0xf))
	}
	SETEQ(reg.AL)
	Store(reg.AL, ReturnIndex(0))
	VZEROUPPER()
	RET()
	Generate()
}
