package reduce

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestCarryMatchesChansPath runs Train, Backward, Infer and MeanVar with
// carryCF on and off (off, MeanVar walks in address order), under every implementation and on one and three
// workers, and compares every output bit for bit. It counts the Carry
// kernels' calls, so that the carry path cannot go untested.
func TestCarryMatchesChansPath(t *testing.T) {
	defer func(m, c int) { carryOn, memOrderBytes, carryChunkBytes = true, m, c }(memOrderBytes, carryChunkBytes)
	// Without carryCF the statistics walk in address order (the path that
	// batches of memOrderBytes take), with it through carryCF; its channel
	// groups grow to carryMinChunk per sample, as large batches' do.
	memOrderBytes, carryChunkBytes = 0, 0
	rng := rand.New(rand.NewPCG(41, 42))
	var shapes []Shape
	wantCarry := map[Shape]bool{}
	for _, tc := range []struct {
		s     Shape
		carry bool // whether carryCF serves it
	}{
		{Shape{N: 41, C: 70, S: 49}, true},  // five blocks, flushes inside them
		{Shape{N: 41, C: 5, S: 33}, true},   // group 31
		{Shape{N: 300, C: 130, S: 7}, true}, // more channels than carryChans
		{Shape{N: 17, C: 9, S: 100}, true},  // group 10
		{Shape{N: 12, C: 3, S: 127}, true},  // group 8, the longest run carried
		{Shape{N: 1500, C: 2, S: 50}, true}, // slabs of 1300 and 200 runs
		{Shape{N: 9, C: 70, S: 49}, true},   // a flush per channel: Chans groups, but MeanVar of a "large" batch carries (memOrderBytes is 0 here)
		{Shape{N: 8, C: 40, S: 49}, false},  // carryRuns samples
		{Shape{N: 20, C: 3, S: 128}, false}, // runs of carryMaxRun
		{Shape{N: 16, C: 2, S: 49, Layout: ChannelsLast}, false},
	} {
		shapes = append(shapes, tc.s)
		wantCarry[tc.s] = tc.carry
	}
	for _, name := range Impls() {
		restore, err := Use(name)
		if err != nil {
			t.Fatal(err)
		}
		k := active.Load()
		stats, back := k.statsCFCarry, k.backwardCFCarry
		var calls atomic.Int64 // the kernels run on the pool's workers too
		k.statsCFCarry = func(out, acc []float64, part, x []float32, nch, chStride, nruns, runLen, stride, group, phase, end int, pivot []float32) {
			calls.Add(1)
			stats(out, acc, part, x, nch, chStride, nruns, runLen, stride, group, phase, end, pivot)
		}
		k.backwardCFCarry = func(out, acc []float64, part, dy, x []float32, nch, chStride, nruns, runLen, stride, group, phase, end int, mean []float32) {
			calls.Add(1)
			back(out, acc, part, dy, x, nch, chStride, nruns, runLen, stride, group, phase, end, mean)
		}
		for _, s := range shapes {
			x, dy, gamma, beta := spreadBatch(rng, s)
			for _, run := range []Runner{nil, Pool(3)} {
				calls.Store(0)
				carryOn = false
				want := runAll(s, x, dy, gamma, beta, run)
				if n := calls.Load(); n != 0 {
					t.Fatalf("%s %v: %d Carry calls with carryOn false", name, s, n)
				}
				carryOn = true
				got := runAll(s, x, dy, gamma, beta, run)
				if n := calls.Load(); (n > 0) != wantCarry[s] {
					t.Errorf("%s %v: %d Carry calls; want them: %v", name, s, n, wantCarry[s])
				}
				for what, pair := range map[string][2][]float32{"y": {got.y, want.y}, "mean": {got.mean, want.mean},
					"var": {got.vr, want.vr}, "invstd": {got.inv, want.inv}, "running": {append(got.rm, got.rv...), append(want.rm, want.rv...)},
					"dx": {got.dx, want.dx}, "dgamma": {got.dg, want.dg}, "dbeta": {got.db, want.db}, "meanvar": {got.mv, want.mv}} {
					if i := sameBits(pair[0], pair[1]); i >= 0 {
						t.Errorf("%s %v: %s[%d] = %v with carryCF, %v without", name, s, what, i, pair[0][i], pair[1][i])
					}
				}
				if i := sameBits64(got.f64, want.f64); i >= 0 {
					t.Errorf("%s %v: float64 statistic or gradient %d = %v with carryCF, %v without", name, s, i, got.f64[i], want.f64[i])
				}
			}
		}
		k.statsCFCarry, k.backwardCFCarry = stats, back
		restore()
	}
}
