// Command backwardapplycf generates the BackwardApplyCF kernel of package asm for one tier:
//
//	go run ./backwardapplycf -isa avx512|avx2 -out ... -stubs ... -pkg asm
package main

import "github.com/simdbn/simdbn/gen/internal/cf"

func main() { cf.Run(cf.BackwardApplyCF) }
