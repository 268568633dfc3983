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

const (
	cmpEQ  = params.EQ
	cmpLT  = params.LT
	cmpNEQ = params.NEQ
	cmpGT  = params.GT
)

// Mirrors of fallback.RedoRatio and fallback.TinyVar (gen does not import
// the root module).
const (
	redoRatio = 8
	tinyVar   = 0x1p-100
)

var avx512 bool

func main() {
	avx512 = params.ParseAVX512()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	if avx512 {
		gen512()
	} else {
		gen2()
	}
	Generate()
}

const sig = "func(sum, sq, inv []float64, piv, gamma, beta, hi, lo, a, b []float32, m, eps float64, tiny bool) bool"

// General-purpose registers: the slice bases, the channel index and count.
var (
	pSum, pSq, pInv                    = reg.RSI, reg.RDI, reg.R8
	pPiv, pGamma, pBeta                = reg.R9, reg.R10, reg.R11
	pHi, pLo, pA, pB                   = reg.R12, reg.R13, reg.R14, reg.R15
	rI, rN, rT                         = reg.RAX, reg.RBX, reg.RCX
	rBits                              = reg.RDX
	d64                                = func(p reg.Register) Mem { return Mem{Base: p, Index: rI, Scale: 8} }
	f32                                = func(p reg.Register) Mem { return Mem{Base: p, Index: rI, Scale: 4} }
	doubles, floats     []reg.Register = []reg.Register{pSum, pSq, pInv}, []reg.Register{pPiv, pGamma, pBeta, pHi, pLo, pA, pB}
)

// prologue loads the bases and n, and leaves rBits = the float64 bits of
// the tiny bound (0 without tiny: v < 0 never holds).
func prologue() {
	TEXT("trainParamsRows"+params.Suffix(avx512), NOSPLIT, sig)
	Pragma("noescape")
	names := []string{"sum", "sq", "inv", "piv", "gamma", "beta", "hi", "lo", "a", "b"}
	regs := append(append([]reg.Register{}, doubles...), floats...)
	for j, nm := range names {
		Load(Param(nm).Base(), regs[j])
	}
	Load(Param("sum").Len(), rN)
	Load(Param("tiny"), rT)
	MOVQ(U64(math.Float64bits(tinyVar)), rBits)
	NEGQ(rT)
	ANDQ(rT, rBits)
	XORQ(rI, rI)
}

// gen512: 8 channels per zmm (float32 values in the low half of a zmm).
func gen512() {
	prologue()
	cM, cEps, cOne, cRatio, cLim, cInf, cAbs, cZero := reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7
	VBROADCASTSD(params.Addr("m"), cM)
	VBROADCASTSD(params.Addr("eps"), cEps)
	params.Bcast(U64(math.Float64bits(1)), cOne, reg.X8, rT)
	params.Bcast(U64(math.Float64bits(redoRatio)), cRatio, reg.X8, rT)
	params.Bcast(rBits, cLim, reg.X8, rT)
	params.Bcast(U64(math.Float64bits(math.Inf(1))), cInf, reg.X8, rT)
	params.Bcast(U64(1<<63-1), cAbs, reg.X8, rT)
	VPXORQ(cZero, cZero, cZero)
	kSlow, kTail := reg.K2, reg.K1
	KXORW(kSlow, kSlow, kSlow)

	s, q, p, sh, mean, t, v, u := reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15
	k3, k4 := reg.K3, reg.K4
	body := func(masked bool) {
		ld := func(m Mem, dst reg.VecPhysical) {
			if masked {
				VMOVUPD_Z(m, kTail, dst)
			} else {
				VMOVUPD(m, dst)
			}
		}
		ldf := func(m Mem, dst reg.VecPhysical) { // 8 floats into the low half, widened
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
		stf := func(src reg.VecPhysical, m Mem) { // the low 8 floats of src
			if masked {
				VMOVUPS(src, kTail, m)
			} else {
				VMOVUPS(params.Half(src), m)
			}
		}
		narrow := func(src, dst reg.VecPhysical) { VCVTPD2PS(src, params.Half(dst)) }

		ld(d64(pSum), s)
		ld(d64(pSq), q)
		ldf(f32(pPiv), p)
		Comment("sh = sum/m; mean = piv + sh; v = max(0, sq/m - sh*sh) + 0")
		VDIVPD(cM, s, sh)
		VADDPD(sh, p, mean)
		VDIVPD(cM, q, t)
		VMULPD(sh, sh, u)
		VSUBPD(u, t, t)
		VMAXPD(t, cZero, v) // zero > t ? zero : t, and t where t is NaN
		VADDPD(cZero, v, v) // -0 -> +0
		Comment("slow: (mean finite and (mean-piv)² > ratio*v) or sum, sq not finite or v < lim")
		VSUBPD(p, mean, t)
		VMULPD(t, t, t)
		VMULPD(cRatio, v, u)
		VCMPPD(U8(cmpGT), u, t, k3)
		VSUBPD(mean, mean, t)
		VCMPPD(U8(cmpEQ), cZero, t, k4)
		KANDW(k4, k3, k3)
		VSUBPD(s, s, t)
		VCMPPD(U8(cmpNEQ), cZero, t, k4)
		KORW(k4, k3, k3)
		VSUBPD(q, q, t)
		VCMPPD(U8(cmpNEQ), cZero, t, k4)
		KORW(k4, k3, k3)
		VCMPPD(U8(cmpLT), cLim, v, k4)
		KORW(k4, k3, k3)
		if masked {
			KANDW(kTail, k3, k3)
		}
		KORW(k3, kSlow, kSlow)
		st(mean, d64(pSum))
		st(v, d64(pSq))
		Comment("inv = 1/sqrt(v + eps), 0 where v + eps == 0")
		VADDPD(cEps, v, t)
		VSQRTPD(t, u)
		VDIVPD(u, cOne, u)
		VCMPPD(U8(cmpNEQ), cZero, t, k4)
		VMOVAPD_Z(u, k4, u)
		st(u, d64(pInv))
		Comment("hi = float32(mean); lo = float32(mean - float64(hi)), 0 where mean is infinite")
		narrow(mean, t)
		stf(t, f32(pHi))
		VCVTPS2PD(params.Half(t), t)
		VSUBPD(t, mean, t)
		VPANDQ(cAbs, mean, s)
		VCMPPD(U8(cmpNEQ), cInf, s, k4)
		VMOVAPD_Z(t, k4, t)
		narrow(t, t)
		stf(t, f32(pLo))
		Comment("a = float32(float64(gamma)*inv); b = beta")
		ldf(f32(pGamma), t)
		VMULPD(u, t, t)
		narrow(t, t)
		stf(t, f32(pA))
		if masked {
			VMOVUPS_Z(f32(pBeta), kTail, t)
		} else {
			VMOVUPS(f32(pBeta), params.Half(t))
		}
		stf(t, f32(pB))
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
	KMOVW(kSlow, reg.EDX)
	TESTL(reg.EDX, reg.EDX)
	SETEQ(reg.AL)
	Store(reg.AL, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// gen2: 4 channels per ymm (float32 values in an xmm).
func gen2() {
	prologue()
	cM, cEps, cOne, cLim, cZero := reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4
	acc, maskD, maskF := reg.Y5, reg.Y6, reg.X7
	VBROADCASTSD(params.Addr("m"), cM)
	VBROADCASTSD(params.Addr("eps"), cEps)
	params.Bcast(U64(math.Float64bits(1)), cOne, reg.X8, rT)
	params.Bcast(rBits, cLim, reg.X8, rT)
	VXORPD(cZero, cZero, cZero)
	VXORPD(acc, acc, acc)
	// Constants read from memory: the redo ratio, +Inf, the abs mask,
	// and the tail masks (float64 lanes, then float32 lanes).
	consts := GLOBL("trainParamsRowsAVX2Consts", RODATA|NOPTR)
	// (DATA must come in increasing offsets.)
	for j := 0; j < 4; j++ {
		DATA(8*j, U64(math.Float64bits(redoRatio)))
	}
	for j := 0; j < 4; j++ {
		DATA(32+8*j, U64(math.Float64bits(math.Inf(1))))
	}
	for j := 0; j < 4; j++ {
		DATA(64+8*j, U64(1<<63-1))
	}
	// The tail masks: 4 all-ones qwords then 4 zero qwords, from which the
	// mask of r lanes is the 32 bytes at 128 - 8r; the same in dwords,
	// from 160.
	for j := 0; j < 8; j++ {
		DATA(96+8*j, U64(uint64(math.MaxUint64)*uint64(1-j/4)))
	}
	for j := 0; j < 8; j++ {
		DATA(160+4*j, U32(uint32(math.MaxUint32)*uint32(1-j/4)))
	}
	LEAQ(consts, rBits)
	cRatio := Mem{Base: rBits}
	cInf := Mem{Base: rBits, Disp: 32}
	cAbs := Mem{Base: rBits, Disp: 64}

	s, q, p, sh, mean, t, v, u := reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15
	body := func(masked bool) {
		ld := func(m Mem, dst reg.VecPhysical) {
			if masked {
				VMASKMOVPD(m, maskD, dst)
			} else {
				VMOVUPD(m, dst)
			}
		}
		ldf := func(m Mem, dst reg.VecPhysical) { // 4 floats, widened
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
		stf := func(src reg.VecPhysical, m Mem) { // the xmm of src
			if masked {
				VMASKMOVPS(params.Half(src), maskF, m)
			} else {
				VMOVUPS(params.Half(src), m)
			}
		}
		narrow := func(src, dst reg.VecPhysical) { VCVTPD2PSY(src, params.Half(dst)) }

		ld(d64(pSum), s)
		ld(d64(pSq), q)
		ldf(f32(pPiv), p)
		Comment("sh = sum/m; mean = piv + sh; v = max(0, sq/m - sh*sh) + 0")
		VDIVPD(cM, s, sh)
		VADDPD(sh, p, mean)
		VDIVPD(cM, q, t)
		VMULPD(sh, sh, u)
		VSUBPD(u, t, t)
		VMAXPD(t, cZero, v)
		VADDPD(cZero, v, v)
		Comment("slow: (mean finite and (mean-piv)² > ratio*v) or sum, sq not finite or v < lim")
		VSUBPD(p, mean, t)
		VMULPD(t, t, t)
		VMULPD(cRatio, v, u)
		VCMPPD(U8(cmpGT), u, t, t)
		VSUBPD(mean, mean, u)
		VCMPPD(U8(cmpEQ), cZero, u, u)
		VANDPD(u, t, t)
		VSUBPD(s, s, u)
		VCMPPD(U8(cmpNEQ), cZero, u, u)
		VORPD(u, t, t)
		VSUBPD(q, q, u)
		VCMPPD(U8(cmpNEQ), cZero, u, u)
		VORPD(u, t, t)
		VCMPPD(U8(cmpLT), cLim, v, u)
		VORPD(u, t, t)
		if masked {
			VANDPD(maskD, t, t)
		}
		VORPD(t, acc, acc)
		st(mean, d64(pSum))
		st(v, d64(pSq))
		Comment("inv = 1/sqrt(v + eps), 0 where v + eps == 0")
		VADDPD(cEps, v, t)
		VSQRTPD(t, u)
		VDIVPD(u, cOne, u)
		VCMPPD(U8(cmpEQ), cZero, t, t)
		VANDNPD(u, t, u) // u &^ (v+eps == 0)
		st(u, d64(pInv))
		Comment("hi = float32(mean); lo = float32(mean - float64(hi)), 0 where mean is infinite")
		narrow(mean, t)
		stf(t, f32(pHi))
		VCVTPS2PD(params.Half(t), t)
		VSUBPD(t, mean, t)
		VANDPD(cAbs, mean, s)
		VCMPPD(U8(cmpEQ), cInf, s, s)
		VANDNPD(t, s, t)
		narrow(t, t)
		stf(t, f32(pLo))
		Comment("a = float32(float64(gamma)*inv); b = beta")
		ldf(f32(pGamma), t)
		VMULPD(u, t, t)
		narrow(t, t)
		stf(t, f32(pA))
		if masked {
			VMASKMOVPS(f32(pBeta), maskF, params.Half(t))
		} else {
			VMOVUPS(f32(pBeta), params.Half(t))
		}
		stf(t, f32(pB))
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
	VMOVDQU(Mem{Base: rBits, Index: rT, Scale: 8, Disp: 128}, maskD)
	VMOVDQU(Mem{Base: rBits, Index: rT, Scale: 4, Disp: 176}, maskF)
	body(true)
	Label(done)
	VMOVMSKPD(acc, reg.EDX)
	TESTL(reg.EDX, reg.EDX)
	SETEQ(reg.AL)
	Store(reg.AL, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
