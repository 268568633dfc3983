// Command statscf generates the StatsCF kernel of package asm for one tier:
//
//	go run ./statscf -isa avx512|avx2 -out ... -stubs ... -pkg asm
package main

import "github.com/simdbn/simdbn/gen/internal/cf"

func main() { cf.Run(cf.StatsCF) }
