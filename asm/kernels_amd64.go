//go:build amd64 && gc && !purego && !noasm

package asm

import (
	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

// The tiers. Requires is exactly the union of avo's "// Requires:" lines of
// the tier's generated files (requires_test.go checks it); a tier is
// available only when every one of them is present.
var (
	avx512 = tier("avx512", "AVX", "AVX512DQ", "AVX512F", "MMX+")
	avx2   = tier("avx2", "AVX", "AVX2", "MMX+")
)

func impls() []Impl { return []Impl{avx512, avx2} }

func tier(name string, requires ...string) Impl {
	return Impl{Name: name, Requires: requires, Available: supported(requires)}
}

// feature is one CPU feature as both detectors name it: klauspost/cpuid
// knows every feature, x/sys/cpu adds the check that the OS saves the
// registers and honours GODEBUG=cpu.avx512f=off and the like.
type feature struct {
	id  cpuid.FeatureID
	sys *bool
}

// baseline is true: a feature every amd64 CPU has.
var baseline = true

var features = map[string]feature{
	// avo names SFENCE's extension MMX+; it is part of SSE, which every
	// amd64 CPU has.
	"MMX+":     {cpuid.SSE, &baseline},
	"AVX":      {cpuid.AVX, &cpu.X86.HasAVX},
	"AVX2":     {cpuid.AVX2, &cpu.X86.HasAVX2},
	"FMA3":     {cpuid.FMA3, &cpu.X86.HasFMA},
	"AVX512F":  {cpuid.AVX512F, &cpu.X86.HasAVX512F},
	"AVX512DQ": {cpuid.AVX512DQ, &cpu.X86.HasAVX512DQ},
	"AVX512BW": {cpuid.AVX512BW, &cpu.X86.HasAVX512BW},
	"AVX512VL": {cpuid.AVX512VL, &cpu.X86.HasAVX512VL},
}

// supported reports whether both detectors find every named feature; an
// unknown name is never supported.
func supported(names []string) bool {
	for _, n := range names {
		f, ok := features[n]
		if !ok || !cpuid.CPU.Supports(f.id) || !*f.sys {
			return false
		}
	}
	return true
}
