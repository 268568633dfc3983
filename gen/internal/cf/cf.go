// Package cf builds the channels-first kernels of simdbn (StatsCF,
// BackwardCF, ApplyCF, BackwardApplyCF) with avo, for AVX-512 and AVX2.
// Every kernel reproduces its namesake in package fallback bit for bit: the
// same float32 lanes, the same flush points, the same operation order, and
// even the same first-source operand in each commutative operation as the
// Go compiler emits for the fallback loop, so that NaN payloads match too.
package cf

import (
	"flag"
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// ISA describes one instruction-set tier.
type ISA struct {
	Name   string // "avx512" or "avx2"
	Suffix string // "AVX512" or "AVX2", appended to function names
	W      int    // float32 values per vector
	Z      bool   // AVX-512 (zmm, k masks)
}

var isas = map[string]ISA{
	"avx512": {Name: "avx512", Suffix: "AVX512", W: 16, Z: true},
	"avx2":   {Name: "avx2", Suffix: "AVX2", W: 8},
}

// Lanes is the number of float32 lanes of a channels-first reduction and
// FlushCF its segment length (fallback.Lanes, fallback.FlushCF).
const (
	Lanes   = 32
	FlushCF = 1024
)

// Run parses -isa (avo shares flag.CommandLine), runs gen for that tier and
// writes the outputs named by avo's own flags.
func Run(gen func(ISA)) {
	name := flag.String("isa", "", "instruction set: avx512 or avx2")
	flag.Parse()
	isa, ok := isas[*name]
	if !ok {
		log.Fatalf("unknown -isa %q (want avx512 or avx2)", *name)
	}
	ConstraintExpr("amd64,gc,!purego,!noasm")
	gen(isa)
	Generate()
}

// Vec returns a new virtual vector register of the tier's width.
func (i ISA) Vec() VecVirtual {
	if i.Z {
		return ZMM()
	}
	return YMM()
}

// Bytes is the vector width in bytes.
func (i ISA) Bytes() int { return 4 * i.W }

func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		log.Fatal(err)
	}
	return b.Addr
}

// zero clears a vector register.
func (i ISA) zero(v VecVirtual) {
	if i.Z {
		VPXORD(v, v, v)
	} else {
		VXORPS(v, v, v)
	}
}

// maskTable declares the tail-mask table of a file and returns it.
//
// AVX-512: 32 uint32 entries, entry t = 1<<t - 1; KMOVW of entry t (offset
// 4t) is the mask of the first t lanes of a zmm, and KMOVW at offset 4t+2
// the mask of lanes 16..t-1 of the second zmm of a 32-lane block.
//
// AVX2: 32 int32 -1 followed by 32 int32 0; the 8 int32 at byte offset
// 4*(32-t) + 32*v are the VMASKMOVPS mask of lanes 8v..8v+7 for the first t
// lanes.
func maskTable(isa ISA, prefix string) Mem {
	tab := GLOBL(prefix+isa.Suffix+"Masks", RODATA|NOPTR)
	if isa.Z {
		for t := 0; t < 32; t++ {
			DATA(4*t, U32(uint32(1)<<t-1))
		}
	} else {
		for k := 0; k < 64; k++ {
			v := uint32(0)
			if k < 32 {
				v = 0xffffffff
			}
			DATA(4*k, U32(v))
		}
	}
	return tab
}

func lbl(fn, s string) string { return fn + "_" + s }

func must(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf(format, args...))
	}
}
