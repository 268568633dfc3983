package reduce

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"unsafe"
)

// TestFusedTrainSameBits checks the fused pipeline of Train (fusedGroups,
// StatsApplyCF) against the unpipelined Train of the same implementation
// and against generic, bit for bit, for every implementation, on shapes
// with runs shorter and longer than a flush segment, groups of one and of
// several channels, a smaller last group, a channel whose pivot is poor,
// and an extreme channel (which keeps its group off the fused path), and
// on batches of several slabs, whose samples the fused groups walk two at
// a time (StatsApplyCFPair): the second stream ending before the first,
// after it, and on the batch's last sample. It counts the fused kernels'
// calls, so that neither path can go untested.
func TestFusedTrainSameBits(t *testing.T) {
	defer func(p, g, nt, f, m int) {
		pipeBytes, pipeGroupBytes, ntBytes, fuseMinRun, pipeMinRun = p, g, nt, f, m
	}(pipeBytes, pipeGroupBytes, ntBytes, fuseMinRun, pipeMinRun)
	ntBytes, fuseMinRun, pipeMinRun = 0, 0, 0
	cases := []struct {
		s     Shape
		group int  // pipeGroupBytes
		pairs bool // the paired kernel must run (one goroutine)
		step  int  // the decades a sample's magnitudes move by from one sample to the next (0: 5)
	}{
		{Shape{N: 70, C: 3, S: 2048}, 1, true, 0},                 // slabs of 32 runs: 0-31 paired with 32-63, 64-69 alone
		{Shape{N: 9, C: 6, S: 16384}, 2 * 9 * 16384 * 4, true, 0}, // slabs of 4: 0-3 with 4-7, then 8; groups of 2
		{Shape{N: 13, C: 5, S: 8192}, 2 * 13 * 8192 * 4, true, 0}, // slabs of 8: 0-4 with 8-12, then 5-7; groups of 2, 2, 1
		{Shape{N: 33, C: 3, S: 2064}, 1, true, 0},                 // slabs of 31: 0-1 with 31-32, then 2-30
		{Shape{N: 14, C: 3, S: 16384}, 1, true, 3},                // slabs of 4: 0-5 with 8-13, then 6-7 (two slabs held back)
		{Shape{N: 14, C: 3, S: 16384}, 1, true, 0},                // the same, the samples five decades apart
		{Shape{N: 28, C: 2, S: 16384}, 1, true, 0},                // slabs of 4: 0-11 with 12-23 (three held back), then 24-27
		{Shape{N: 6, C: 10, S: 1040}, 1, false, 0},
		{Shape{N: 5, C: 7, S: 784}, 3 * 5 * 784 * 4, false, 0},   // groups of 3, 3, 1
		{Shape{N: 3, C: 9, S: 2064}, 2 * 3 * 2064 * 4, false, 0}, // groups of 2, the last of 1
		{Shape{N: 4, C: 5, S: 64}, 1, false, 0},                  // short runs: 16 per flush unit, not fused
		{Shape{N: 5, C: 6, S: 2051}, 1, false, 0},                // unaligned runs: the kernel's heads of every length
		{Shape{N: 3, C: 7, S: 3025}, 2 * 3 * 3025 * 4, false, 0}, // unaligned, groups of 2, three flush segments
		{Shape{N: 4, C: 5, S: 1037}, 1, false, 0},                // unaligned, shorter than FlushCF + head
		{Shape{N: 3, C: 24, S: 2051}, 1, false, 0},               // enough groups that every worker pairs some
	}
	generic := map[int][]float32{}   // case -> y and statistics of the first implementation run, generic
	generic64 := map[int][]float64{} // case -> its float64 statistics
	impls := Impls()
	for ii := len(impls) - 1; ii >= 0; ii-- { // generic first
		name := impls[ii]
		restore, err := Use(name)
		if err != nil {
			t.Fatal(err)
		}
		k := active.Load()
		fusedKernel, pairKernel := k.statsApplyCFNT, k.statsApplyCFNTPair
		var calls, pairCalls atomic.Int64 // the workers call them
		k.statsApplyCFNT = func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32) {
			calls.Add(1)
			fusedKernel(acc, x, pivot, y, xa, p)
		}
		k.statsApplyCFNTPair = func(acc []float64, x []float32, n, pair int, pivot float32, y, xa []float32, p []float32) {
			pairCalls.Add(1)
			pairKernel(acc, x, n, pair, pivot, y, xa, p)
		}
		for ci, tc := range cases {
			s := tc.s
			n := s.Len()
			rng := rand.New(rand.NewPCG(41, uint64(ci))) // the same data for every implementation
			x := make([]float32, n)
			for i := range x {
				// magnitudes from 1e-4 to 1e8, so that the float64 sums round
				// and a change of summation order shows; the samples' ranges
				// move with the sample, so that the slabs' totals differ in
				// magnitude too (where the order of the slabs shows)
				step := cmp.Or(tc.step, 5)
				e := (i/(s.C*s.S)*step + rng.IntN(8-step)) % 13
				x[i] = float32(1e3 + rng.NormFloat64()*math.Pow(10, float64(e-4)))
			}
			gamma, beta := hardChannels(rng, s, x)
			// train returns y with the float32 statistics appended, and the
			// float64 mean and variance they are rounded from.
			train := func(pipe int, run Runner) (out []float32, stats64 []float64) {
				y := make([]float32, n)
				if uintptr(unsafe.Pointer(&y[0]))%ntAlign != 0 {
					t.Fatalf("y is not %d-byte aligned: the test would miss the non-temporal path", ntAlign)
				}
				stats := make([]float32, 3*s.C)
				pipeBytes, pipeGroupBytes = pipe, tc.group
				Train(&TrainArgs{Y: y, X: x, Shape: s, Gamma: gamma, Beta: beta, Eps: 1e-5, Run: run,
					Mean: stats[:s.C], Var: stats[s.C : 2*s.C], InvStd: stats[2*s.C:],
					stats64: func(mean, variance []float64) { stats64 = append(append(stats64, mean...), variance...) }})
				return append(y, stats...), stats64
			}
			want, want64 := train(maxInt, nil)
			var got []float32
			var got64 []float64
			for _, run := range []Runner{limitedRunner{3}, limitedRunner{2}, nil} {
				before, pairsBefore := calls.Load(), pairCalls.Load()
				got, got64 = train(0, run)
				// With workers the tiny groups of these shapes may leave no
				// part two groups to pair; the bits must match all the same.
				if (run == nil || s.C >= 24) && s.S >= 128 && calls.Load() == before && !tc.pairs {
					t.Errorf("%s %v, %v: the fused kernel never ran", name, s, run)
				}
				if run == nil && tc.pairs && (pairCalls.Load() == pairsBefore || calls.Load() == before) {
					t.Errorf("%s %v: the paired fused kernel ran %d times, the single one %d", name, s, pairCalls.Load()-pairsBefore, calls.Load()-before)
				}
				if i := sameBits(got, want); i >= 0 {
					t.Errorf("%s %v, %v: fused output %d (y, then the statistics) = %v, unpipelined %v", name, s, run, i, got[i], want[i])
				}
				if i := sameBits64(got64, want64); i >= 0 {
					t.Errorf("%s %v, %v: fused float64 statistic %d = %v, unpipelined %v", name, s, run, i, got64[i], want64[i])
				}
			}
			if g, ok := generic[ci]; !ok {
				generic[ci], generic64[ci] = got, got64
			} else if i := sameBits(got, g); i >= 0 {
				t.Errorf("%s %v: fused output %d = %v, generic %v", name, s, i, got[i], g[i])
			} else if i := sameBits64(got64, generic64[ci]); i >= 0 {
				t.Errorf("%s %v: fused float64 statistic %d = %v, generic %v", name, s, i, got64[i], generic64[ci][i])
			}
		}
		k.statsApplyCFNT, k.statsApplyCFNTPair = fusedKernel, pairKernel
		restore()
	}
}

// TestFusedTrainCachedSameBits checks Train's fused pipeline with y through
// the cache (fusedRun with StatsApplyCF's ordinary-store form) against
// the unpipelined Train of generic, bit for bit (y, the statistics and
// their float64 values), for every implementation on 1 to 3 workers: runs
// shorter and longer than a flush segment and of unaligned lengths,
// groups of one and of several channels and a smaller last group,
// batches of several slabs, a channel whose pivot is poor, an extreme
// channel (which keeps its group off the fused kernel), and y in place
// over x. It counts the kernel's calls on one goroutine, so that the path
// cannot go untested.
func TestFusedTrainCachedSameBits(t *testing.T) {
	defer func(p, g, c, nt, m int) {
		pipeBytes, pipeGroupBytes, cachedGroupBytes, ntBytes, pipeMinRun = p, g, c, nt, m
	}(pipeBytes, pipeGroupBytes, cachedGroupBytes, ntBytes, pipeMinRun)
	ntBytes, pipeMinRun = math.MaxInt, 0
	cases := []struct {
		s       Shape
		group   int // cachedGroupBytes
		inPlace bool
	}{
		{Shape{N: 8, C: 6, S: 784}, 1, false},
		{Shape{N: 5, C: 7, S: 784}, 3 * 5 * 784 * 4, false}, // groups of 3, 3, 1
		{Shape{N: 200, C: 3, S: 784}, 1, false},             // slabs of 83 runs
		{Shape{N: 3, C: 9, S: 2051}, 2 * 3 * 2051 * 4, false},
		{Shape{N: 4, C: 5, S: 1037}, 1, true},
		{Shape{N: 3, C: 6, S: 3136}, 2 * 3 * 3136 * 4, true},
		{Shape{N: 6, C: 24, S: 600}, 1, false}, // enough groups that every worker fuses some
	}
	rng := rand.New(rand.NewPCG(77, 78))
	for _, tc := range cases {
		s := tc.s
		n := s.Len()
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(1e3 + rng.NormFloat64()*math.Pow(10, float64(rng.IntN(13)-4)))
		}
		gamma, beta := hardChannels(rng, s, x)
		train := func(run Runner) (out []float32, stats64 []float64) {
			y, in := make([]float32, n), x
			if tc.inPlace {
				copy(y, x)
				in = y
			}
			stats := make([]float32, 3*s.C)
			Train(&TrainArgs{Y: y, X: in, Shape: s, Gamma: gamma, Beta: beta, Eps: 1e-5, Run: run,
				Mean: stats[:s.C], Var: stats[s.C : 2*s.C], InvStd: stats[2*s.C:],
				stats64: func(mean, variance []float64) { stats64 = append(append(stats64, mean...), variance...) }})
			return append(y, stats...), stats64
		}
		pipeBytes = math.MaxInt
		restore, err := Use("generic")
		if err != nil {
			t.Fatal(err)
		}
		want, want64 := train(nil)
		restore()
		pipeBytes, pipeGroupBytes, cachedGroupBytes = 0, tc.group, tc.group
		for _, name := range Impls() {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			k := active.Load()
			fusedKernel := k.statsApplyCF
			var calls atomic.Int64
			k.statsApplyCF = func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32) {
				calls.Add(1)
				fusedKernel(acc, x, pivot, y, xa, p)
			}
			label := fmt.Sprintf("%s %v in place %v", name, s, tc.inPlace)
			sameOnWorkers(t, label, train, want, want64, &calls, "StatsApplyCF (ordinary stores)")
			k.statsApplyCF = fusedKernel
			restore()
		}
	}
}

// hardChannels makes two channels of a channels-first batch x (values
// around 1e3) hard for Train: channel 1 gets a first value far from the
// others (a poor pivot: the second pass), channel 4, if there is one,
// values of 1e30 (extreme: the float64 path, which keeps its group off
// the fused kernels). It returns random gamma and beta.
func hardChannels(rng *rand.Rand, s Shape, x []float32) (gamma, beta []float32) {
	x[s.S] = 1e3 + 50
	if s.C > 4 {
		for r := range s.N {
			x[(r*s.C+4)*s.S] = float32(1e30 * float64(r%2*2-1))
		}
	}
	gamma, beta = make([]float32, s.C), make([]float32, s.C)
	for c := range gamma {
		gamma[c], beta[c] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	return gamma, beta
}
