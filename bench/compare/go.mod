module github.com/simdbn/simdbn/bench/compare

go 1.26.0

require github.com/simdbn/simdbn v0.0.0

require (
	github.com/klauspost/cpuid/v2 v2.4.2 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/simdbn/simdbn => ../..
