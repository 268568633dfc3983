package reduce

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"unsafe"
)

// TestPairedApply checks pairing: the channels-first element-wise ops over
// two halves (the normalization of four samples or more: four quarters) of
// a batch at once, on non-temporal stores (ntBytes here 0) and runs of
// whole lines. Infer, and Train and Backward on more workers than half
// their channels (their slabs are spread and applyAll runs the
// element-wise op), with every implementation on 1 to 4 workers, against
// the generic path with ordinary stores, bit for bit; batches with no
// sample left over and with one to three (they go alone), and chunkings of
// whole samples, of a few channels and of pieces of a run. The Quad kernel
// must have run on every batch of four samples or more, the normalization's
// Pair kernel on batches of two and three, the backward Pair kernel on
// every batch of two or more, and none on a single sample.
func TestPairedApply(t *testing.T) {
	defer func(v, e int) { ntBytes, chunkElems = v, e }(ntBytes, chunkElems)
	cases := []struct {
		s     Shape
		elems int // chunkElems
	}{
		{Shape{N: 2, C: 3, S: 16}, 1 << 18},
		{Shape{N: 3, C: 5, S: 48}, 1 << 18},
		{Shape{N: 4, C: 2, S: 3136}, 1 << 18},
		{Shape{N: 5, C: 3, S: 1040}, 1 << 18},
		{Shape{N: 4, C: 6, S: 64}, 100},    // a channel per call
		{Shape{N: 3, C: 2, S: 3136}, 1000}, // pieces of runs
		{Shape{N: 1, C: 4, S: 256}, 1 << 18},
		{Shape{N: 7, C: 2, S: 112}, 1 << 18}, // quarters of one sample, three left
		{Shape{N: 10, C: 3, S: 48}, 100},     // quarters of two samples, two left; a channel per call
		{Shape{N: 8, C: 2, S: 3136}, 1000},   // pieces of runs in quarters
	}
	rng := rand.New(rand.NewPCG(71, 72))
	for _, tc := range cases {
		s := tc.s
		chunkElems = tc.elems
		x, dy, gamma, beta := spreadBatch(rng, s)
		x[len(x)/3] = float32(math.NaN())
		mean, variance := make([]float32, s.C), make([]float32, s.C)
		for c := range mean {
			mean[c], variance[c] = float32(1e4+rng.NormFloat64()), float32(rng.ExpFloat64())
		}
		smean, sinv := make([]float32, s.C), make([]float32, s.C)
		for c := range smean {
			smean[c], sinv[c] = float32(1e4+rng.NormFloat64()), float32(rng.ExpFloat64())
		}
		run := func(r Runner) (yi, yt, dx []float32) {
			yi, yt, dx = aligned32(s.Len()), aligned32(s.Len()), aligned32(s.Len())
			Infer(&InferArgs{Y: yi, X: x, Shape: s, Gamma: gamma, Beta: beta, Mean: mean, Variance: variance, Eps: 1e-5, Run: r})
			Train(&TrainArgs{Y: yt, X: x, Shape: s, Gamma: gamma, Beta: beta, Eps: 1e-5, Run: r})
			Backward(&BackwardArgs{DX: dx, DY: dy, X: x, Shape: s, Mean: smean, InvStd: sinv, Gamma: gamma, Run: r})
			return yi, yt, dx
		}
		ntBytes = math.MaxInt
		restore, err := Use("generic")
		if err != nil {
			t.Fatal(err)
		}
		wantI, wantT, wantB := run(limitedRunner{s.C})
		restore()
		ntBytes = 0
		for _, name := range Impls() {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			k := active.Load()
			pair, backPair, quad := k.applyCFNTPair, k.backwardApplyCFNTPair, k.applyCFNTQuad
			var calls, backCalls, quadCalls atomic.Int64 // the workers call the kernels
			k.applyCFNTPair = func(y, x []float32, n, c, s, stride, p int, par []float32) {
				calls.Add(1)
				pair(y, x, n, c, s, stride, p, par)
			}
			k.applyCFNTQuad = func(y, x []float32, n, c, s, stride, p int, par []float32) {
				quadCalls.Add(1)
				quad(y, x, n, c, s, stride, p, par)
			}
			k.backwardApplyCFNTPair = func(dx, dy, x []float32, n, c, s, stride, p int, par []float32) {
				backCalls.Add(1)
				backPair(dx, dy, x, n, c, s, stride, p, par)
			}
			for _, r := range []Runner{nil, limitedRunner{2}, limitedRunner{3}, limitedRunner{4}} {
				what := fmt.Sprintf("%s %v workers=%d chunkElems=%d", name, s, workersOf(r), tc.elems)
				gotI, gotT, gotB := run(r)
				if i := sameBits(gotI, wantI); i >= 0 {
					t.Errorf("%s: Infer y[%d] = %v, want %v", what, i, gotI[i], wantI[i])
				}
				if i := sameBits(gotT, wantT); i >= 0 {
					t.Errorf("%s: Train y[%d] = %v, want %v", what, i, gotT[i], wantT[i])
				}
				if i := sameBits(gotB, wantB); i >= 0 {
					t.Errorf("%s: Backward dx[%d] = %v, want %v", what, i, gotB[i], wantB[i])
				}
			}
			k.applyCFNTPair, k.backwardApplyCFNTPair, k.applyCFNTQuad = pair, backPair, quad
			restore()
			if (s.N == 2 || s.N == 3) != (calls.Load() > 0) || (s.N >= 4) != (quadCalls.Load() > 0) || (s.N >= 2) != (backCalls.Load() > 0) {
				t.Errorf("%s %v: %d, %d and %d calls of ApplyCFNTPair, ApplyCFNTQuad and BackwardApplyCFNTPair (test setup)",
					name, s, calls.Load(), quadCalls.Load(), backCalls.Load())
			}
		}
	}
}

func workersOf(r Runner) int {
	if r == nil {
		return 1
	}
	return r.Workers()
}

// aligned32 returns n float32 starting on a 64-byte boundary, as the
// non-temporal paths of whole lines need.
func aligned32(n int) []float32 {
	b := make([]float32, n+16)
	skip := int((64 - uintptr(unsafe.Pointer(&b[0]))%64) % 64 / 4)
	return b[skip : skip+n]
}

// TestBackPairedGroups checks Backward's pipelined groups on paired
// samples (backPairGroups: BackwardApplyCFPair and BackwardCFPair) against
// the generic path unpipelined, bit for bit (dx, dgamma, dbeta), with every
// implementation on 1 to 3 workers, and their float64 dgamma and dbeta:
// batches of several slabs whose second
// sample ends before the first, after it, and on the batch's last sample,
// groups of one and two channels and a smaller last group, and a channel
// with InvStd 0 (the float64 path, which keeps its group off the pairs).
// The paired reduction must run on one goroutine.
func TestBackPairedGroups(t *testing.T) {
	defer func(nt, p, m, g, u int) {
		ntBytes, pipeBytes, pipeMinRun, backGroupBytes, backUnpipedL3 = nt, p, m, g, u
	}(ntBytes, pipeBytes, pipeMinRun, backGroupBytes, backUnpipedL3)
	cases := []struct {
		s        Shape
		group    int  // backGroupBytes
		dyScaled bool // dy's magnitudes move with the sample too
	}{
		{Shape{N: 70, C: 3, S: 2048}, 1, false},                     // slabs of 32: 0-31 paired with 32-63, then 64-69
		{Shape{N: 9, C: 6, S: 16384}, 2 * 2 * 9 * 16384 * 4, false}, // slabs of 4: 0-3 with 4-7, then 8; groups of 2
		{Shape{N: 13, C: 5, S: 8192}, 2 * 2 * 13 * 8192 * 4, false}, // slabs of 8: 0-4 with 8-12, then 5-7; groups of 2, 2, 1
		{Shape{N: 200, C: 2, S: 784}, 1, false},                     // runs under FlushCF, slabs of 83: 0-82 with 83-165, then 166-199
		{Shape{N: 14, C: 3, S: 16384}, 1, false},                    // slabs of 4: 0-5 with 8-13, then 6-7 (two slabs held back)
		{Shape{N: 28, C: 2, S: 16384}, 1, false},                    // slabs of 4: 0-11 with 12-23 (three held back), then 24-27
		{Shape{N: 14, C: 3, S: 16384}, 1, true},                     // the same two, dy scaled by sample too
		{Shape{N: 28, C: 2, S: 16384}, 1, true},
	}
	rng := rand.New(rand.NewPCG(73, 74))
	for _, tc := range cases {
		s := tc.s
		x, dy, gamma, _ := spreadBatch(rng, s)
		for i := range x {
			// magnitudes from 1e-4 to 1e8, so that the float64 sums round
			// and a change of summation order shows; the samples' ranges
			// move with the sample, so that the slabs' totals differ in
			// magnitude too (where the order of the slabs shows)
			e := (i/(s.C*s.S)*5 + rng.IntN(3)) % 13
			x[i] = float32(1e4 + rng.NormFloat64()*math.Pow(10, float64(e-4)))
			ed := rng.IntN(13)
			if tc.dyScaled {
				ed = (e + rng.IntN(2)) % 13
			}
			dy[i] = float32(rng.NormFloat64() * math.Pow(10, float64(ed-4)))
		}
		smean, sinv := make([]float32, s.C), make([]float32, s.C)
		for c := range smean {
			smean[c], sinv[c] = float32(1e4+rng.NormFloat64()), float32(rng.ExpFloat64())
		}
		if s.C > 4 {
			sinv[4] = 0
		}
		// run returns dx with dgamma and dbeta appended, and the float64
		// dgamma and dbeta they are rounded from (where a change in the
		// order of the slab totals shows).
		run := func(r Runner) (out []float32, grads64 []float64) {
			out = aligned32(s.Len() + 2*s.C)
			Backward(&BackwardArgs{DX: out[:s.Len()], DY: dy, X: x, Shape: s, Mean: smean, InvStd: sinv, Gamma: gamma, Run: r,
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
		ntBytes, pipeBytes, pipeMinRun, backGroupBytes, backUnpipedL3 = 0, 0, 0, tc.group, 0
		for _, name := range Impls() {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			k := active.Load()
			sums := k.backwardCFPair
			var calls atomic.Int64
			k.backwardCFPair = func(acc []float64, dy, x []float32, n, pair int, mean float32) {
				calls.Add(1)
				sums(acc, dy, x, n, pair, mean)
			}
			for _, r := range []Runner{nil, limitedRunner{2}, limitedRunner{3}} {
				before := calls.Load()
				got, got64 := run(r)
				if i := sameBits(got, want); i >= 0 {
					t.Errorf("%s %v workers=%d: output %d (dx, dgamma, dbeta) = %v, generic unpipelined %v", name, s, workersOf(r), i, got[i], want[i])
				}
				if i := sameBits64(got64, want64); i >= 0 {
					t.Errorf("%s %v workers=%d: float64 gradient %d (dgamma, dbeta) = %v, generic unpipelined %v", name, s, workersOf(r), i, got64[i], want64[i])
				}
				if r == nil && calls.Load() == before {
					t.Errorf("%s %v: BackwardCFPair never ran (test setup)", name, s)
				}
			}
			k.backwardCFPair = sums
			restore()
		}
	}
}

// TestAddHeldInSlabOrder checks that the slab totals the paired groups
// hold back reach a channel's totals in slab order: from 1 (the first
// sample's slabs), totals 0.5, 1e16 and 1 in that order give a float64 sum
// that each of the five other orders misses.
func TestAddHeldInSlabOrder(t *testing.T) {
	w := &workspace{}
	w.geo.slabs = 3
	w.sum, w.sq, w.aux = []float64{1, 1}, []float64{1, 1}, []float64{1, 1}
	held := make([]float64, 2*3*w.geo.slabs)
	for j := range 2 { // channel j of the group
		for i, v := range []float64{0.5, 1e16, 1} { // slab i's three totals
			held[j*3*w.geo.slabs+3*i], held[j*3*w.geo.slabs+3*i+1], held[j*3*w.geo.slabs+3*i+2] = v, v, v
		}
	}
	w.addHeld(held, 0, 2, 3)
	one, half, big := 1.0, 0.5, 1e16 // variables: Go folds constant expressions exactly
	want := ((one + half) + big) + one
	for c := range 2 {
		if w.sum[c] != want || w.sq[c] != want || w.aux[c] != want {
			t.Errorf("channel %d: totals %v, %v, %v; want %v each (slab order)", c, w.sum[c], w.sq[c], w.aux[c], want)
		}
	}
}
