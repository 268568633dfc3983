// Command statsapplycf generates the StatsApplyCF kernel of package asm
// (the statistics of one channels-first run and the normalization of
// another in one loop) for one tier:
//
//	go run ./statsapplycf -isa avx512|avx2 -out ... -stubs ... -pkg asm
package main

import "github.com/simdbn/simdbn/gen/internal/cf"

func main() {
	cf.Run(func(isa cf.ISA) {
		cf.StatsApplyCF(isa)
		cf.StatsApplyCFPair(isa)
	})
}
