// Package asm holds the AVX2 and AVX-512 kernels of simdbn, generated with
// avo by the programs in ../gen (a module of its own, so that importers never
// pull avo). Every kernel has the signature of its namesake in package
// fallback and produces exactly the same bits; see that package's doc for
// the summation order they share.
//
// Everything here but this file (and the tests) is generated:
// <kernel>_<isa>_amd64.s with its stub <kernel>_<isa>_amd64.go, and the
// dispatch table impl.go, impl_amd64.go and impl_noasm.go, which
// ../gen/dispatch writes from the kernels themselves (their stubs for the
// signatures, avo's "// Requires:" lines for the CPU features each tier
// needs). Impls lists the tiers; a tier is Available when
// klauspost/cpuid and golang.org/x/sys/cpu (which honours
// GODEBUG=cpu.avx512f=off and the like) both find every feature.
//
// Under -tags purego (or noasm), on other architectures and with gccgo the
// package is empty: Impls returns nothing and package reduce runs the
// fallback kernels. Normal callers use package bn or reduce, never this one.
//
// Rebuild every generated file from the repository root with
//
//	go generate ./...
package asm

//go:generate go -C ../gen run ./statscf -isa avx512 -out ../asm/statscf_avx512_amd64.s -stubs ../asm/statscf_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./statscf -isa avx2 -out ../asm/statscf_avx2_amd64.s -stubs ../asm/statscf_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardcf -isa avx512 -out ../asm/backwardcf_avx512_amd64.s -stubs ../asm/backwardcf_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardcf -isa avx2 -out ../asm/backwardcf_avx2_amd64.s -stubs ../asm/backwardcf_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./applycf -isa avx512 -out ../asm/applycf_avx512_amd64.s -stubs ../asm/applycf_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./applycf -isa avx2 -out ../asm/applycf_avx2_amd64.s -stubs ../asm/applycf_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardapplycf -isa avx512 -out ../asm/backwardapplycf_avx512_amd64.s -stubs ../asm/backwardapplycf_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardapplycf -isa avx2 -out ../asm/backwardapplycf_avx2_amd64.s -stubs ../asm/backwardapplycf_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./statsapplycf -isa avx512 -out ../asm/statsapplycf_avx512_amd64.s -stubs ../asm/statsapplycf_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./statsapplycf -isa avx2 -out ../asm/statsapplycf_avx2_amd64.s -stubs ../asm/statsapplycf_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardsumsapplycf -isa avx512 -out ../asm/backwardsumsapplycf_avx512_amd64.s -stubs ../asm/backwardsumsapplycf_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardsumsapplycf -isa avx2 -out ../asm/backwardsumsapplycf_avx2_amd64.s -stubs ../asm/backwardsumsapplycf_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./statscl -isa avx512 -out ../asm/statscl_avx512_amd64.s -stubs ../asm/statscl_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./statscl -isa avx2 -out ../asm/statscl_avx2_amd64.s -stubs ../asm/statscl_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardcl -isa avx512 -out ../asm/backwardcl_avx512_amd64.s -stubs ../asm/backwardcl_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardcl -isa avx2 -out ../asm/backwardcl_avx2_amd64.s -stubs ../asm/backwardcl_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./applycl -isa avx512 -out ../asm/applycl_avx512_amd64.s -stubs ../asm/applycl_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./applycl -isa avx2 -out ../asm/applycl_avx2_amd64.s -stubs ../asm/applycl_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardapplycl -isa avx512 -out ../asm/backwardapplycl_avx512_amd64.s -stubs ../asm/backwardapplycl_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./backwardapplycl -isa avx2 -out ../asm/backwardapplycl_avx2_amd64.s -stubs ../asm/backwardapplycl_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./trainparams -isa avx512 -out ../asm/trainparams_avx512_amd64.s -stubs ../asm/trainparams_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./trainparams -isa avx2 -out ../asm/trainparams_avx2_amd64.s -stubs ../asm/trainparams_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./backparams -isa avx512 -out ../asm/backparams_avx512_amd64.s -stubs ../asm/backparams_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./backparams -isa avx2 -out ../asm/backparams_avx2_amd64.s -stubs ../asm/backparams_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./addphases -isa avx512 -out ../asm/addphases_avx512_amd64.s -stubs ../asm/addphases_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./addphases -isa avx2 -out ../asm/addphases_avx2_amd64.s -stubs ../asm/addphases_avx2_amd64.go -pkg asm
//go:generate go -C ../gen run ./inferscale -isa avx512 -out ../asm/inferscale_avx512_amd64.s -stubs ../asm/inferscale_avx512_amd64.go -pkg asm
//go:generate go -C ../gen run ./inferscale -isa avx2 -out ../asm/inferscale_avx2_amd64.s -stubs ../asm/inferscale_avx2_amd64.go -pkg asm

// Last: the dispatch table (impl*.go), read from the kernels above.
//go:generate go -C ../gen run ./dispatch -dir ../asm
