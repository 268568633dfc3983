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

var (
	pSdy, pDot, pRes, pDg = reg.RSI, reg.RDI, reg.R8, reg.R9
	pInv, pGamma          = reg.R10, reg.R11
	pLo, pK2, pK3, pK1    = reg.R12, reg.R13, reg.R14, reg.R15
	rI, rN, rT            = reg.RAX, reg.RBX, reg.RCX
	rScr                  = reg.RDX
)

func d64(p reg.Register) Mem { return Mem{Base: p, Index: rI, Scale: 8} }
func f32(p reg.Register) Mem { return Mem{Base: p, Index: rI, Scale: 4} }

func main() {
	avx512 := params.ParseAVX512()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	TEXT("backParamsRows"+params.Suffix(avx512), NOSPLIT, sig)
	Pragma("noescape")
	names := []string{"sdy", "dot", "res", "dgamma", "invstd", "gamma", "lo", "k2", "k3", "k1"}
	regs := []reg.Register{pSdy, pDot, pRes, pDg, pInv, pGamma, pLo, pK2, pK3, pK1}
	for j, nm := range names {
		Load(Param(nm).Base(), regs[j])
	}
	Load(Param("sdy").Len(), rN)
	XORQ(rI, rI)
	if avx512 {
		gen512()
	} else {
		gen2()
	}
	Generate()
}

// The constants both tiers broadcast: m, the bounds, the abs mask.
func consts(cM, cExt, cMax, cMin, cAbs, tmp reg.VecPhysical) {
	VBROADCASTSD(params.Addr("m"), cM)
	params.Bcast(U64(math.Float64bits(extremeMean)), cExt, tmp, rT)
	params.Bcast(U64(math.Float64bits(maxInvStd)), cMax, tmp, rT)
	params.Bcast(U64(math.Float64bits(minInvStd)), cMin, tmp, rT)
	params.Bcast(U64(1<<63-1), cAbs, tmp, rT)
}

// gen512: 8 channels per zmm. kOK collects the lanes that pass the check.
func gen512() {
	cM, cExt, cMax, cMin, cAbs, cZero := reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5
	consts(cM, cExt, cMax, cMin, cAbs, reg.X8)
	VPXORQ(cZero, cZero, cZero)
	kTail, kOK, k3, k4 := reg.K1, reg.K2, reg.K3, reg.K4
	KXNORW(kOK, kOK, kOK)
	s, dot, res, inv, r, dp, u, k := reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15
	body := func(masked bool) {
		ld := func(m Mem, dst reg.VecPhysical) {
			if masked {
				VMOVUPD_Z(m, kTail, dst)
			} else {
				VMOVUPD(m, dst)
			}
		}
		ldf := func(m Mem, dst reg.VecPhysical) {
			if masked {
				VMOVUPS_Z(m, kTail, dst)
			} else {
				VMOVUPS(m, params.Half(dst))
			}
			VCVTPS2PD(params.Half(dst), dst)
		}
		st := func(src reg.VecPhysical, m Mem) {
			if masked {
				VMOVUPD(src, kTail, m)
			} else {
				VMOVUPD(src, m)
			}
		}
		stf := func(src reg.VecPhysical, m Mem) { // float32(src) to m
			VCVTPD2PS(src, params.Half(src))
			if masked {
				VMOVUPS(src, kTail, m)
			} else {
				VMOVUPS(params.Half(src), m)
			}
		}
		ld(d64(pSdy), s)
		ld(d64(pDot), dot)
		ld(d64(pRes), res)
		ldf(f32(pInv), inv)
		Comment("r = res/m; dotp = dot - r*sdy, or dot where sdy is not finite")
		VDIVPD(cM, res, r)
		VMULPD(s, r, u)
		VSUBPD(u, dot, dp)
		VSUBPD(s, s, u)
		VCMPPD(U8(params.EQ), cZero, u, k3)
		KNOTW(k3, k4)
		VMOVAPD(dot, k4, dp)
		Comment("ok: sdy, dot, res finite, |sdy/m| < 2^120, 2^-120 <= inv <= 2^50")
		VSUBPD(dot, dot, u)
		VCMPPD(U8(params.EQ), cZero, u, k4)
		KANDW(k4, k3, k3)
		VSUBPD(res, res, u)
		VCMPPD(U8(params.EQ), cZero, u, k4)
		KANDW(k4, k3, k3)
		VDIVPD(cM, s, u)
		VPANDQ(cAbs, u, u)
		VCMPPD(U8(params.LT), cExt, u, k4)
		KANDW(k4, k3, k3)
		VCMPPD(U8(params.LE), cMax, inv, k4)
		KANDW(k4, k3, k3)
		VCMPPD(U8(params.GE), cMin, inv, k4)
		KANDW(k4, k3, k3)
		if masked {
			KNOTW(kTail, k4)
			KORW(k4, k3, k3)
		}
		KANDW(k3, kOK, kOK)
		Comment("dgamma = dotp*inv; k = gamma*inv; lo, k2, k3, k1")
		VMULPD(inv, dp, u)
		st(u, d64(pDg))
		ldf(f32(pGamma), k)
		VMULPD(inv, k, k)
		stf(r, f32(pLo))
		VMULPD(s, k, u)
		VDIVPD(cM, u, u)
		stf(u, f32(pK2))
		VMULPD(dp, k, u)
		VMULPD(inv, u, u)
		VMULPD(inv, u, u)
		VDIVPD(cM, u, u)
		stf(u, f32(pK3))
		stf(k, f32(pK1))
	}
	loop, tail, done := "loop", "tail", "done"
	Label(loop)
	LEAQ(Mem{Base: rI, Disp: 8}, rT)
	CMPQ(rT, rN)
	JGT(LabelRef(tail))
	body(false)
	ADDQ(U8(8), rI)
	JMP(LabelRef(loop))
	Label(tail)
	MOVQ(rN, rT)
	SUBQ(rI, rT)
	JZ(LabelRef(done))
	Comment("kTail = (1 << (n - i)) - 1")
	MOVL(U32(1), reg.EDX)
	SHLL(reg.CL, reg.EDX)
	DECL(reg.EDX)
	KMOVW(reg.EDX, kTail)
	body(true)
	Label(done)
	KMOVW(kOK, reg.EDX)
	ANDL(U32(0xff), reg.EDX)
	CMPL(reg.EDX, U32(0xff))
	SETEQ(reg.AL)
	Store(reg.AL, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// gen2: 4 channels per ymm. ok collects the lanes that pass the check.
func gen2() {
	cM, cExt, cMax, cMin, cAbs, cZero := reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5
	ok, maskD, maskF := reg.Y6, reg.Y7, reg.X8
	consts(cM, cExt, cMax, cMin, cAbs, reg.X9)
	VXORPD(cZero, cZero, cZero)
	VCMPPD(U8(params.EQ), cZero, cZero, ok) // all ones
	// The tail masks: 4 all-ones qwords then 4 zero qwords (the mask of r
	// lanes is the 32 bytes at 32 - 8r), then the same in dwords from 64.
	tbl := GLOBL("backParamsRowsAVX2Masks", RODATA|NOPTR)
	for j := 0; j < 8; j++ {
		DATA(8*j, U64(uint64(math.MaxUint64)*uint64(1-j/4)))
	}
	for j := 0; j < 8; j++ {
		DATA(64+4*j, U32(uint32(math.MaxUint32)*uint32(1-j/4)))
	}
	s, dot, res, inv, r, dp, u := reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15
	k, t := res, dot // res and dot are dead once the check is done
	body := func(masked bool) {
		ld := func(m Mem, dst reg.VecPhysical) {
			if masked {
				VMASKMOVPD(m, maskD, dst)
			} else {
				VMOVUPD(m, dst)
			}
		}
		ldf := func(m Mem, dst reg.VecPhysical) {
			if masked {
				VMASKMOVPS(m, maskF, params.Half(dst))
			} else {
				VMOVUPS(m, params.Half(dst))
			}
			VCVTPS2PD(params.Half(dst), dst)
		}
		st := func(src reg.VecPhysical, m Mem) {
			if masked {
				VMASKMOVPD(src, maskD, m)
			} else {
				VMOVUPD(src, m)
			}
		}
		stf := func(src reg.VecPhysical, m Mem) { // float32(src) to m
			VCVTPD2PSY(src, params.Half(src))
			if masked {
				VMASKMOVPS(params.Half(src), maskF, m)
			} else {
				VMOVUPS(params.Half(src), m)
			}
		}
		ld(d64(pSdy), s)
		ld(d64(pDot), dot)
		ld(d64(pRes), res)
		ldf(f32(pInv), inv)
		Comment("r = res/m; dotp = dot - r*sdy, or dot where sdy is not finite")
		VDIVPD(cM, res, r)
		VMULPD(s, r, u)
		VSUBPD(u, dot, dp)
		VSUBPD(s, s, u)
		VCMPPD(U8(params.EQ), cZero, u, u)
		VBLENDVPD(u, dp, dot, dp) // dp where sdy is finite, else dot
		Comment("ok: sdy, dot, res finite, |sdy/m| < 2^120, 2^-120 <= inv <= 2^50")
		VSUBPD(dot, dot, t)
		VCMPPD(U8(params.EQ), cZero, t, t)
		VANDPD(t, u, u)
		VSUBPD(res, res, t)
		VCMPPD(U8(params.EQ), cZero, t, t)
		VANDPD(t, u, u)
		VDIVPD(cM, s, t)
		VANDPD(cAbs, t, t)
		VCMPPD(U8(params.LT), cExt, t, t)
		VANDPD(t, u, u)
		VCMPPD(U8(params.LE), cMax, inv, t)
		VANDPD(t, u, u)
		VCMPPD(U8(params.GE), cMin, inv, t)
		VANDPD(t, u, u)
		if masked {
			VCMPPD(U8(params.EQ), cZero, maskD, t) // lanes off the mask (a mask lane is a NaN)
			VORPD(t, u, u)
		}
		VANDPD(u, ok, ok)
		Comment("dgamma = dotp*inv; k = gamma*inv; lo, k2, k3, k1")
		VMULPD(inv, dp, u)
		st(u, d64(pDg))
		ldf(f32(pGamma), k)
		VMULPD(inv, k, k)
		stf(r, f32(pLo))
		VMULPD(s, k, u)
		VDIVPD(cM, u, u)
		stf(u, f32(pK2))
		VMULPD(dp, k, u)
		VMULPD(inv, u, u)
		VMULPD(inv, u, u)
		VDIVPD(cM, u, u)
		stf(u, f32(pK3))
		stf(k, f32(pK1))
	}
	loop, tail, done := "loop", "tail", "done"
	Label(loop)
	LEAQ(Mem{Base: rI, Disp: 4}, rT)
	CMPQ(rT, rN)
	JGT(LabelRef(tail))
	body(false)
	ADDQ(U8(4), rI)
	JMP(LabelRef(loop))
	Label(tail)
	MOVQ(rN, rT)
	SUBQ(rI, rT)
	JZ(LabelRef(done))
	Comment("masks of the n - i (1 to 3) remaining lanes")
	NEGQ(rT)
	LEAQ(tbl, rScr)
	VMOVDQU(Mem{Base: rScr, Index: rT, Scale: 8, Disp: 32}, maskD)
	VMOVDQU(Mem{Base: rScr, Index: rT, Scale: 4, Disp: 80}, maskF)
	body(true)
	Label(done)
	VMOVMSKPD(ok, reg.EDX)
	CMPL(reg.EDX, U32(0xf))
	SETEQ(reg.AL)
	Store(reg.AL, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
