// Command trainparams generates the kernel of fallback.TrainParamsRows for
// one tier: the per-channel float64 work of a row-major Train (mean,
// variance, invstd and the normalize parameters), several channels per
// vector. With many channels on few rows (256x1024) this work, three
// divisions and a square root per channel, cost about a fifth of a
// training call in scalar Go.
//
//	go run ./trainparams -isa avx512|avx2 -out ... -stubs ... -pkg asm
//
// Division, square root, addition, subtraction, multiplication and the
// conversions between float64 and float32 are correctly rounded in both the
// vector instructions and Go, so each lane gives the bits of the Go loop.
// The last n % D channels (D doubles per vector) run as one masked vector:
// AVX-512 k-masks, AVX2 VMASKMOVPD and VMASKMOVPS; no byte outside the
// slices is read or written, and the check of masked-off lanes is dropped.
package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdbn/simdbn/gen/internal/params"
)

// Mirrors of fallback.RedoRatio and fallback.TinyVar (gen does not import
// the root module).
const (
	redoRatio = 8
	tinyVar   = 0x1p-100
)

const sig = "func(sum, sq, inv []float64, piv, gamma, beta, hi, lo, a, b []float32, m, eps float64, tiny bool) bool"

// CX is Tier.Loop's and the scratch of the constants; DX holds the tiny
// bound's bits, then (AVX2) the constants' table.
var rT, rBits = reg.RCX, reg.RDX

func main() {
	avx512 := params.ParseAVX512()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	TEXT("trainParamsRows"+params.Suffix(avx512), NOSPLIT, sig)
	Pragma("noescape")
	ps := params.Slices("sum", "sq", "inv", "piv", "gamma", "beta", "hi", "lo", "a", "b")
	pSum, pSq, pInv, pPiv, pGamma, pBeta, pHi, pLo, pA, pB := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5], ps[6], ps[7], ps[8], ps[9]
	Comment("DX = the bits of the tiny bound, or 0 (v < 0 never holds)")
	Load(Param("tiny"), rT)
	MOVQ(U64(math.Float64bits(tinyVar)), rBits)
	NEGQ(rT)
	ANDQ(rT, rBits)

	// Vector registers: the constants, the slow-lane accumulator and (AVX2)
	// the tail masks, then the values.
	v := func(n int) reg.VecPhysical { return params.Vec(avx512, n) }
	cM, cEps, cOne, cLim, cZero := v(0), v(1), v(2), v(3), v(4)
	tier := params.NewTier(avx512, v(6), params.Half(v(7)))
	VBROADCASTSD(params.Addr("m"), cM)
	VBROADCASTSD(params.Addr("eps"), cEps)
	params.Bcast(U64(math.Float64bits(1)), cOne, reg.X8, rT)
	params.Bcast(rBits, cLim, reg.X8, rT)
	// The ratio, +Inf and the abs mask: registers (AVX-512), or a table
	// (AVX2, short of registers) that also holds the tail masks.
	var cRatio, cInf, cAbs Op
	var masks func() Mem
	if avx512 {
		params.Bcast(U64(math.Float64bits(redoRatio)), v(6), reg.X8, rT)
		params.Bcast(U64(math.Float64bits(math.Inf(1))), v(7), reg.X8, rT)
		params.Bcast(U64(1<<63-1), v(8), reg.X8, rT)
		cRatio, cInf, cAbs = v(6), v(7), v(8)
	} else {
		tbl := GLOBL("trainParamsRowsAVX2Consts", RODATA|NOPTR)
		for j, bits := range []uint64{math.Float64bits(redoRatio), math.Float64bits(math.Inf(1)), 1<<63 - 1} {
			for l := 0; l < 4; l++ {
				DATA(32*j+8*l, U64(bits))
			}
		}
		params.MaskData(96)
		LEAQ(tbl, rBits)
		cRatio, cInf, cAbs = Mem{Base: rBits}, Mem{Base: rBits, Disp: 32}, Mem{Base: rBits, Disp: 64}
		masks = func() Mem { return Mem{Base: rBits, Disp: 96} }
	}
	VXORPD(cZero, cZero, cZero)

	// Masks: k registers (AVX-512), or vectors of all-ones lanes (AVX2,
	// which computes them in the value registers t and u, and s).
	var slow, m1, m2, mA reg.Register
	s, q, p, sh, mean, t, vv, u := v(8), v(9), v(10), v(11), v(12), v(13), v(14), v(15)
	if avx512 {
		slow, m1, m2, mA = reg.K2, reg.K3, reg.K4, reg.K4
		s, q, p, sh, mean, t, vv, u = v(16), v(17), v(18), v(19), v(20), v(21), v(22), v(23)
		KXORW(slow, slow, slow)
	} else {
		slow, m1, m2, mA = v(5), t, u, s
		VXORPD(v(5), v(5), v(5))
	}
	cmp := func(pred int, b Op, a, dst reg.Register) { VCMPPD(U8(pred), b, a, dst) }
	and := func(b, a reg.Register) { // a &= b
		if avx512 {
			KANDW(b, a, a)
		} else {
			VANDPD(b, a, a)
		}
	}
	or := func(b, a reg.Register) { // a |= b
		if avx512 {
			KORW(b, a, a)
		} else {
			VORPD(b, a, a)
		}
	}
	keep := func(mask reg.Register, x reg.VecPhysical) { // x = 0 where not mask
		if avx512 {
			VMOVAPD_Z(x, mask, x)
		} else {
			VANDPD(mask, x, x)
		}
	}

	tier.Loop(params.I, params.N, masks, func() {
		tier.Ld(params.At64(pSum), s)
		tier.Ld(params.At64(pSq), q)
		tier.Ldf(params.At32(pPiv), p)
		Comment("sh = sum/m; mean = piv + sh; v = max(0, sq/m - sh*sh) + 0")
		VDIVPD(cM, s, sh)
		VADDPD(sh, p, mean)
		VDIVPD(cM, q, t)
		VMULPD(sh, sh, u)
		VSUBPD(u, t, t)
		VMAXPD(t, cZero, vv)  // zero > t ? zero : t, and t where t is NaN
		VADDPD(cZero, vv, vv) // -0 -> +0
		Comment("slow: (mean finite and (mean-piv)² > ratio*v) or sum, sq not finite or v < lim")
		VSUBPD(p, mean, t)
		VMULPD(t, t, t)
		VMULPD(cRatio, vv, u)
		cmp(params.GT, u, t, m1)
		VSUBPD(mean, mean, u)
		cmp(params.EQ, cZero, u, m2)
		and(m2, m1)
		VSUBPD(s, s, u)
		cmp(params.NEQ, cZero, u, m2)
		or(m2, m1)
		VSUBPD(q, q, u)
		cmp(params.NEQ, cZero, u, m2)
		or(m2, m1)
		cmp(params.LT, cLim, vv, m2)
		or(m2, m1)
		if tier.Masked {
			if avx512 {
				and(tier.KTail, m1)
			} else {
				and(tier.MaskD, m1)
			}
		}
		or(m1, slow)
		tier.St(mean, params.At64(pSum))
		tier.St(vv, params.At64(pSq))
		Comment("inv = 1/sqrt(v + eps), 0 where v + eps == 0")
		VADDPD(cEps, vv, t)
		VSQRTPD(t, u)
		VDIVPD(u, cOne, u)
		cmp(params.NEQ, cZero, t, mA)
		keep(mA, u)
		tier.St(u, params.At64(pInv))
		Comment("hi = float32(mean); lo = float32(mean - float64(hi)), 0 where mean is infinite")
		tier.Narrow(mean, t)
		tier.Stf(t, params.At32(pHi))
		VCVTPS2PD(params.Half(t), t)
		VSUBPD(t, mean, t)
		if avx512 {
			VPANDQ(cAbs, mean, q)
		} else {
			VANDPD(cAbs, mean, q)
		}
		cmp(params.NEQ, cInf, q, mA)
		keep(mA, t)
		tier.Narrow(t, t)
		tier.Stf(t, params.At32(pLo))
		Comment("a = float32(float64(gamma)*inv); b = beta")
		tier.Ldf(params.At32(pGamma), t)
		VMULPD(u, t, t)
		tier.Narrow(t, t)
		tier.Stf(t, params.At32(pA))
		tier.Ldf32(params.At32(pBeta), t)
		tier.Stf(t, params.At32(pB))
	})
	if avx512 {
		KMOVW(slow, reg.EDX)
	} else {
		VMOVMSKPD(slow.(reg.VecPhysical), reg.EDX)
	}
	TESTL(reg.EDX, reg.EDX)
	SETEQ(reg.AL)
	Store(reg.AL, ReturnIndex(0))
	VZEROUPPER()
	RET()
	Generate()
}
