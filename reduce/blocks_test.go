package reduce

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowBlocksMatchUnblocked checks that the channel-blocked Backward
// gives the bits of the unblocked one, with every implementation, several
// worker counts and in place, on data that takes every rare path: the
// float64 path, NaN and Inf (runAll checks Train and Infer too, which are
// not blocked).
func TestRowBlocksMatchUnblocked(t *testing.T) {
	defer func(u int) { unblockedBytes = u }(unblockedBytes)
	unblockedBytes = 0 // blocks at every size here
	defer func(b, m, lm, lc, lb int) {
		blockBytes, minBlockC, blockRows = b, m, true
		llcMinBytes, llcBlockC, llcBlockBytes = lm, lc, lb
	}(blockBytes, minBlockC, llcMinBytes, llcBlockC, llcBlockBytes)
	cases := []struct {
		s          Shape
		blockBytes int // 0: the last-level cache blocks, of 32 channels or a little more
	}{
		{Shape{N: 256, C: 1024, S: 1}, 512 << 10}, // the default sizes
		{Shape{N: 8, C: 512, S: 49, Layout: ChannelsLast}, 512 << 10},
		{Shape{N: 9, C: 70, S: 1}, 2000},                      // blocks of 13 and 8 channels
		{Shape{N: 5, C: 37, S: 3, Layout: ChannelsLast}, 900}, // odd widths, masked tails mid-row
		{Shape{N: 300, C: 600, S: 1}, 96000},                  // three slabs per channel
		{Shape{N: 3, C: 200, S: 2, Layout: ChannelsLast}, 3000},
		{Shape{N: 50, C: 96, S: 1}, 0},                       // three blocks of 32
		{Shape{N: 7, C: 100, S: 5, Layout: ChannelsLast}, 0}, // blocks of 48, 48 and 4
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for _, tc := range cases {
		s := tc.s
		blockBytes, minBlockC = tc.blockBytes, 1
		llcMinBytes, llcBlockC, llcBlockBytes = math.MaxInt, 512, 16<<20
		if tc.blockBytes == 0 {
			minBlockC = 1 << 30
			llcMinBytes, llcBlockC, llcBlockBytes = 0, 32, 1<<30
		}
		blockRows = true
		w := &workspace{}
		w.begin(nil, s)
		if w.rowBlockC() == 0 {
			t.Fatalf("%v: not blocked (test setup)", s)
		}
		x, dy, gamma, beta := rareBatch(rng, s)
		for _, name := range Impls() {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			blockRows = false
			want := runAll(s, x, dy, gamma, beta, nil)
			blockRows = true
			for _, run := range []Runner{nil, limitedRunner{2}, limitedRunner{3}} {
				got := runAll(s, x, dy, gamma, beta, run)
				compareOutputs(t, s, name+" blocked", got, want)
			}
			// In place: dx over dy, and dx over x.
			dyi, xi := append([]float32(nil), dy...), append([]float32(nil), x...)
			Backward(&BackwardArgs{DX: dyi, DY: dyi, X: x, Shape: s, Mean: want.mean, InvStd: want.inv, Gamma: gamma})
			Backward(&BackwardArgs{DX: xi, DY: dy, X: xi, Shape: s, Mean: want.mean, InvStd: want.inv, Gamma: gamma})
			for what, got := range map[string][]float32{"dx over dy": dyi, "dx over x": xi} {
				if i := sameBits(got, want.dx); i >= 0 {
					t.Errorf("%s %v %s: dx[%d] = %v, unblocked gives %v", name, s, what, i, got[i], want.dx[i])
				}
			}
			restore()
		}
	}
}

// rareBatch returns x, dy, gamma and beta for a shape of at least 12
// channels, on which Train and Backward take every rare path: a far pivot
// (the second pass), the float64 paths of both, NaN and Inf.
func rareBatch(rng *rand.Rand, s Shape) (x, dy, gamma, beta []float32) {
	n, C := s.Len(), s.C
	x, dy = make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(1e4 + rng.NormFloat64())
		dy[i] = float32(rng.NormFloat64())
	}
	rows := s.rows()
	set := func(c, r int, v float32) { x[r*C+c] = v }
	for r := range 3 {
		set(3, r, 1e4+50) // a far pivot: the second pass
	}
	for r := range rows {
		set(C-2, r, float32(rng.NormFloat64()*1e30)) // Train's float64 path
		// Backward's float64 path: an invstd below 2^-120, and a mean
		// of dy beyond 2^120.
		set(C-3, r, float32(rng.NormFloat64()*1e37))
		dy[r*C+11] = 2e36
	}
	set(5, rows/2, float32(math.NaN()))
	set(7, rows-1, float32(math.Inf(-1)))
	dy[(rows/3)*C+9] = float32(math.Inf(1))
	gamma, beta = make([]float32, C), make([]float32, C)
	for c := range gamma {
		gamma[c], beta[c] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	return x, dy, gamma, beta
}

// compareOutputs reports every output of runAll whose bits differ between
// got (the path under test, named by what) and want (the reference).
func compareOutputs(t *testing.T, s Shape, what string, got, want outputs) {
	t.Helper()
	for name, pair := range map[string][2][]float32{
		"y": {got.y, want.y}, "mean": {got.mean, want.mean}, "var": {got.vr, want.vr}, "invstd": {got.inv, want.inv},
		"runningMean": {got.rm, want.rm}, "runningVar": {got.rv, want.rv}, "dx": {got.dx, want.dx},
		"dgamma": {got.dg, want.dg}, "dbeta": {got.db, want.db},
	} {
		if i := sameBits(pair[0], pair[1]); i >= 0 {
			t.Errorf("%s %v: %s[%d] = %v, want %v", what, s, name, i, pair[0][i], pair[1][i])
		}
	}
}

// TestLLCBlockWidths checks which batches take the last-level cache blocks
// of a row-major Backward (llcBlockC), and their widths.
func TestLLCBlockWidths(t *testing.T) {
	defer func(u int) { unblockedBytes = u }(unblockedBytes)
	unblockedBytes = 0 // as on a core with less than 2 MB of L2
	cl := func(n, c, sp int) Shape { return Shape{N: n, C: c, S: sp, Layout: ChannelsLast} }
	cases := []struct {
		s    Shape
		run  Runner
		want int
	}{
		{cl(32, 2048, 49), nil, 512},              // x and dy 25.7 MB, blocks of 6.4 MB
		{cl(64, 2048, 49), nil, 512},              // blocks of 12.8 MB
		{cl(48, 1024, 49), nil, 512},              // x and dy 19.3 MB
		{cl(16, 2048, 49), nil, 0},                // x and dy 12.8 MB: below llcMinBytes
		{cl(8, 2048, 49), nil, 160},               // the blocks of blockBytes
		{cl(128, 2048, 49), nil, 0},               // blocks of 25.7 MB: too large
		{cl(32, 1024, 196), nil, 0},               // the same
		{cl(32, 64, 3136), nil, 0},                // one block of 512 would hold every channel
		{Shape{N: 4096, C: 1536, S: 1}, nil, 512}, // channels first with S = 1 is row-major too
		{cl(48, 1100, 49), nil, 560},              // two blocks of a little more than 512
		{cl(32, 2048, 49), limitedRunner{3}, 352}, // six blocks: two per worker
		{Shape{N: 256, C: 1024, S: 1}, nil, 256},  // the blocks of blockBytes, as before
	}
	for _, tc := range cases {
		w := &workspace{}
		w.begin(tc.run, tc.s)
		if got := w.rowBlockC(); got != tc.want {
			t.Errorf("%v workers=%d: rowBlockC() = %d, want %d", tc.s, workersOf(tc.run), got, tc.want)
		}
	}
}

// TestLLCBlocksFullSize runs the last-level cache blocks at their own
// size, non-temporal stores included (24x2048x7x7 channels last: x and
// dy 19.3 MB, blocks of 512 channels), and checks Backward's bits against
// the unblocked pass with every implementation, on one goroutine and two.
func TestLLCBlocksFullSize(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MB of buffers")
	}
	defer func() { blockRows = true }()
	s := Shape{N: 24, C: 2048, S: 49, Layout: ChannelsLast}
	w := &workspace{}
	w.begin(nil, s)
	if got := w.rowBlockC(); got != llcBlockC {
		t.Fatalf("%v: rowBlockC() = %d, want %d (test setup)", s, got, llcBlockC)
	}
	backward := backwardCase(s, rand.New(rand.NewPCG(43, 44)), 3)
	for _, name := range Impls() {
		restore, err := Use(name)
		if err != nil {
			t.Fatal(err)
		}
		blockRows = false
		want := backward(nil)
		blockRows = true
		for _, run := range []Runner{nil, limitedRunner{2}} {
			sameGrads(t, fmt.Sprintf("%s workers=%d", name, workersOf(run)), backward(run), want, "unblocked")
		}
		restore()
	}
}

// TestUnblockedFitL2 checks which row-major Backwards run unblocked because
// their rows are 4 KB and x and dy fit an L2 of 2 MB or more
// (unblockedBytes), or their rows are 2 KB and x and dy fill half of it
// or more and fit it (unblockedRows), and that a smaller L2 keeps every
// block.
func TestUnblockedFitL2(t *testing.T) {
	defer func(u int) { unblockedBytes = u }(unblockedBytes)
	if unblockedL2(1<<20) != 0 || unblockedL2(2<<20) != 2<<20 {
		t.Fatalf("unblockedL2: 1 MB -> %d, 2 MB -> %d; want 0 and 2 MB", unblockedL2(1<<20), unblockedL2(2<<20))
	}
	cl := func(n, c, sp int) Shape { return Shape{N: n, C: c, S: sp, Layout: ChannelsLast} }
	cases := []struct {
		s               Shape
		blocked, before bool // with unblockedBytes = 2 MB, and with 0
	}{
		{Shape{N: 256, C: 1024, S: 1}, false, true},   // x and dy 2 MB: fit
		{cl(128, 1024, 1), false, true},               // 1 MB, channels last alike
		{Shape{N: 512, C: 512, S: 1}, false, true},    // rows of 2 KB, x and dy 2 MB: fit
		{cl(8, 512, 49), false, true},                 // 1.6 MB, channels last alike
		{Shape{N: 256, C: 512, S: 1}, false, true},    // 1 MB: half the L2
		{cl(4, 512, 49), true, true},                  // 0.8 MB: rows of 2 KB keep their blocks
		{Shape{N: 64, C: 2048, S: 1}, true, true},     // and rows of 8 KB
		{Shape{N: 512, C: 1024, S: 1}, true, true},    // 4 MB: blocks (of 128 channels)
		{Shape{N: 1024, C: 1024, S: 1}, false, false}, // 8 MB: too many rows for blocks
	}
	for _, tc := range cases {
		for _, l2 := range []int{2 << 20, 0} {
			unblockedBytes = l2
			w := &workspace{}
			w.begin(nil, tc.s)
			want := tc.blocked
			if l2 == 0 {
				want = tc.before
			}
			if got := w.rowBlockC() != 0; got != want {
				t.Errorf("%v, unblockedBytes %d: blocked %v, want %v", tc.s, l2, got, want)
			}
		}
	}
}

// TestBackGroupSize checks the channels of a pipelined Backward group by
// L2 size (backGroupSize): 2 MB groups below 2 MB of L2, an eighth of the
// L2 from 2 MB, and never less than one channel.
func TestBackGroupSize(t *testing.T) {
	defer func(g int) { backGroupBytes = g }(backGroupBytes)
	cases := []struct {
		l2   int
		s    Shape
		want int
	}{
		{1 << 20, Shape{N: 8, C: 256, S: 784}, 32}, // 2 MB / 50 KB a channel, capped at pipeChannels
		{2 << 20, Shape{N: 8, C: 256, S: 784}, 5},  // 256 KB / 50 KB
		{4 << 20, Shape{N: 8, C: 256, S: 784}, 10}, // 512 KB / 50 KB
		{2 << 20, Shape{N: 32, C: 64, S: 3136}, 1}, // a channel is 803 KB
		{1 << 20, Shape{N: 32, C: 64, S: 3136}, 2}, // 2 MB / 803 KB
		{2 << 20, Shape{N: 64, C: 128, S: 784}, 1}, // 401 KB
		{1 << 20, Shape{N: 64, C: 128, S: 784}, 5}, // 2 MB / 401 KB
	}
	for _, tc := range cases {
		backGroupBytes = backGroupSize(tc.l2)
		if !pipelines(tc.s, 2) {
			t.Fatalf("%v: not pipelined", tc.s)
		}
		if g := channelsPerGroup(tc.s, 2, 1, false); g != tc.want {
			t.Errorf("L2 %d KB, %v: %d channels a group, want %d", tc.l2>>10, tc.s, g, tc.want)
		}
	}
}

// TestCachedGroupSize checks the channels of a pipelined Train group by L2
// size and by where the output goes (cachedGroupSize): through the cache,
// a sixteenth of an L2 of 2 MB or more; around it, pipeGroupBytes.
func TestCachedGroupSize(t *testing.T) {
	defer func(c, p int) { cachedGroupBytes, pipeGroupBytes = c, p }(cachedGroupBytes, pipeGroupBytes)
	s := Shape{N: 8, C: 256, S: 784} // 25 KB a channel
	cases := []struct {
		l2        int
		cachedOut bool
		want      int
	}{
		{2 << 20, true, 5},   // 128 KB
		{2 << 20, false, 32}, // 1 MB, capped at pipeChannels
		{4 << 20, true, 10},  // 256 KB
		{1 << 20, true, 32},  // 4 MB below 2 MB of L2
	}
	for _, tc := range cases {
		cachedGroupBytes, pipeGroupBytes = cachedGroupSize(tc.l2), groupBytes(tc.l2, 4<<20)
		if g := channelsPerGroup(s, 1, 1, tc.cachedOut); g != tc.want {
			t.Errorf("L2 %d KB, output through the cache %v: %d channels a group, want %d", tc.l2>>10, tc.cachedOut, g, tc.want)
		}
	}
}

// TestReverseApplySameBits checks that the apply of a row-major Backward
// walked from its last call to its first (reverseChunks) gives the bits
// of the apply in order, with every implementation: whole calls, a short
// last call, and rows cut into column blocks.
func TestReverseApplySameBits(t *testing.T) {
	defer func(u int) { unblockedBytes, reverseApply = u, true }(unblockedBytes)
	unblockedBytes = 2 << 20
	rng := rand.New(rand.NewPCG(45, 46))
	for _, s := range []Shape{
		{N: 256, C: 1024, S: 1},                      // 16 calls of 16 rows
		{N: 100, C: 1024, S: 1},                      // the first call (the last walked) of 4 rows
		{N: 7, C: 1000, S: 9, Layout: ChannelsLast},  // 63 rows of 1000: calls of 16, the first of 15
		{N: 3, C: 3000, S: 11, Layout: ChannelsLast}, // rows wider than a column block
	} {
		w := &workspace{}
		w.begin(nil, s)
		if w.reverseChunks() == 0 {
			t.Fatalf("%v: reverseChunks() = 0 (test setup)", s)
		}
		backward := backwardCase(s, rng, 2)
		for _, name := range Impls() {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			reverseApply = false
			want := backward(nil)
			reverseApply = true
			sameGrads(t, fmt.Sprintf("%s %v reversed", name, s), backward(nil), want, "in order")
			restore()
		}
	}
}

// backwardCase returns a Backward of shape s on normal x around center
// and normal dy, with per-channel saved statistics and gamma near those
// of such data: each call, on the Runner given, returns fresh dx, dgamma
// and dbeta.
func backwardCase(s Shape, rng *rand.Rand, center float64) func(Runner) [3][]float32 {
	n := s.Len()
	x, dy := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(center + rng.NormFloat64())
		dy[i] = float32(rng.NormFloat64())
	}
	mean, inv, gamma := make([]float32, s.C), make([]float32, s.C), make([]float32, s.C)
	for c := range s.C {
		mean[c], inv[c], gamma[c] = float32(center)+float32(c%5)*1e-3, 1+float32(c%7)*0.01, 1-float32(c%3)*0.1
	}
	return func(run Runner) [3][]float32 {
		dx, dg, db := make([]float32, n), make([]float32, s.C), make([]float32, s.C)
		Backward(&BackwardArgs{DX: dx, DY: dy, X: x, Shape: s, Mean: mean, InvStd: inv, Gamma: gamma, DGamma: dg, DBeta: db, Run: run})
		return [3][]float32{dx, dg, db}
	}
}

// sameGrads reports where got (dx, dgamma, dbeta) differs in its bits
// from want, which the way named other gave.
func sameGrads(t *testing.T, label string, got, want [3][]float32, other string) {
	t.Helper()
	for q, what := range []string{"dx", "dgamma", "dbeta"} {
		if i := sameBits(got[q], want[q]); i >= 0 {
			t.Errorf("%s: %s[%d] = %v, %s gives %v", label, what, i, got[q][i], other, want[q][i])
		}
	}
}

// TestBackUnpiped checks which channels-first Backwards run their groups
// unpipelined (backUnpiped): a channel's x and dy over half the L2 and
// the batch's x and dy within a quarter of the last-level cache, on a
// core with 2 MB of L2 or more; Train keeps its pipeline.
func TestBackUnpiped(t *testing.T) {
	defer func(l2, u int) { l2Bytes, backUnpipedL3 = l2, u }(l2Bytes, backUnpipedL3)
	if backUnpipedSize(1<<20, 32<<20) != 0 || backUnpipedSize(2<<20, 260<<20) != 65<<20 {
		t.Fatalf("backUnpipedSize: 1 MB L2 -> %d, 2 MB -> %d; want 0 and 65 MB", backUnpipedSize(1<<20, 32<<20), backUnpipedSize(2<<20, 260<<20))
	}
	cases := []struct {
		s       Shape
		unpiped bool // on 2 MB of L2 and 260 MB of last-level cache
	}{
		{Shape{N: 16, C: 32, S: 112 * 112}, true}, // 1.6 MB a channel, x and dy 51 MB
		{Shape{N: 64, C: 16, S: 56 * 56}, true},   // 1.6 MB a channel, 25.7 MB
		{Shape{N: 64, C: 128, S: 56 * 56}, false}, // 1.6 MB a channel, but 206 MB
		{Shape{N: 32, C: 64, S: 56 * 56}, false},  // 0.8 MB a channel
		{Shape{N: 8, C: 256, S: 28 * 28}, false},  // 50 KB a channel
		{Shape{N: 128, C: 64, S: 28 * 28}, false}, // 0.8 MB a channel
	}
	for _, tc := range cases {
		for _, l2 := range []int{2 << 20, 1 << 20} {
			l2Bytes, backUnpipedL3 = l2, backUnpipedSize(l2, 260<<20)
			want := tc.unpiped && l2 == 2<<20
			if got := !pipelines(tc.s, 2); got != want {
				t.Errorf("%v, L2 %d: Backward unpipelined %v, want %v", tc.s, l2, got, want)
			}
			if !pipelines(tc.s, 1) {
				t.Errorf("%v, L2 %d: Train unpipelined", tc.s, l2)
			}
		}
	}
}
