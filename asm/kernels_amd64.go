//go:build amd64 && gc && !purego && !noasm

package asm

import (
	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

// Each tier is enabled only when every feature its instructions need is
// present, by klauspost/cpuid (the full feature list) and by x/sys/cpu (OS
// support and the GODEBUG=cpu.avx512f=off style switches) together.
var (
	avx512 = Impl{
		Name:     "avx512",
		Requires: []string{"AVX", "AVX2", "AVX512F", "AVX512DQ", "AVX512VL", "AVX512BW"},
		Available: cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512VL, cpuid.AVX512BW) &&
			cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW,
	}
	avx2 = Impl{
		Name:      "avx2",
		Requires:  []string{"AVX", "AVX2"},
		Available: cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2) && cpu.X86.HasAVX && cpu.X86.HasAVX2,
	}
)

func impls() []Impl { return []Impl{avx512, avx2} }
