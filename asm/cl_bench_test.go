package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// BenchmarkCL times the channels-last kernels of every available tier and
// of fallback on about 1 MB and 64 MB of x, for C = 64, 128, 512 and 1024
// (the reductions also in their Prefetch and Cached forms; fallback has
// none, and runs its plain kernels under those names). The MB/s
// figure counts every byte of the row data read and written (x; dy; y or
// dx), not the per-channel vectors.
//
//	go test -run XXX -bench CL ./asm/
func BenchmarkCL(b *testing.B) {
	tiers := []asm.Impl{{
		Name: "fallback", Available: true,
		StatsCL: fallback.StatsCL, BackwardCL: fallback.BackwardCL,
		StatsCLPrefetch: fallback.StatsCL, BackwardCLPrefetch: fallback.BackwardCL,
		StatsCLCached: fallback.StatsCL, BackwardCLCached: fallback.BackwardCL,
		ApplyCL: fallback.ApplyCL, BackwardApplyCL: fallback.BackwardApplyCL,
	}}
	for _, im := range asm.Impls() {
		if im.Available && im.StatsCL != nil {
			tiers = append(tiers, im)
		}
	}
	for _, mb := range []int{1, 64} {
		for _, C := range []int{64, 128, 512, 1024} {
			rows := mb << 20 / 4 / C
			n := rows * C
			rng := rand.New(rand.NewPCG(1, 1))
			x, dy, y := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64()) + 10
				dy[i] = float32(rng.NormFloat64())
			}
			p := make([]float32, 5*C)
			for i := range p {
				p[i] = float32(rng.NormFloat64())
			}
			acc := make([]float64, 3*fallback.Phases*C)
			tmp := make([]float32, fallback.TmpCL(3, C))
			for _, im := range tiers {
				pre := fmt.Sprintf("%dMB/C=%d/", mb, C)
				kernels := []struct {
					name  string
					bytes int // per element: the row data read and written
					run   func()
				}{
					{"StatsCL", 4, func() { im.StatsCL(acc, x, rows, C, C, p, tmp) }},
					{"BackwardCL", 8, func() { im.BackwardCL(acc, dy, x, rows, C, C, p, tmp) }},
					{"StatsCLPrefetch", 4, func() { im.StatsCLPrefetch(acc, x, rows, C, C, p, tmp) }},
					{"BackwardCLPrefetch", 8, func() { im.BackwardCLPrefetch(acc, dy, x, rows, C, C, p, tmp) }},
					{"StatsCLCached", 4, func() { im.StatsCLCached(acc, x, rows, C, C, p, tmp) }},
					{"BackwardCLCached", 8, func() { im.BackwardCLCached(acc, dy, x, rows, C, C, p, tmp) }},
					{"ApplyCL", 8, func() { im.ApplyCL(y, x, rows, C, C, p) }},
					{"BackwardApplyCL", 12, func() { im.BackwardApplyCL(y, dy, x, rows, C, C, p) }},
				}
				for _, k := range kernels {
					b.Run(pre+k.name+"/"+im.Name, func(b *testing.B) {
						b.SetBytes(int64(k.bytes * n))
						for b.Loop() {
							k.run()
						}
					})
				}
			}
		}
	}
}
