// Package params holds what the generators of the per-channel float64
// kernels (trainparams, backparams) share: the -isa flag, the registers of
// the vector tiers, broadcasts and the comparison predicates. These
// kernels work lane by lane in float64, D channels per vector (8 in a zmm,
// 4 in a ymm), their float32 values in the low half of a vector (a ymm of
// a zmm, an xmm of a ymm), and run the last n % D channels as one masked
// vector.
package params

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
	EQ  = 0x00 // equal, ordered, quiet
	LT  = 0x11 // less than, ordered, quiet
	LE  = 0x12 // less or equal, ordered, quiet
	NEQ = 0x04 // not equal, unordered (true for NaN), quiet
	GE  = 0x1d // greater or equal, ordered, quiet
	GT  = 0x1e // greater than, ordered, quiet
)

var isaFlag = flag.String("isa", "avx512", "instruction set: avx512 or avx2")

// ParseAVX512 parses the command line (avo shares flag.CommandLine) and
// reports whether -isa is avx512 (else avx2).
func ParseAVX512() bool {
	flag.Parse()
	switch *isaFlag {
	case "avx512":
		return true
	case "avx2":
		return false
	}
	log.Fatalf("unknown -isa %q", *isaFlag)
	return false
}

// Suffix is the kernel name suffix of the tier.
func Suffix(avx512 bool) string {
	if avx512 {
		return "AVX512"
	}
	return "AVX2"
}

// Addr is the stack address of a scalar parameter.
func Addr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		log.Fatal(err)
	}
	return b.Addr
}

// Bcast broadcasts the float64 whose bits are in bits (a general-purpose
// register, or a U64 constant, which goes through scratch) into dst,
// through the xmm tmp.
func Bcast(bits Op, dst, tmp reg.VecPhysical, scratch reg.Register) {
	if c, ok := bits.(U64); ok {
		MOVQ(c, scratch)
		bits = scratch
	}
	VMOVQ(bits, tmp)
	VPBROADCASTQ(tmp, dst)
}

var (
	ys = []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7, reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15,
		reg.Y16, reg.Y17, reg.Y18, reg.Y19, reg.Y20, reg.Y21, reg.Y22, reg.Y23, reg.Y24, reg.Y25, reg.Y26, reg.Y27, reg.Y28, reg.Y29, reg.Y30, reg.Y31}
	xs = []reg.VecPhysical{reg.X0, reg.X1, reg.X2, reg.X3, reg.X4, reg.X5, reg.X6, reg.X7, reg.X8, reg.X9, reg.X10, reg.X11, reg.X12, reg.X13, reg.X14, reg.X15,
		reg.X16, reg.X17, reg.X18, reg.X19, reg.X20, reg.X21, reg.X22, reg.X23, reg.X24, reg.X25, reg.X26, reg.X27, reg.X28, reg.X29, reg.X30, reg.X31}
)

var zs = []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7, reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
	reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23, reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31}

// Vec is vector register n of the tier: a zmm, or a ymm.
func Vec(avx512 bool, n int) reg.VecPhysical {
	if avx512 {
		return zs[n]
	}
	return ys[n]
}

// The general-purpose registers of the per-channel kernels: the channel
// index I and count N (Tier.Loop also takes CX and, AVX-512, DX), and the
// slice bases in the order Slices loads them.
var (
	I, N  = reg.RAX, reg.RBX
	bases = []reg.Register{reg.RSI, reg.RDI, reg.R8, reg.R9, reg.R10, reg.R11, reg.R12, reg.R13, reg.R14, reg.R15}
)

// Slices loads the base address of each named slice parameter (ten at
// most) into a register of its own, returned in the same order, and N =
// the length of the first, I = 0.
func Slices(names ...string) []reg.Register {
	for j, nm := range names {
		Load(Param(nm).Base(), bases[j])
	}
	Load(Param(names[0]).Len(), N)
	XORQ(I, I)
	return bases[:len(names)]
}

// At64 and At32 address element I of a float64 and of a float32 slice.
func At64(p reg.Register) Mem { return Mem{Base: p, Index: I, Scale: 8} }
func At32(p reg.Register) Mem { return Mem{Base: p, Index: I, Scale: 4} }

// Half is the register of half the width of r: the ymm of a zmm, the xmm
// of a ymm.
func Half(r reg.VecPhysical) reg.VecPhysical {
	if r.Size() == 64 {
		return ys[r.PhysicalIndex()]
	}
	return xs[r.PhysicalIndex()]
}

// Tier is the lane I/O of one instruction set: D float64 lanes per vector,
// their float32 values in the low half of a vector. Masked makes every
// load and store touch only the lanes of the tail: KTail (AVX-512), or
// MaskD and MaskF, the float64 and float32 lane masks (AVX2).
type Tier struct {
	AVX512       bool
	D            int
	KTail        reg.Register
	MaskD, MaskF reg.VecPhysical
	Masked       bool
}

// NewTier returns the tier: AVX-512 with its tail mask in K1, or AVX2 with
// its lane masks in maskD and maskF (an xmm).
func NewTier(avx512 bool, maskD, maskF reg.VecPhysical) *Tier {
	if avx512 {
		return &Tier{AVX512: true, D: 8, KTail: reg.K1}
	}
	return &Tier{D: 4, MaskD: maskD, MaskF: maskF}
}

// Ld loads D float64.
func (t *Tier) Ld(m Mem, dst reg.VecPhysical) {
	switch {
	case !t.Masked:
		VMOVUPD(m, dst)
	case t.AVX512:
		VMOVUPD_Z(m, t.KTail, dst)
	default:
		VMASKMOVPD(m, t.MaskD, dst)
	}
}

// Ldf loads D float32 and widens them to float64.
func (t *Tier) Ldf(m Mem, dst reg.VecPhysical) {
	t.Ldf32(m, dst)
	VCVTPS2PD(Half(dst), dst)
}

// Ldf32 loads D float32 into the low half of dst.
func (t *Tier) Ldf32(m Mem, dst reg.VecPhysical) {
	switch {
	case !t.Masked:
		VMOVUPS(m, Half(dst))
	case t.AVX512:
		VMOVUPS_Z(m, t.KTail, dst)
	default:
		VMASKMOVPS(m, t.MaskF, Half(dst))
	}
}

// St stores D float64.
func (t *Tier) St(src reg.VecPhysical, m Mem) {
	switch {
	case !t.Masked:
		VMOVUPD(src, m)
	case t.AVX512:
		VMOVUPD(src, t.KTail, m)
	default:
		VMASKMOVPD(src, t.MaskD, m)
	}
}

// Narrow rounds the D float64 of src to float32 in the low half of dst.
func (t *Tier) Narrow(src, dst reg.VecPhysical) {
	if t.AVX512 {
		VCVTPD2PS(src, Half(dst))
	} else {
		VCVTPD2PSY(src, Half(dst))
	}
}

// Stf stores the D float32 in the low half of src.
func (t *Tier) Stf(src reg.VecPhysical, m Mem) {
	switch {
	case !t.Masked:
		VMOVUPS(Half(src), m)
	case t.AVX512:
		VMOVUPS(src, t.KTail, m)
	default:
		VMASKMOVPS(Half(src), t.MaskF, m)
	}
}

// MaskTable declares, for AVX2, a data section named name holding
// MaskData at offset 0, and returns the masks argument of Loop: it loads
// the section's address into scratch. For AVX-512, whose tails use k
// registers, it declares nothing and returns nil.
func MaskTable(avx512 bool, name string, scratch reg.Register) func() Mem {
	if avx512 {
		return nil
	}
	tbl := GLOBL(name, RODATA|NOPTR)
	MaskData(0)
	return func() Mem {
		LEAQ(tbl, scratch)
		return Mem{Base: scratch}
	}
}

// MaskData writes, at offset off of the open data section, the AVX2 tail
// masks: 4 all-ones qwords then 4 zero qwords (the float64 mask of r lanes
// is the 32 bytes at off + 32 - 8r), then the same in dwords from off+64
// (the float32 mask: the 16 bytes at off + 80 - 4r). 96 bytes.
func MaskData(off int) {
	for j := 0; j < 8; j++ {
		DATA(off+8*j, U64(uint64(math.MaxUint64)*uint64(1-j/4)))
	}
	for j := 0; j < 8; j++ {
		DATA(off+64+4*j, U32(uint32(math.MaxUint32)*uint32(1-j/4)))
	}
}

// Loop emits the channel loop over i from 0 to n: body on full vectors,
// then once on the last n % D channels as a masked vector, whose masks it
// sets from n - i in CX (clobbered; AVX-512 also clobbers DX). masks is
// called in the tail and returns where MaskData lies (AVX2). The loop
// falls through at the end.
func (t *Tier) Loop(i, n reg.Register, masks func() Mem, body func()) {
	if i == reg.RCX || n == reg.RCX {
		log.Fatal("Loop: i and n must not be CX")
	}
	loop, tail, done := "loop", "tail", "done"
	Label(loop)
	LEAQ(Mem{Base: i, Disp: t.D}, reg.RCX)
	CMPQ(reg.RCX, n)
	JGT(LabelRef(tail))
	t.Masked = false
	body()
	ADDQ(U8(t.D), i)
	JMP(LabelRef(loop))
	Label(tail)
	MOVQ(n, reg.RCX)
	SUBQ(i, reg.RCX)
	JZ(LabelRef(done))
	if t.AVX512 {
		Comment("kTail = (1 << (n - i)) - 1")
		MOVL(U32(1), reg.EDX)
		SHLL(reg.CL, reg.EDX)
		DECL(reg.EDX)
		KMOVW(reg.EDX, t.KTail)
	} else {
		Comment("masks of the n - i (1 to 3) remaining lanes")
		m := masks()
		NEGQ(reg.RCX)
		VMOVDQU(Mem{Base: m.Base, Index: reg.RCX, Scale: 8, Disp: m.Disp + 32}, t.MaskD)
		VMOVDQU(Mem{Base: m.Base, Index: reg.RCX, Scale: 4, Disp: m.Disp + 80}, t.MaskF)
	}
	t.Masked = true
	body()
	Label(done)
}
