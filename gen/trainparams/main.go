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
	"flag"
	"log"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Comparison predicates of VCMPPD.
const (
	cmpEQ  = 0x00 // equal, ordered, quiet
	cmpLT  = 0x11 // less than, ordered, quiet
	cmpNEQ = 0x04 // not equal, unordered (true for NaN), quiet
	cmpGT  = 0x1e // greater than, ordered, quiet
)

// Mirrors of fallback.RedoRatio and fallback.TinyVar (gen does not import
// the root module).
const (
	redoRatio = 8
	tinyVar   = 0x1p-100
)

var isaFlag = flag.String("isa", "avx512", "instruction set: avx512 or avx2")

func main() {
	flag.Parse()
	ConstraintExpr("amd64,gc,!purego,!noasm")
	switch *isaFlag {
	case "avx512":
		gen512()
	case "avx2":
		gen2()
	default:
		log.Fatalf("unknown -isa %q", *isaFlag)
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
	TEXT("trainParamsRows"+suffix(), NOSPLIT, sig)
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

// paramAddr is the stack address of a scalar parameter.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		log.Fatal(err)
	}
	return b.Addr
}

func suffix() string {
	if *isaFlag == "avx512" {
		return "AVX512"
	}
	return "AVX2"
}

// bcast broadcasts the float64 with bits v (a GP register or a constant)
// into dst, through the xmm tmp.
func bcast(bits Op, dst, tmp reg.VecPhysical) {
	if c, ok := bits.(U64); ok {
		MOVQ(c, rT)
		bits = rT
	}
	VMOVQ(bits, tmp)
	VPBROADCASTQ(tmp, dst)
}

// gen512: 8 channels per zmm (float32 values in the low half of a zmm).
func gen512() {
	prologue()
	cM, cEps, cOne, cRatio, cLim, cInf, cAbs, cZero := reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7
	VBROADCASTSD(paramAddr("m"), cM)
	VBROADCASTSD(paramAddr("eps"), cEps)
	bcast(U64(math.Float64bits(1)), cOne, reg.X8)
	bcast(U64(math.Float64bits(redoRatio)), cRatio, reg.X8)
	bcast(rBits, cLim, reg.X8)
	bcast(U64(math.Float64bits(math.Inf(1))), cInf, reg.X8)
	bcast(U64(1<<63-1), cAbs, reg.X8)
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
				VMOVUPS(m, ymmOf(dst))
			}
			VCVTPS2PD(ymmOf(dst), dst)
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
				VMOVUPS(ymmOf(src), m)
			}
		}
		narrow := func(src, dst reg.VecPhysical) { VCVTPD2PS(src, ymmOf(dst)) }

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
		VCVTPS2PD(ymmOf(t), t)
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
			VMOVUPS(f32(pBeta), ymmOf(t))
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
	VBROADCASTSD(paramAddr("m"), cM)
	VBROADCASTSD(paramAddr("eps"), cEps)
	bcast(U64(math.Float64bits(1)), cOne, reg.X8)
	bcast(rBits, cLim, reg.X8)
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
				VMASKMOVPS(m, maskF, xmmOf(dst))
			} else {
				VMOVUPS(m, xmmOf(dst))
			}
			VCVTPS2PD(xmmOf(dst), dst)
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
				VMASKMOVPS(xmmOf(src), maskF, m)
			} else {
				VMOVUPS(xmmOf(src), m)
			}
		}
		narrow := func(src, dst reg.VecPhysical) { VCVTPD2PSY(src, xmmOf(dst)) }

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
		VCVTPS2PD(xmmOf(t), t)
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
			VMASKMOVPS(f32(pBeta), maskF, xmmOf(t))
		} else {
			VMOVUPS(f32(pBeta), xmmOf(t))
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

var (
	zs = []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7, reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15}
	ys = []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7, reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15}
	xs = []reg.VecPhysical{reg.X0, reg.X1, reg.X2, reg.X3, reg.X4, reg.X5, reg.X6, reg.X7, reg.X8, reg.X9, reg.X10, reg.X11, reg.X12, reg.X13, reg.X14, reg.X15}
)

func ymmOf(r reg.VecPhysical) reg.VecPhysical { return ys[r.PhysicalIndex()] }
func xmmOf(r reg.VecPhysical) reg.VecPhysical { return xs[r.PhysicalIndex()] }
