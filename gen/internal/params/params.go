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
	ys = []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7, reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15}
	xs = []reg.VecPhysical{reg.X0, reg.X1, reg.X2, reg.X3, reg.X4, reg.X5, reg.X6, reg.X7, reg.X8, reg.X9, reg.X10, reg.X11, reg.X12, reg.X13, reg.X14, reg.X15}
)

// Half is the register of half the width of r: the ymm of a zmm, the xmm
// of a ymm.
func Half(r reg.VecPhysical) reg.VecPhysical {
	if r.Size() == 64 {
		return ys[r.PhysicalIndex()]
	}
	return xs[r.PhysicalIndex()]
}
