// Package cl holds the code shared by the generators of the channels-last
// kernels (statscl, backwardcl, applycl, backwardapplycl): the instruction
// set abstraction (zmm with k-masks, or ymm with VMASKMOVPS masks) and the
// loop skeletons of the reductions and of the element-wise kernels.
//
// Lanes of a vector are channels. Channels are walked in chunks: first
// chunks of W full vectors, then single full vectors, then one masked
// vector for the last C % V channels. Masked loads zero the lanes of
// channels that do not exist and masked stores leave them alone, so no byte
// outside the slices is read or written. A reduction may instead walk wide
// rows in memory order, vector after vector, with its float32 lanes in a
// scratch slice (Reduction.WideC). Rows are ld values apart (ld >= C), so
// that a call can cover a block of the channels of wider rows.
package cl

import (
	"flag"
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

var isaFlag = flag.String("isa", "avx512", "instruction set: avx512 or avx2")

// ISA describes one instruction-set tier.
type ISA struct {
	Name string // "avx512" or "avx2"
	V    int    // float32 lanes per vector
	NReg int    // vector registers

	maskY reg.VecPhysical // AVX2: ymm holding the float32 lane mask of the masked vector
	label int
}

// Parse parses the command line (avo shares flag.CommandLine) and returns
// the tier named by -isa.
func Parse() *ISA {
	flag.Parse()
	switch *isaFlag {
	case "avx512":
		return &ISA{Name: "avx512", V: 16, NReg: 32}
	case "avx2":
		return &ISA{Name: "avx2", V: 8, NReg: 16}
	}
	log.Fatalf("unknown -isa %q", *isaFlag)
	return nil
}

// AVX512 reports whether the tier is AVX-512.
func (i *ISA) AVX512() bool { return i.V == 16 }

// Suffix is the kernel name suffix: "AVX512" or "AVX2".
func (i *ISA) Suffix() string {
	if i.AVX512() {
		return "AVX512"
	}
	return "AVX2"
}

var zmm = []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
	reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
	reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
	reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31}

var ymm = []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
	reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15,
	reg.Y16, reg.Y17, reg.Y18, reg.Y19, reg.Y20, reg.Y21, reg.Y22, reg.Y23,
	reg.Y24, reg.Y25, reg.Y26, reg.Y27, reg.Y28, reg.Y29, reg.Y30, reg.Y31}

var xmm = []reg.VecPhysical{reg.X0, reg.X1, reg.X2, reg.X3, reg.X4, reg.X5, reg.X6, reg.X7,
	reg.X8, reg.X9, reg.X10, reg.X11, reg.X12, reg.X13, reg.X14, reg.X15,
	reg.X16, reg.X17, reg.X18, reg.X19, reg.X20, reg.X21, reg.X22, reg.X23,
	reg.X24, reg.X25, reg.X26, reg.X27, reg.X28, reg.X29, reg.X30, reg.X31}

// Vec is vector register number n of the tier's width.
func (i *ISA) Vec(n int) reg.VecPhysical {
	if n < 0 || n >= i.NReg {
		log.Fatalf("vector register %d out of range", n)
	}
	if i.AVX512() {
		return zmm[n]
	}
	return ymm[n]
}

func idx(r reg.VecPhysical) int { return int(r.PhysicalIndex()) }

// half returns the register of half the width of r (Y of a Z, X of a Y).
func (i *ISA) half(r reg.VecPhysical) reg.VecPhysical {
	if i.AVX512() {
		return ymm[idx(r)]
	}
	return xmm[idx(r)]
}

// Label returns a fresh label name.
func (i *ISA) Label(s string) string {
	i.label++
	return fmt.Sprintf("%s_%d", s, i.label)
}

// Load loads V floats from m into dst; masked uses the tail mask (lanes
// off the mask are zeroed and not read).
func (i *ISA) Load(m Mem, dst reg.VecPhysical, masked bool) {
	switch {
	case !masked:
		VMOVUPS(m, dst)
	case i.AVX512():
		VMOVUPS_Z(m, reg.K1, dst)
	default:
		VMASKMOVPS(m, i.maskY, dst)
	}
}

// Store stores V floats of src to m; masked stores only the lanes of the
// tail mask.
func (i *ISA) Store(src reg.VecPhysical, m Mem, masked bool) {
	switch {
	case !masked:
		VMOVUPS(src, m)
	case i.AVX512():
		VMOVUPS(src, reg.K1, m)
	default:
		VMASKMOVPS(src, i.maskY, m)
	}
}

// TailMask sets up the mask of the last C % V channels, with rem holding C
// (clobbered) and tmp a scratch register. AVX-512: K1 (float32 lanes, and
// the float64 lanes of the low half), K2 (float64 lanes of the high half).
// AVX2: maskY, from a table in name's data section.
func (i *ISA) TailMask(name string, c reg.Register, maskY reg.VecPhysical) {
	if i.AVX512() {
		// C is in CX: mask = (1 << (C % 16)) - 1.
		if c != reg.RCX {
			log.Fatal("TailMask: AVX-512 needs C in CX")
		}
		ANDL(U32(15), reg.ECX)
		MOVL(U32(1), reg.EAX)
		SHLL(reg.CL, reg.EAX)
		DECL(reg.EAX)
		KMOVW(reg.EAX, reg.K1)
		KSHIFTRW(U8(8), reg.K1, reg.K2)
		return
	}
	i.maskY = maskY
	tbl := GLOBL(name+"Mask", RODATA|NOPTR)
	for j := 0; j < 16; j++ {
		v := uint32(0)
		if j < 8 {
			v = 0xffffffff
		}
		DATA(4*j, U32(v))
	}
	// mask = table[8-C%8 : 16-C%8]
	ANDQ(U32(7), c)
	NEGQ(c)
	LEAQ(tbl, reg.RAX)
	VMOVDQU(Mem{Base: reg.RAX, Index: c, Scale: 4, Disp: 32}, maskY)
}

// Flush adds the float32 lanes of acc, converted to float64, to the V
// float64 values at m (acc64 += float64(acc32)), or with set stores them
// there (acc64 = float64(acc32): the same bits as 0 + float64(acc32), a
// lane sum being never -0); masked touches only the lanes of the tail
// mask. acc is clobbered; t0, t1 and md are scratch (md is used by a
// masked AVX2 flush only, for the float64 lane mask).
func (i *ISA) Flush(acc reg.VecPhysical, m Mem, masked, set bool, t0, t1, md reg.VecPhysical) {
	lo, hi := i.half(acc), i.half(acc)
	VCVTPS2PD(lo, t0)
	if i.AVX512() {
		VEXTRACTF64X4(U8(1), acc, hi)
	} else {
		VEXTRACTF128(U8(1), acc, hi)
	}
	step := i.V / 2 * 8
	for h := 0; h < 2; h++ {
		mm := m.Offset(h * step)
		if h == 1 {
			VCVTPS2PD(hi, t0)
		}
		kr := reg.K1
		if h == 1 {
			kr = reg.K2
		}
		if masked && !i.AVX512() {
			if h == 0 {
				VPMOVSXDQ(xmm[idx(i.maskY)], md)
			} else {
				VEXTRACTF128(U8(1), i.maskY, xmm[idx(md)])
				VPMOVSXDQ(xmm[idx(md)], md)
			}
		}
		if set {
			t1 = t0
		} else {
			switch {
			case !masked:
				VMOVUPD(mm, t1)
			case i.AVX512():
				VMOVUPD_Z(mm, kr, t1)
			default:
				VMASKMOVPD(mm, md, t1)
			}
			// acc64 + float64(acc32): acc64 is the first source.
			VADDPD(t0, t1, t1)
		}
		switch {
		case !masked:
			VMOVUPD(t1, mm)
		case i.AVX512():
			VMOVUPD(t1, kr, mm)
		default:
			VMASKMOVPD(t1, md, mm)
		}
	}
}

// Zero zeroes r.
func Zero(r reg.VecPhysical) { VXORPS(r, r, r) }
