package reduce

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// limitedRunner runs tasks on exactly k goroutines, so that a test can
// check results against every worker count, however many cores there are.
type limitedRunner struct{ k int }

func (r limitedRunner) Workers() int { return r.k }
func (r limitedRunner) Run(n int, task func(int)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range r.k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				task(i)
			}
		}()
	}
	wg.Wait()
}

type outputs struct {
	y, mean, vr, inv, rm, rv, dx, dg, db []float32
	mv                                   []float32 // MeanVar's mean, then its variance
	// The float64 values the float32 ones are rounded from: Train's mean
	// and variance, then Backward's dgamma and dbeta. A change of
	// summation order shows in them far more often than after rounding.
	f64 []float64
}

func runAll(s Shape, x, dy, gamma, beta []float32, run Runner) outputs {
	C, n := s.C, s.Len()
	o := outputs{
		y: make([]float32, n), mean: make([]float32, C), vr: make([]float32, C), inv: make([]float32, C),
		rm: make([]float32, C), rv: make([]float32, C), dx: make([]float32, n), dg: make([]float32, C), db: make([]float32, C),
	}
	for c := range o.rv {
		o.rv[c] = 1
	}
	keep := func(a, b []float64) { o.f64 = append(append(o.f64, a...), b...) }
	Train(&TrainArgs{Y: o.y, X: x, Shape: s, Gamma: gamma, Beta: beta, Eps: 1e-5, Momentum: 0.1,
		Mean: o.mean, Var: o.vr, InvStd: o.inv, RunningMean: o.rm, RunningVar: o.rv, Run: run, stats64: keep})
	Backward(&BackwardArgs{DX: o.dx, DY: dy, X: x, Shape: s, Mean: o.mean, InvStd: o.inv, Gamma: gamma,
		DGamma: o.dg, DBeta: o.db, Run: run, grads64: keep})
	yi := make([]float32, n)
	Infer(&InferArgs{Y: yi, X: x, Shape: s, Gamma: gamma, Beta: beta, Mean: o.rm, Variance: o.rv, Eps: 1e-5, Run: run})
	o.y = append(o.y, yi...)
	o.mv = make([]float32, 2*C)
	if err := MeanVar(o.mv[:C], o.mv[C:], x, s); err != nil {
		panic(err)
	}
	return o
}

// spreadBatch makes x, dy, gamma and beta for s: x of magnitudes from 1e-4
// to 1e4 around 1e4 and dy of the same magnitudes around 0, so that the
// float64 sums round and a change of summation order shows.
func spreadBatch(rng *rand.Rand, s Shape) (x, dy, gamma, beta []float32) {
	x, dy = make([]float32, s.Len()), make([]float32, s.Len())
	for i := range x {
		x[i] = float32(1e4 + rng.NormFloat64()*math.Pow(10, float64(rng.IntN(9)-4)))
		dy[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
	}
	gamma, beta = make([]float32, s.C), make([]float32, s.C)
	for c := range gamma {
		gamma[c], beta[c] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	return x, dy, gamma, beta
}

// sameBits64 is sameBits for float64, with any NaN matching any NaN.
func sameBits64(a, b []float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
			return i
		}
	}
	return -1
}

func sameBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestWorkerCountsGiveSameBits checks Train, Backward and Infer with 1 to 8
// workers, and the process pool, against the serial run, bit for bit, on
// shapes that take every path: fused channel groups, slabs of a few
// channels, several slabs per channel, row-major slabs, and a pivot far
// from the mean (the second pass).
//
// The serial reference runs unpipelined and walks slabs channel by
// channel; every other run is pipelined (pipeline.go) wherever a fused
// group allows it and walks slabs in address order (slabMemOrderCF), so
// the test also checks that both keep the summation order.
func TestWorkerCountsGiveSameBits(t *testing.T) {
	defer func(b, g, cg, bg, c, p, m, sc, rs, pa, pm, u, ig int) {
		blockBytes, pipeGroupBytes, cachedGroupBytes, backGroupBytes, chunkElems, pipeBytes, memOrderBytes, serialChans, rowSplitBytes, pipeApplyElems, pipeMinRun, backUnpipedL3, inferGroupBytes = b, g, cg, bg, c, p, m, sc, rs, pa, pm, u, ig
	}(blockBytes, pipeGroupBytes, cachedGroupBytes, backGroupBytes, chunkElems, pipeBytes, memOrderBytes, serialChans, rowSplitBytes, pipeApplyElems, pipeMinRun, backUnpipedL3, inferGroupBytes)
	// Many groups and chunks on small data; the pipelined runs' Train and
	// Backward groups differ in size from the reference's; the row-major
	// per-channel phases spread over the workers too, and the channel
	// blocks of Backward stay on with several workers; the pipelined
	// apply calls take a few samples each (3 of 50 runs of 20 values).
	blockBytes, pipeGroupBytes, cachedGroupBytes, backGroupBytes, chunkElems, serialChans, rowSplitBytes, pipeApplyElems, pipeMinRun = 4096, 9000, 9000, 9000, 1000, 0, 0, 70, 0
	backUnpipedL3 = 0 // Backward's large channels pipelined too
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := []Shape{
		{N: 4, C: 19, S: 300}, {N: 3, C: 2, S: 70000}, {N: 40, C: 6, S: 1500}, {N: 50, C: 9, S: 20}, {N: 300, C: 1, S: 230}, {N: 2, C: 3, S: 150000},
		{N: 7, C: 33, S: 1}, {N: 500, C: 5, S: 30, Layout: ChannelsLast}, {N: 64, C: 70, S: 33, Layout: ChannelsLast},
	}
	for _, s := range shapes {
		x, dy, gamma, beta := spreadBatch(rng, s)
		x[0] = 1e4 + 40 // a far pivot for channel 0: the second pass runs
		pipeBytes, memOrderBytes = maxInt, maxInt
		want := runAll(s, x, dy, gamma, beta, nil)
		pipeBytes, memOrderBytes = 0, 0
		runners := []Runner{Serial, Pool(2), Pool(3)}
		for k := 1; k <= 8; k++ {
			runners = append(runners, limitedRunner{k})
		}
		for ri, run := range runners {
			// Infer of a channels-first batch as channel groups and as
			// samples, by turns.
			inferGroupBytes = []int{0, maxInt}[ri%2]
			got := runAll(s, x, dy, gamma, beta, run)
			for name, pair := range map[string][2][]float32{
				"y": {got.y, want.y}, "mean": {got.mean, want.mean}, "var": {got.vr, want.vr}, "invstd": {got.inv, want.inv},
				"runningMean": {got.rm, want.rm}, "runningVar": {got.rv, want.rv}, "dx": {got.dx, want.dx},
				"dgamma": {got.dg, want.dg}, "dbeta": {got.db, want.db}, "MeanVar": {got.mv, want.mv},
			} {
				if i := sameBits(pair[0], pair[1]); i >= 0 {
					t.Errorf("%v, %d workers: %s[%d] = %v, serial gives %v", s, run.Workers(), name, i, pair[0][i], pair[1][i])
				}
			}
			if i := sameBits64(got.f64, want.f64); i >= 0 {
				t.Errorf("%v, %d workers: float64 statistic or gradient %d = %v, serial gives %v", s, run.Workers(), i, got.f64[i], want.f64[i])
			}
		}
	}
}

func TestWarmPoolAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	defer func(p, m, nt, f, g, cg, bg, u int) {
		pipeBytes, pipeMinRun, ntBytes, fuseMinRun, pipeGroupBytes, cachedGroupBytes, backGroupBytes, backUnpipedL3 = p, m, nt, f, g, cg, bg, u
	}(pipeBytes, pipeMinRun, ntBytes, fuseMinRun, pipeGroupBytes, cachedGroupBytes, backGroupBytes, backUnpipedL3)
	pipeBytes, pipeMinRun, backUnpipedL3 = 0, 0, 0 // the pipelined groups too
	for _, s := range []Shape{{N: 8, C: 3, S: 5000}, {N: 8, C: 40, S: 700}, {N: 300, C: 20, S: 7, Layout: ChannelsLast}, {N: 9, C: 16, S: 16384}} {
		if s.S == 16384 {
			// Non-temporal stores and groups of one channel: the paired
			// pipelined groups (three slabs a channel) and the four-way
			// normalization.
			ntBytes, fuseMinRun, pipeGroupBytes, cachedGroupBytes, backGroupBytes = 0, 0, 1, 1, 1
		}
		n, C := s.Len(), s.C
		x, y, dy := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(i % 13)
			dy[i] = float32(i%7) - 3
		}
		mean, inv, rm, rv := make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C)
		tr := &TrainArgs{Y: y, X: x, Shape: s, Eps: 1e-5, Mean: mean, InvStd: inv, Run: Pool(2)}
		in := &InferArgs{Y: y, X: x, Shape: s, Mean: rm, Variance: rv, Eps: 1e-5, Run: Pool(2)}
		bw := &BackwardArgs{DX: y, DY: dy, X: x, Shape: s, Mean: mean, InvStd: inv, Run: Pool(2)}
		Train(tr)
		Infer(in)
		Backward(bw)
		for name, f := range map[string]func(){"Train": func() { Train(tr) }, "Infer": func() { Infer(in) }, "Backward": func() { Backward(bw) }} {
			if a := testing.AllocsPerRun(20, f); a != 0 {
				t.Errorf("%s %v with a warm pool: %v allocations per call", name, s, a)
			}
		}
	}
}

// TestFastRowsMatchesGeneralPath checks that the one-loop paths of Train
// and Backward for row-major batches, and the several-channel parameter
// kernels (TrainParamsRows, BackParamsRows) wherever they serve, give the
// bits of the general, channel-by-channel paths. It counts the kernels'
// successful calls, so that the fast paths cannot go untested.
func TestFastRowsMatchesGeneralPath(t *testing.T) {
	defer func() { fastRows = true }()
	k := active.Load()
	trainParams, backParams := k.trainParamsRows, k.backParamsRows
	defer func() { k.trainParamsRows, k.backParamsRows = trainParams, backParams }()
	var fastTrain, fastBack int
	k.trainParamsRows = func(sum, sq, inv []float64, piv, gamma, beta, hi, lo, a, b []float32, m, eps float64, tiny bool) bool {
		ok := trainParams(sum, sq, inv, piv, gamma, beta, hi, lo, a, b, m, eps, tiny)
		if ok {
			fastTrain++
		}
		return ok
	}
	k.backParamsRows = func(sdy, dot, res, dgamma []float64, invstd, gamma, lo, k2, k3, k1 []float32, m float64) bool {
		ok := backParams(sdy, dot, res, dgamma, invstd, gamma, lo, k2, k3, k1, m)
		if ok {
			fastBack++
		}
		return ok
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for _, tc := range []struct {
		s    Shape
		fast bool // the data lets both kernels serve (a poor pivot keeps 7x33x5's Train off)
	}{
		{Shape{N: 256, C: 1024, S: 1}, true}, // channel-blocked Backward
		{Shape{N: 7, C: 33, S: 5, Layout: ChannelsLast}, false},
		{Shape{N: 2, C: 5, S: 1}, false},
		{Shape{N: 8, C: 70, S: 49}, true}, // channels first: fused channel groups
		{Shape{N: 3, C: 20, S: 5}, true},
	} {
		s := tc.s
		fastTrain, fastBack = 0, 0
		x, dy, gamma, beta := spreadBatch(rng, s)
		var outs [2]outputs
		for i, fast := range []bool{true, false} {
			fastRows = fast
			outs[i] = runAll(s, x, dy, gamma, beta, nil)
		}
		for name, pair := range map[string][2][]float32{"y": {outs[0].y, outs[1].y}, "mean": {outs[0].mean, outs[1].mean},
			"var": {outs[0].vr, outs[1].vr}, "invstd": {outs[0].inv, outs[1].inv},
			"dx": {outs[0].dx, outs[1].dx}, "dgamma": {outs[0].dg, outs[1].dg}, "dbeta": {outs[0].db, outs[1].db}} {
			if i := sameBits(pair[0], pair[1]); i >= 0 {
				t.Errorf("%v: %s[%d] = %v on the fast path, %v on the general one", s, name, i, pair[0][i], pair[1][i])
			}
		}
		if i := sameBits64(outs[0].f64, outs[1].f64); i >= 0 {
			t.Errorf("%v: float64 statistic or gradient %d = %v on the fast path, %v on the general one", s, i, outs[0].f64[i], outs[1].f64[i])
		}
		if tc.fast && (fastTrain == 0 || fastBack == 0) {
			t.Errorf("%v: the parameter kernels served %d Train and %d Backward calls; want some of each", s, fastTrain, fastBack)
		}
	}
}

// TestPoolRunsEveryTaskOnce has several goroutines share pools, with
// pauses long enough for the helpers to fall asleep, so that offers are
// taken late, after their call has closed its gate, or after the job was
// reused for a later call. Every task must run exactly once, and have
// finished, when Run returns.
func TestPoolRunsEveryTaskOnce(t *testing.T) {
	callers, calls := 4, 300
	if testing.Short() {
		calls = 60
	}
	var wg sync.WaitGroup
	for g := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			counts := make([]atomic.Int32, 2*maxTasks+5)
			for i := range calls {
				run := Pool(2 + (g+i)%3)
				n := rng.IntN(len(counts) + 1)
				run.Run(n, func(k int) {
					if k%7 == i%7 {
						time.Sleep(time.Duration(k) * time.Microsecond)
					}
					counts[k].Add(1)
				})
				for k := range counts {
					want := int32(0)
					if k < n {
						want = 1
					}
					if c := counts[k].Swap(0); c != want {
						t.Errorf("caller %d, call %d, n = %d: task %d ran %d times when Run returned", g, i, n, k, c)
						return
					}
				}
				if i%10 == 0 {
					time.Sleep(3 * spinWait) // the helpers block
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkPoolRun is the cost of one Run of empty tasks on a warm pool of
// two: the handoff to the helper and back. The floor under it is
// bench.Handoff (go test -bench CoreHandoff ./bench/): one atomic store
// seen by a goroutine polling on the other core, and its answer seen back,
// which on a virtual machine depends on where the host placed the two
// vCPUs (about 0.1 or about 0.45 us, from minute to minute).
func BenchmarkPoolRun(b *testing.B) {
	p := Pool(2)
	var ran atomic.Int64
	for _, n := range []int{2, 8} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			for b.Loop() {
				p.Run(n, func(int) { ran.Add(1) })
			}
		})
	}
}
