// Command backwardsumsapplycf generates the BackwardSumsApplyCF kernel of
// package asm (Backward's sums of one channels-first run and dx of
// another in one loop) for one tier:
//
//	go run ./backwardsumsapplycf -isa avx512|avx2 -out ... -stubs ... -pkg asm
package main

import "github.com/simdbn/simdbn/gen/internal/cf"

func main() { cf.Run(cf.BackwardSumsApplyCF) }
