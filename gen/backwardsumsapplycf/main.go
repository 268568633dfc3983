// Command backwardsumsapplycf generates the BackwardSumsApplyCF kernels of
// package asm (Backward's sums of one channels-first run and dx of
// another in one loop, and its Pair form on two samples at once, storing
// non-temporally) for one tier:
//
//	go run ./backwardsumsapplycf -isa avx512|avx2 -out ... -stubs ... -pkg asm
package main

import "github.com/simdbn/simdbn/gen/internal/cf"

func main() {
	cf.Run(func(isa cf.ISA) {
		cf.BackwardSumsApplyCF(isa)
		cf.BackwardSumsApplyCFPair(isa)
	})
}
