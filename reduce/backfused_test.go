package reduce

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestBackFusedGroups checks Backward's fused pipeline (backFusedGroups:
// BackwardSumsApplyCF, dx through the cache) against the generic path
// unpipelined, bit for bit (dx, dgamma, dbeta, and the float64 dgamma and
// dbeta), with every implementation on 1 to 3 workers: runs shorter and
// longer than a flush segment and of unaligned lengths, groups of one and
// of several channels and a smaller last group (the last sample's apply
// or sums alone), batches of several slabs, a channel with InvStd 0 (the
// float64 path, which keeps its group off the fused kernel), and dx in
// place over dy and over x. It counts the fused kernel's calls on one
// goroutine, so that the path cannot go untested.
func TestBackFusedGroups(t *testing.T) {
	defer func(nt, p, m, g, u int) {
		ntBytes, pipeBytes, pipeMinRun, backGroupBytes, backUnpipedL3 = nt, p, m, g, u
	}(ntBytes, pipeBytes, pipeMinRun, backGroupBytes, backUnpipedL3)
	cases := []struct {
		s       Shape
		group   int // backGroupBytes
		inPlace int // 0: dx apart, 1: over dy, 2: over x
	}{
		{Shape{N: 8, C: 6, S: 784}, 1, 0},                   // groups of 1, runs under FlushCF
		{Shape{N: 5, C: 7, S: 784}, 3 * 2 * 5 * 784 * 4, 0}, // groups of 3, 3, 1
		{Shape{N: 200, C: 3, S: 784}, 1, 0},                 // slabs of 83 runs
		{Shape{N: 3, C: 9, S: 2051}, 2 * 2 * 3 * 2051 * 4, 0},
		{Shape{N: 4, C: 5, S: 1037}, 1, 0},                    // unaligned, just over FlushCF
		{Shape{N: 3, C: 6, S: 3136}, 2 * 2 * 3 * 3136 * 4, 1}, // in place over dy
		{Shape{N: 3, C: 6, S: 3136}, 1, 2},                    // in place over x
		{Shape{N: 6, C: 24, S: 600}, 1, 0},                    // enough groups that every worker fuses some
	}
	rng := rand.New(rand.NewPCG(75, 76))
	for _, tc := range cases {
		s := tc.s
		x, dy, gamma, _ := spreadBatch(rng, s)
		for i := range x {
			// magnitudes from 1e-4 to 1e8, so that the float64 sums round
			// and a change of summation order shows
			x[i] = float32(1e4 + rng.NormFloat64()*math.Pow(10, float64(rng.IntN(13)-4)))
			dy[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(13)-4)))
		}
		smean, sinv := make([]float32, s.C), make([]float32, s.C)
		for c := range smean {
			smean[c], sinv[c] = float32(1e4+rng.NormFloat64()), float32(rng.ExpFloat64())
		}
		if s.C > 4 {
			sinv[4] = 0
		}
		run := func(r Runner) (out []float32, grads64 []float64) {
			out = make([]float32, s.Len()+2*s.C)
			dx, dyIn, xIn := out[:s.Len()], dy, x
			switch tc.inPlace {
			case 1:
				copy(dx, dy)
				dyIn = dx
			case 2:
				copy(dx, x)
				xIn = dx
			}
			Backward(&BackwardArgs{DX: dx, DY: dyIn, X: xIn, Shape: s, Mean: smean, InvStd: sinv, Gamma: gamma, Run: r,
				DGamma: out[s.Len() : s.Len()+s.C], DBeta: out[s.Len()+s.C:],
				grads64: func(dg, db []float64) { grads64 = append(append(grads64, dg...), db...) }})
			return out, grads64
		}
		ntBytes, pipeBytes = math.MaxInt, math.MaxInt
		restore, err := Use("generic")
		if err != nil {
			t.Fatal(err)
		}
		want, want64 := run(nil)
		restore()
		pipeBytes, pipeMinRun, backGroupBytes, backUnpipedL3 = 0, 0, tc.group, 0
		for _, name := range Impls() {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			k := active.Load()
			fusedKernel := k.backwardSumsApplyCF
			var calls atomic.Int64
			k.backwardSumsApplyCF = func(acc []float64, dy, x []float32, mean float32, dx, dya, xa []float32, p []float32) {
				calls.Add(1)
				fusedKernel(acc, dy, x, mean, dx, dya, xa, p)
			}
			label := fmt.Sprintf("%s %v in place %d", name, s, tc.inPlace)
			sameOnWorkers(t, label, run, want, want64, &calls, "BackwardSumsApplyCF")
			k.backwardSumsApplyCF = fusedKernel
			restore()
		}
	}
}

// sameOnWorkers runs run on one, two and three workers and reports where
// its output or its float64 values differ from want and want64 in their
// bits, and, on one goroutine, if the kernel that calls counts never ran
// (the path under test went untested).
func sameOnWorkers(t *testing.T, label string, run func(Runner) ([]float32, []float64), want []float32, want64 []float64, calls *atomic.Int64, kernel string) {
	t.Helper()
	for _, r := range []Runner{nil, limitedRunner{2}, limitedRunner{3}} {
		before := calls.Load()
		got, got64 := run(r)
		if i := sameBits(got, want); i >= 0 {
			t.Errorf("%s, workers=%d: output %d = %v, generic unpipelined %v", label, workersOf(r), i, got[i], want[i])
		}
		if i := sameBits64(got64, want64); i >= 0 {
			t.Errorf("%s, workers=%d: float64 value %d = %v, generic unpipelined %v", label, workersOf(r), i, got64[i], want64[i])
		}
		if r == nil && calls.Load() == before {
			t.Errorf("%s: %s never ran (test setup)", label, kernel)
		}
	}
}
