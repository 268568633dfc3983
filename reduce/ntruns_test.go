package reduce

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/simdbn/simdbn/asm"
)

// TestNTUnalignedRuns checks the channels-first non-temporal path (ntBytes
// and ntUnalignedMinRun, here lowered) on runs that do not start on a
// 64-byte boundary, whose heads the kernels store the ordinary way:
// Train, Backward (which takes the non-temporal path on such runs), Infer
// and MeanVar with every
// implementation on 1 to 3 workers, against the generic path with ordinary
// stores, bit for bit, on data that takes every rare path: a far pivot
// (the second pass), Train's and Backward's float64 paths, NaN and Inf.
// Backward's NT kernel must have run, and the fused Train kernel (whose
// pipeline needs tensors of pipeBytes) must not have; the NT apply only on
// the short runs (ntShortRuns), for Infer and Train.
func TestNTUnalignedRuns(t *testing.T) {
	defer func(v, r int) { ntBytes, ntUnalignedMinRun = v, r }(ntBytes, ntUnalignedMinRun)
	ntUnalignedMinRun = 1 // the short runs too
	shapes := []Shape{
		{N: 3, C: 6, S: 49},
		{N: 5, C: 6, S: 17},
		{N: 2, C: 7, S: 1023},
		{N: 4, C: 6, S: 3025},
	}
	rng := rand.New(rand.NewPCG(61, 62))
	for _, s := range shapes {
		x, dy, gamma, beta := rareBatchCF(rng, s)
		ntBytes = math.MaxInt
		restore, err := Use("generic")
		if err != nil {
			t.Fatal(err)
		}
		want := runAll(s, x, dy, gamma, beta, nil)
		restore()
		ntBytes = 0
		for _, name := range Impls() {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			k := active.Load()
			back, fused, apply := k.backwardApplyCFNT, k.statsApplyCFNT, k.applyCFNT
			var ntCalls, fusedCalls, applyCalls atomic.Int64 // the workers call the kernels
			k.backwardApplyCFNT = func(dx, dy, x []float32, n, c, s, stride int, p []float32) {
				ntCalls.Add(1)
				back(dx, dy, x, n, c, s, stride, p)
			}
			k.applyCFNT = func(y, x []float32, n, c, s, stride int, p []float32) {
				applyCalls.Add(1)
				apply(y, x, n, c, s, stride, p)
			}
			k.statsApplyCFNT = func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32) {
				fusedCalls.Add(1)
				fused(acc, x, pivot, y, xa, p)
			}
			for _, run := range []Runner{nil, limitedRunner{2}, limitedRunner{3}} {
				got := runAll(s, x, dy, gamma, beta, run)
				compareOutputs(t, s, name+" non-temporal", got, want)
				if i := sameBits64(got.f64, want.f64); i >= 0 {
					t.Errorf("%s %v: float64 statistics [%d] = %v, ordinary stores give %v", name, s, i, got.f64[i], want.f64[i])
				}
			}
			k.backwardApplyCFNT, k.statsApplyCFNT, k.applyCFNT = back, fused, apply
			restore()
			if ntCalls.Load() == 0 || fusedCalls.Load() != 0 {
				t.Errorf("%s %v: %d calls of the NT backward apply, %d of the fused Train kernel (test setup)", name, s, ntCalls.Load(), fusedCalls.Load())
			}
			// Short runs: Infer and Train write them non-temporally too.
			short := s.S >= asm.ShortRunMinCF && s.S < asm.ShortRunMaxCF
			if short != (applyCalls.Load() > 0) {
				t.Errorf("%s %v: %d calls of the NT apply, want them only for runs of %d to %d values", name, s, applyCalls.Load(), asm.ShortRunMinCF, asm.ShortRunMaxCF-1)
			}
		}
	}
}

// rareBatchCF is rareBatch for a channels-first shape of at least 6
// channels.
func rareBatchCF(rng *rand.Rand, s Shape) (x, dy, gamma, beta []float32) {
	n, C, S := s.Len(), s.C, s.S
	x, dy = make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(1e4 + rng.NormFloat64())
		dy[i] = float32(rng.NormFloat64())
	}
	at := func(i, c, j int) int { return (i*C+c)*S + j }
	x[at(0, 1, 0)] = 1e4 + 50 // a far pivot: the second pass
	for i := range s.N {
		for j := range S {
			x[at(i, 2, j)] = float32(rng.NormFloat64() * 1e30) // Train's float64 path
			// Backward's float64 path: an invstd below 2^-120, and a mean of
			// dy beyond 2^120.
			x[at(i, 3, j)] = float32(rng.NormFloat64() * 1e37)
			dy[at(i, 4, j)] = 2e36
		}
	}
	x[at(s.N-1, 5, S/2)] = float32(math.NaN())
	x[at(s.N/2, 0, S-1)] = float32(math.Inf(-1))
	dy[at(0, 5, 0)] = float32(math.Inf(1))
	gamma, beta = make([]float32, C), make([]float32, C)
	for c := range gamma {
		gamma[c], beta[c] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	return x, dy, gamma, beta
}
