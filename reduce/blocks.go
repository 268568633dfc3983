package reduce

// Channel-blocked Backward over row-major batches (channels last, and
// channels first with S = 1). When the rows are few and wide, x and dy of a
// block of channels over all rows fit a share of the cache: the reduction,
// the per-channel parameters and the apply of one block then run back to
// back, so that the apply re-reads the block from cache instead of from
// memory. The kernels take the row stride ld = C and cover the block's
// channels only; every reduction call covers the rows of one slab, as in
// the unblocked pass, so each channel's sums are the same bits.
//
// "Fit" counts bytes, not cache sets. On rows a power of two bytes long
// (256x1024, and 8x512x7x7 channels last) a block of bw of the C channels
// falls in only bw/C of the L2 sets, so x, dy and dx of a block stay in L2
// only as far as the whole tensors would. A temporary benchmark
// (2026-12-07, AVX-512, hot): the apply of one 128-channel block of
// 8x512x7x7 channels last took 6.6-7.6 us, 12.3-12.4 with other relative
// placements of x, dy and dx, against 3.8-4.8 for as many contiguous
// values, and 5.5-6.3 with rows of 496 or 528 channels. On 8x512x7x7 the
// blocks measured level with the unblocked pass that day (3.50-3.78x
// copy() against 3.62-3.74, five runs in one process); on 256x1024 they
// measured faster when added (minBlockC), before this project's VM came
// up as an Intel Xeon with 2 MB of L2 (see unblockedBytes).
//
// Train is not blocked. It reads x twice where Backward reads x and dy
// twice, so it gains half as much from the cache and pays the strided block
// walk all the same. Measured in bench/compare (one goroutine, two A/B runs
// each, with a Train form of these blocks since removed): Backward of
// 256x1024 went from 4.6-4.7x copy to 3.4-3.6x, and of 8x512x7x7 channels
// last from 4.7 to 4.4-4.7; Train of 8x512x7x7 channels last went from
// 2.65 to 2.8, and of 256x1024 stayed at 2.5-2.8.
//
// Out of cache, neither op is pipelined by column groups the way the
// channels-first groups are (pipeline.go: the statistics of one group
// from memory while the apply re-reads the group before from the
// last-level cache). A group of a channels-last batch is a few 64-byte
// lines of every row, and writing its part of every row is what costs:
// from memory (a temporary benchmark, every op after 128 MB of other
// copies, AVX-512, medians of 15, four to six runs, 2026-12-06), on
// 32x64x56x56 channels last the non-temporal apply of 16-channel groups
// one after the other took 1.46-1.80x copy(), against 0.85-0.94 for
// whole rows, while the statistics of the same groups read at 0.69-0.83
// (whole rows 0.66-0.83). The pipelined Train then took 1.73-2.03 with
// groups of 32 channels and 2.00-2.36 with 16, against 1.55-1.79 for
// today's two passes; Backward (three runs) 2.86-3.16 with 32 and
// 3.76-3.90 with 16, against 2.51-2.71. On 64x128x56x56 (two runs) Train
// took 2.39-2.44 and Backward 4.12 with groups of 32, against 1.79-1.86
// and 2.69-3.62. The two passes also left nothing to gain from the
// cache: the apply in reverse row order, which meets the statistics
// pass's last rows first, took 1.65-1.71 against 1.56-1.73 in row order.

// minBlockC is the narrowest block worth cutting: below it a row's piece of
// a block is a few cache lines, and the unblocked pass streams better.
// Measured on 256x1024 and 8x512x7x7 channels last (AVX-512, one
// goroutine, best of six): blocks of 128 and 256 channels took Backward
// from 124 to 91 us and from 81 to 76 us; blocks of 32 or 64 channels ran
// up to twice as slow as no blocks. Tests lower it.
var minBlockC = 128

// blockRows enables the channel-blocked Backward (tests turn it off to
// compare).
var blockRows = true

// rowSplitBytes: a Backward on several workers whose x and dy come to at
// most this many bytes per worker runs unblocked, its rows split between
// the workers, each worker's share of x and dy then staying in its own L2
// from the sums to the apply. Channel blocks split the columns of every
// row between the cores instead, and the cores' prefetchers fetch each
// other's lines. Measured (AVX-512, two workers, bnbench -goroutines 2,
// three alternating pairs, blocking switched by a temporary environment
// variable): 8x512x7x7 channels last (784 KB per worker) 2.85-3.01x copy
// blocked, 2.41-2.50 unblocked; 256x1024 (1 MB per worker) 1.91-2.21
// blocked, 2.57-2.75 unblocked. The kernels alone, back to back on
// 8x512x7x7's halves (a temporary test): 1.35x one worker's speed split
// by columns, 1.9x split by rows. Tests lower it.
var rowSplitBytes = 896 << 10

// Wide rows from memory: a row-major Backward whose x and dy together
// come to llcMinBytes or more, with too many rows for the blocks of
// blockBytes, runs in blocks of about llcBlockC channels (a little more
// where they do not divide the channels, fewer where the block count is
// rounded up to a multiple of the workers) when x and dy of such a block over all rows come to at most
// llcBlockBytes: the sums read the block from memory, and the apply
// re-reads it from the last-level cache instead of from memory (each
// row's part of a block is 2 KB, 32 whole lines). Tune harness
// (TUNE_COLD=1, AVX-512, 2026-12-07, three rounds, backward against
// backward-unblocked in one process; channels last unless S = 1):
// 32x2048x7x7 3.31-4.11x copy() -> 2.99-3.41, 64x2048x7x7 3.22-3.51 ->
// 2.72-3.01, 24x2048x7x7 3.18-3.60 -> 2.90-3.13, 48x1024x7x7 3.10-3.55 ->
// 2.83-3.13, 64x1024x7x7 3.36-3.41 -> 2.92-3.15, 4096x1536 3.05-3.42 ->
// 2.72-3.04, lower in every round. Below 16 MB of x and dy, which the
// last-level cache partly holds between the two passes, blocks were level
// or lost: 16x2048x7x7 3.55-4.09 -> 3.26-4.12, 12x2048x7x7 3.62-4.08 ->
// 3.39-4.28, 24x1024x7x7 3.23-4.44 -> 3.38-4.75, 16x1024x7x7 2.93-4.66
// -> 3.34-4.91. So were blocks of 25.7 MB (32x1024x14x14 in blocks of
// 512: 3.30-3.64 -> 3.29-3.34, a temporary switch, blocked and unblocked
// in separate processes), and narrower blocks were level or lost
// (32x1024x14x14 in blocks of 256, in one process: 3.19-3.46 ->
// 3.09-3.65; 64x2048x7x7 in blocks of 304, separate processes: 3.29-3.39
// -> 3.46-3.66; three rounds each). Tests lower them.
var (
	llcMinBytes   = 16 << 20
	llcBlockC     = 512
	llcBlockBytes = 16 << 20
)

// unblockedBytes: on cores with 2 MB of L2 or more (as CPUID reports it),
// a row-major Backward whose x and dy fit the L2, on rows of 1024
// channels (4 KB apart), runs unblocked. There the apply re-reads x and
// dy from L2 either way, and a block's part of every row puts x, dy and
// dx of all rows in the same few L1 sets (see the package comment
// above). The AVX-512 kernels alone on one 256-channel block of 256x1024
// (asm's BenchmarkBlockPlacement, three runs, 2026-12-07 on an Intel
// Xeon, family 6 model 207): with x, dy and dx page-aligned, as Go
// allocates them, the apply took 8.9-9.3 ns a vector, 2.3-2.8 with the
// three a quarter of a page apart and 2.2 on rows of 256 channels; the
// sums 2.8-2.9, 1.3-1.6 and 1.3-1.4. Backward of 256x1024,
// blocked against unblocked in one process: tune harness (warm,
// AVX-512, three rounds) 3.44-3.51x copy() -> 3.07-3.10, on two
// goroutines 2.10-2.34 -> 1.75-1.84, AVX2 level (3.87-3.93 both); in
// blocks of 1, 7 and 30 calls each against copy() (a temporary
// benchmark) 3.11 -> 2.76, 4.45 -> 4.42 and 4.66 -> 4.31. Rows of 512
// channels, 2 KB apart, did not gain the same way then (8x512x7x7
// channels last 2.25 -> 2.46, 4.64 -> 5.07 and 4.65 -> 4.62 in the blocks
// of calls; 512x512 gained in the tune harness, 3.32-3.45 -> 3.05-3.08),
// and kept their blocks until measured again (unblockedRows: from half
// of unblockedBytes they now run unblocked); rows of 2048 channels and
// more keep them, their apply
// runs in column blocks anyway (64x2048: 4.01-4.20 blocked, 4.33-4.61
// unblocked). Zen 5's 1 MB L2 does not hold 256x1024's x and dy and
// keeps the blocks (0 there). Tests set it.
var unblockedBytes = unblockedL2(l2Bytes)

// unblockedRows reports whether a row-major Backward runs unblocked for
// unblockedBytes: rows of 1024 channels whose x and dy fit it, or rows of
// 512 channels whose x and dy fit it and fill at least half of it.
//
// Rows of 512 channels were measured again on 2026-12-07 (the same Intel
// Xeon, after the channels-last reductions began to set their lanes
// instead of adding to lanes cleared per block, 93f135f): tune harness,
// backward against backward-unblocked in one process (warm, AVX-512,
// four runs each), 8x512x7x7 channels last (x and dy 1.6 MB) 3.77-3.86x
// copy() blocked and 3.43-3.54 unblocked, 512x512 (2 MB) 4.48-4.60 and
// 3.62-3.68, 256x512 (1 MB) 2.68-2.85 and 2.64-2.73, but 4x512x7x7
// channels last (0.8 MB) 2.52-2.76 and 2.57-2.78; bnbench, three
// alternating pairs of binaries, AVX-512, 512x512 as nhwc 4.04-4.56 ->
// 3.40-3.63 (AVX2 4.77-6.40 -> 4.04-4.20), as nchw 3.90-4.33 ->
// 3.40-3.79; in six pairs, 8x512x7x7 channels last 3.90-4.66 ->
// 3.62-4.34 and 4x512x7x7 channels last 2.70-2.91 -> 2.84-2.98;
// bench/compare, Backward alone on 8x512x7x7 and 256x1024 (four runs of
// the last commit and five of the change, alternating), 8x512x7x7
// channels last 3.44-4.40 (median 4.29) -> 2.66-4.31 (4.02). On two
// goroutines (bnbench -goroutines 2, three pairs), where batches up to
// twice rowSplitBytes ran unblocked already, 512x512 2.66-2.82 ->
// 1.61-1.86.
func unblockedRows(s Shape) bool {
	xdy := 2 * 4 * s.Len()
	return xdy <= unblockedBytes && (s.C == 1024 || s.C == 512 && 2*xdy >= unblockedBytes)
}

// unblockedL2 is unblockedBytes on a core whose L2 holds l2 bytes.
func unblockedL2(l2 int) int {
	if l2 >= 2<<20 {
		return l2
	}
	return 0
}

// reverseApply enables the reversed apply of reverseChunks (tests switch
// it off to compare).
var reverseApply = true

// reverseBytes is the x of one call of a reversed apply (reverseChunks).
const reverseBytes = 64 << 10

// reverseChunks returns the rows of each call of a row-major Backward's
// apply that walks its rows in calls of about reverseBytes of x, from the
// last call to the first, or 0 when it walks them in order: on one
// goroutine, when x and dy fit unblockedBytes (the unblocked Backward of
// rows of 1024 channels, and smaller batches). The sums have just read
// x and dy in order, so the last rows are the ones still in L2, and the
// apply takes them first; walked in order, every row's x and dy had
// been pushed out by the rows read after them (two streams of 1 MB each
// on 256x1024, more than one core of an Intel Xeon VM reads at L2
// speed), and dx, written through the cache, competes for the rest.
// Calls repeated as bench/compare repeats them (blocks of seven
// back-to-back calls, the median over copy()'s, 31 rounds alternating,
// a temporary test, 2026-12-07), Backward of 256x1024 took 4.36x copy()
// in order and 3.97, 3.86 and 3.91 reversed in calls of 16, 64 and 256
// KB; channels last 4.11 and 3.72, 3.66, 3.64. Out of the L2 it lost,
// with the same calls of 64 KB (32x64x56x56 channels last 2.27 -> 2.42,
// 64x128x56x56 2.18 -> 2.36), and 8x256x28x28 channels last (6.4 MB) was
// level; 128x1024 (x and dy 1 MB) was level within noise (4.05 and
// 4.31, ranges 3.67-4.65 and 3.66-4.74). bnbench, three alternating
// pairs of binaries, AVX-512: 256x1024 4.34-4.37 -> 3.94-4.12, channels
// last 4.23-4.39 -> 3.66-4.18 (AVX2 in noise: 5.37-5.69 -> 5.12-5.66 and
// 5.46-5.69 -> 5.15-5.82). The order of an element-wise pass changes no
// bit (TestReverseApplySameBits).
func (w *workspace) reverseChunks() int {
	s := w.s
	if !reverseApply || !s.rowMajor() || w.run.Workers() > 1 || 2*4*s.Len() > unblockedBytes {
		return 0
	}
	return max(1, reverseBytes/(4*s.C))
}

// rowBlockC returns the channels per block of a channel-blocked Backward,
// or 0 when the call does not run blocked: not row-major, rows of 1024
// channels whose x and dy fit unblockedBytes, rows too many
// for a block of minBlockC channels and no last-level cache blocks
// either (llcBlockC), or one block would hold every channel. x and dy of
// a block over all rows fit blockBytes, or llcBlockBytes.
func (w *workspace) rowBlockC() int {
	s := w.s
	if !blockRows || !s.rowMajor() || s.rows() == 0 {
		return 0
	}
	if k := w.run.Workers(); k > 1 && 2*4*s.Len() <= k*rowSplitBytes {
		return 0
	}
	if unblockedRows(s) {
		return 0
	}
	widest := blockBytes / (2 * s.rows() * 4)
	if widest < minBlockC {
		return w.llcBlockC()
	}
	if widest >= s.C {
		return 0
	}
	// Equal blocks, a multiple of 16 channels wide (whole 64-byte lines in
	// a row, and the alignment non-temporal stores need) and, with several
	// workers, a multiple of the workers in number.
	return w.equalBlocks(ceilDiv(s.C, widest))
}

// llcBlockC is rowBlockC for the last-level cache blocks: at least two
// blocks of about llcBlockC channels (2 KB parts of a row; equalBlocks
// rounds their count up to a multiple of the workers), or 0.
func (w *workspace) llcBlockC() int {
	s := w.s
	nb := s.C / llcBlockC
	if nb < 2 || 2*4*s.Len() < llcMinBytes {
		return 0
	}
	bc := w.equalBlocks(nb)
	if bc == 0 || 2*4*s.rows()*bc > llcBlockBytes {
		return 0
	}
	return bc
}

// equalBlocks returns the width of nb or a few more equal blocks over the
// channels: a multiple of 16 channels (whole 64-byte lines in a row, and
// the alignment non-temporal stores need) and, with several workers, a
// multiple of the workers in number; or 0 if one block would hold every
// channel.
func (w *workspace) equalBlocks(nb int) int {
	s := w.s
	if k := w.run.Workers(); k > 1 {
		nb = ceilDiv(nb, k) * k
	}
	bc := ceilDiv(s.C, nb)
	if bc >= 16 {
		bc = ceilDiv(bc, 16) * 16
	}
	if bc >= s.C {
		return 0
	}
	return bc
}

// blockOf returns the first channel and the width of the block of channel c.
func (w *workspace) blockOf(c int) (c0, width int) {
	c0 = c / w.blockC * w.blockC
	return c0, min(w.blockC, w.s.C-c0)
}

// blockSums sets w.sum, w.sq and w.aux of channels [c0, c1) to their
// backward sums, each slab's added in slab order.
func (w *workspace) blockSums(c0, c1 int, acc []float64, tmp []float32) {
	s, k := w.s, w.k
	C, bw := s.C, c1-c0
	a := acc[:3*phases*bw]
	t := [3][]float64{w.sum[c0:c1], w.sq[c0:c1], w.aux[c0:c1]}
	for _, tq := range t {
		clear(tq)
	}
	// The Cached kernel's wider chunks pay in a block only when the rows
	// are a multiple of 4 KB apart (see cachedCLBytes): Backward of
	// 256x1024 went from 2.45-2.75x copy() to 2.38-2.51 with them, of
	// 8x512x7x7 channels last (2 KB rows, blocks of 128 channels: one
	// chunk of 7 vectors and a single one) from 3.46-3.55 to 3.59-3.81
	// (tune harness, TUNE_CACHEDCL).
	back := k.backwardCL
	if w.cachedCL && C*4%4096 == 0 {
		back = k.backwardCLCached
	}
	for j := range slabsCL(s) {
		r0, nr := slabCL(s, j)
		lo, hi := r0*C+c0, (r0+nr-1)*C+c1
		back(a, w.dy[lo:hi], w.x[lo:hi], nr, bw, C, w.smean[c0:c1], tmp)
		for q, tq := range t {
			k.addPhases(tq, a[q*phases*bw:], bw)
		}
	}
}

// backBlock is Backward's work on channels [c0, c1): the sums, the
// gradients and parameters (float64 path included), and the apply.
func (w *workspace) backBlock(c0, c1 int, acc []float64, tmp []float32) {
	w.blockSums(c0, c1, acc, tmp)
	bw := c1 - c0
	p := w.par[5*c0 : 5*c1] // planar within the block
	if !w.backParamsVec(c0, c1, w.sum[c0:c1], w.sq[c0:c1], w.aux[c0:c1], p[:bw], p[bw:2*bw], p[2*bw:3*bw], p[3*bw:4*bw], p[4*bw:5*bw]) {
		for c := c0; c < c1; c++ {
			w.backParam(c, w.sum[c], w.sq[c], w.aux[c])
		}
	}
	w.applyBlock(c0, c1, acc)
}

// applyBlock runs the backward apply kernel over channels [c0, c1) of
// every row, in calls of at most chunkElems values. A block with extreme
// channels goes row by row: their outputs are computed from the row's
// inputs first (into tmp, which the sums no longer need), then the kernel
// writes the row, then they are stored over it.
func (w *workspace) applyBlock(c0, c1 int, tmp []float64) {
	s, k := w.s, w.k
	C, bw := s.C, c1-c0
	par := w.par[5*c0 : 5*c1]
	apply := k.backwardApplyCL
	if w.nt && c0*4%ntAlign == 0 {
		apply = k.backwardApplyCLNT
	}
	rows := s.rows()
	per := max(1, chunkElems/bw)
	ext := w.anyExtreme(c0, c1)
	if ext {
		per = 1
	}
	for r0 := 0; r0 < rows; r0 += per {
		nr := min(per, rows-r0)
		lo, hi := r0*C+c0, (r0+nr-1)*C+c1
		if ext {
			for c := c0; c < c1; c++ {
				if w.extreme[c] {
					tmp[c-c0] = float64(w.extremeValue(c, w.x[lo+c-c0], w.dyAt(lo+c-c0)))
				}
			}
		}
		apply(w.y[lo:hi], w.dy[lo:hi], w.x[lo:hi], nr, bw, C, par)
		if ext {
			for c := c0; c < c1; c++ {
				if w.extreme[c] {
					w.y[lo+c-c0] = float32(tmp[c-c0])
				}
			}
		}
	}
}
