package reduce

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/simdbn/simdbn/fallback"
)

var (
	// blockBytes is the share of cache that one channel group of a fused
	// channels-first pass may fill: its statistics pass reads the group
	// from memory and its apply pass reads it again from cache.
	// Narrower groups, to keep a group in L1 from one pass to the other,
	// lost on 8x512x7x7 (tune harness without TUNE_COLD, TUNE_BLOCK, two
	// runs, 2026-12-07): Backward 2.94-3.17x copy() at 512 KB, 3.12-3.26
	// at 128 KB, 3.31-3.39 at 64 KB, 3.39-3.74 at 32 KB; Train 1.92-2.08,
	// 2.05-2.08, 2.05-2.15 and 2.08-2.54. On an Intel Xeon with 2 MB of L2
	// (three rounds, 2026-12-07) 128 KB gained a little: Backward
	// 2.73-2.87 -> 2.61-2.64, Train 1.95-2.00 -> 1.88-1.90 (32 KB: 2.91-2.97
	// and 2.01-2.15); 1 MB was level.
	blockBytes = 512 << 10

	// pipeGroupBytes is the size of the channel groups of a pipelined
	// Train: larger than blockBytes, so that each sample's part of a group
	// is one long stretch of memory (a group of 10 channels of 32x64x56x56
	// is 125 KB per sample, against 12.5 KB for one channel) and the
	// statistics read it as a stream; the normalization re-reads the group
	// from the last-level cache (or, on cores with 2 MB of L2 or more, from
	// L2: see groupBytes).
	pipeGroupBytes = groupBytes(l2Bytes, 4<<20)

	// cachedGroupBytes is pipeGroupBytes for a Train whose output is
	// written through the cache (outputs under ntBytes): an eighth of
	// pipeGroupBytes on cores with 2 MB of L2 or more (see
	// cachedGroupSize), pipeGroupBytes below.
	cachedGroupBytes = cachedGroupSize(l2Bytes)

	// backGroupBytes is the size (x and dy) of the channel groups of a
	// pipelined Backward: larger than blockBytes, the apply re-reading
	// them from the last-level cache (on cores with 2 MB of L2 or more,
	// an eighth of the L2: see backGroupSize). Zen 5, tune harness, groups
	// of 512 KB against 2 MB, two pairs each: 64x128x28x28 3.65-3.79x
	// copy() -> 2.51-2.57 (cold: 3.17-3.29 -> 2.23-2.33), 128x128x28x28
	// 3.68-3.79 -> 2.89-2.97, 8x256x28x28 2.81-3.25 -> 2.69-2.74; shapes
	// whose groups stay one channel (32x64x56x56, 16x32x112x112) or keep
	// their size within noise.
	backGroupBytes = backGroupSize(l2Bytes)

	// l2Bytes is one core's L2 cache, and l3Bytes the last-level cache,
	// as CPUID reports them (0 or less: unknown).
	l2Bytes = cpuid.CPU.Cache.L2
	l3Bytes = cpuid.CPU.Cache.L3

	// chunkElems bounds the values one element-wise kernel call touches,
	// so that the scheduler can preempt between calls.
	chunkElems = 1 << 18
)

const pstride = fallback.ParamStrideCF

// groupBytes returns the size of a pipelined group (pipeGroupBytes, and
// backGroupBytes below 2 MB of L2: backGroupSize) on a core whose L2 cache
// holds l2 bytes: small, the size
// measured on Zen 5 (1 MB L2), whose groups outgrow the L2 and are re-read
// from the last-level cache. Where the L2 holds two groups of 1 MB or
// more, a group is half of it instead, so that the apply re-reads it from
// L2 while the next group streams in. On an Intel Xeon with 2 MB of L2
// (family 6 model 207) one core's reads of x and dy by the backward sums
// kernel ran at 72-86 GB/s from L2, 22-29 GB/s from its last-level cache
// and 15-17 GB/s from memory (a temporary test, 2026-12-07); 1 MB groups
// against 4 MB (Train) and 2 MB (Backward) there, tune harness, two or
// three rounds each, warm / TUNE_COLD=1 (whose 128 MB then left part of
// the tensors in that 260 MB cache):
// Backward of 32x64x56x56 1.33-1.34 / 1.65-1.66x copy() against
// 1.43-1.60 / 1.68-1.83, of 32x128x28x28 1.34-1.37 / 1.72-1.79 against
// 1.53-1.61 / 1.89-1.94, of 64x128x28x28 1.34-1.50 / 1.69-1.82 against
// 1.64-1.68 / 1.78-1.98, of 128x128x28x28 1.69-1.72 / 1.51-1.59 against
// 1.80-1.89 / 1.72-1.84; Train of 32x64x56x56 0.73-0.75 / 0.96-0.98
// against 0.84-0.85 / 0.98-1.03, of 64x128x28x28 0.85-0.99 / 1.12-1.15
// against 0.91-0.93 / 1.21-1.29, of 128x128x28x28 0.96-0.97 / 1.11-1.17
// against 0.94-0.95 / 1.22. In bnbench (AVX-512, three alternating
// pairs): Backward of 32x64x56x56 2.21-2.24 -> 1.87-1.93, of 8x256x28x28
// 2.43-2.44 -> 2.22-2.28, Train of 32x64x56x56 0.87-0.95 -> 0.72-0.84,
// the other channels-first cells of its shapes within noise.
func groupBytes(l2, small int) int {
	if l2 < 2<<20 {
		return small
	}
	return l2 / 2
}

// backGroupSize returns backGroupBytes on a core whose L2 cache holds l2
// bytes: groupBytes' 2 MB below 2 MB of L2, and an eighth of the L2
// above, where the half that groupBytes gives Train was too much for
// Backward. The pipeline holds two groups of x and dy in L2 (the one
// applied, re-read, and the next, summed), and one core of the Intel Xeon
// below reads at L2 speed only up to about 1 MB (go test -run '^$' -bench
// SumsBySize ./asm/). Calls repeated as bench/compare repeats them (blocks
// of seven back-to-back calls, the median over copy()'s, 25 rounds
// alternating, a temporary test; 2026-12-07), 1 MB groups -> 256 KB:
// 8x256x28x28 2.31 -> 1.94x copy(), 32x128x28x28 2.04 -> 1.84,
// 64x128x28x28 2.03 -> 1.92, 16x64x56x56 1.93 -> 1.80; level where a
// channel is larger than both (128x128x28x28 2.14 -> 2.24 and 32x64x56x56
// 1.97 -> 1.94, the same groups of one channel: noise). From memory (tune
// harness, TUNE_COLD=1, four alternating pairs) level: 32x64x56x56
// 1.44-1.61 and 1.46-1.54, 32x128x28x28 1.47-1.71 and 1.56-1.65,
// 16x64x56x56 1.44-1.56 and 1.39-1.59. bnbench, AVX-512, three
// alternating pairs of binaries: Backward of 8x256x28x28 channels first
// 2.23-2.29 -> 1.79-1.85 (AVX2, one pair: 2.30 -> 1.97), its other
// channels-first shapes level. Train keeps groupBytes' half where its
// output goes around the cache: smaller groups lost there on
// 64x128x28x28 (1.29 -> 1.37) and 32x128x28x28 (1.27 -> 1.39), whose
// groups then shrink to a channel or two, a few KB of each sample; they
// gained on 8x256x28x28 (1.59 -> 1.31), whose 6.4 MB output goes through
// the cache (cachedGroupSize).
func backGroupSize(l2 int) int {
	if l2 < 2<<20 {
		return groupBytes(l2, 2<<20)
	}
	return l2 / 8
}

// cachedGroupSize returns cachedGroupBytes on a core whose L2 cache holds
// l2 bytes: groupBytes' 4 MB below 2 MB of L2 (Zen 5, not measured
// apart), and a sixteenth of the L2 from 2 MB. A Train whose output goes
// through the cache also fills L2 with the group's y (read for ownership,
// then written), beside the group it re-reads and the next one it sums:
// half the L2 a group was too much. Calls repeated as bench/compare
// repeats them (the temporary test of backGroupSize; 25 rounds
// alternating, 2026-12-07), pipelined Train of 6.4 MB tensors, groups of
// 1 MB, 512 KB, 256 KB and 128 KB: 8x256x28x28 1.51, 1.42, 1.42, 1.21x
// copy(); 32x64x28x28 1.51, 1.36, 1.26, 1.28; 16x128x28x28 1.49, 1.32,
// 1.21, 1.23; 8x64x56x56 1.51, 1.40, 1.34, 1.26; 4x32x112x112 1.55,
// 1.38, 1.35, 1.32. bnbench, three alternating pairs of binaries: Train
// of 8x256x28x28 channels first 1.41-1.42 -> 1.16-1.19 (AVX-512) and
// 1.42-1.44 -> 1.21-1.26 (AVX2), its other shapes level. With
// non-temporal stores (larger outputs) the groups keep pipeGroupBytes
// (backGroupSize has why).
func cachedGroupSize(l2 int) int {
	if l2 < 2<<20 {
		return groupBytes(l2, 4<<20)
	}
	return l2 / 16
}

// carryMinChunk is the least a group walked by carryCF reads of each
// sample, in bytes: a group of blockBytes over many samples holds a few
// channels, and carryCF's 8 streams then read a kilobyte or two each
// before they jump. Groups grow past blockBytes to it; their apply then
// re-reads them from the last-level cache instead of L2, and still gains.
// From memory (the tune harness, TUNE_COLD=1, a temporary knob, three
// runs each, middle values), 8 KB against blockBytes alone: Backward of
// 256x512x7x7 3.20 -> 2.64x copy(), of 128x256x10x10 3.64 -> 2.90, of
// 128x512x7x7 3.00 -> 2.81; Train of 256x512x7x7 2.15 -> 1.94, of
// 128x256x10x10 2.11 -> 1.93. 4 KB gained less (Backward of 256x512x7x7
// 2.74, of 128x256x10x10 3.23).
//
// Only tensors of carryChunkBytes or more take it. In bnbench, whose
// back-to-back calls find much of a 13 MB tensor in the last-level cache,
// the larger groups lost there (three alternating pairs, AVX-512: Train
// of 128x256x10x10 2.01-2.11 -> 2.15-2.30, Backward of 128x512x7x7
// 4.85-5.18 -> 5.18-5.51; AVX2 Train of 128x512x7x7 2.37-2.39 ->
// 2.59-2.81), while on 26 MB tensors they gained in bnbench too (with
// this threshold, three pairs: Backward of 512x256x7x7 5.84-6.33 ->
// 3.60-4.06, AVX2 8.32-9.36 -> 4.10-5.19, Train 2.78-2.87 -> 2.40-2.58;
// Backward of 256x512x7x7 4.20-4.34 -> 3.67-4.04, AVX2 5.41-5.92 ->
// 3.75-4.17; Train of 256x256x10x10 2.59-2.78 -> 2.36-2.51).
const carryMinChunk = 8 << 10

// carryChunkBytes is the tensor size from which carryMinChunk applies (a
// variable: tests lower it).
var carryChunkBytes = 16 << 20

// channelsPerGroup is the number of channels of a fused channels-first
// group: as many as fit blockBytes over tensors tensors (pipelined, at most
// pipeChannels: Train's groups fit pipeGroupBytes, or cachedGroupBytes
// when its output goes through the cache (cachedOut), Backward's
// backGroupBytes; walked by carryCF, at least carryMinChunk of each
// sample), but small enough that there are about four groups per worker.
func channelsPerGroup(s Shape, tensors, workers int, cachedOut bool) int {
	per := tensors * s.N * s.S * 4
	g := s.C
	if per > 0 {
		g = max(1, blockBytes/per)
		switch {
		case tensors == 1 && pipelines(s, 1) && cachedOut:
			g = max(1, min(pipeChannels, cachedGroupBytes/per))
		case tensors == 1 && pipelines(s, 1):
			g = max(1, min(pipeChannels, pipeGroupBytes/per))
		case tensors == 2 && pipelines(s, 2):
			g = max(1, min(pipeChannels, backGroupBytes/per))
		case groupsCarry(s) && s.Len()*4 >= carryChunkBytes:
			g = max(g, ceilDiv(carryMinChunk, 4*s.S))
		}
	}
	if workers > 1 {
		g = min(g, max(1, s.C/(4*workers)))
	}
	return max(1, min(g, s.C))
}

// Element-wise kernel calls over channels [c0, c1) of a channels-first
// batch. Chunk i covers n runs (stride C*S apart) of c channels of runLen
// values from offset off, starting at channel cFirst.

type cfChunking struct {
	mode       int // 0: samples per call; 1: channels per call; 2: pieces of a run
	per, count int
	c0, c1     int
	pieces     int
	lim        int // values per call at most
}

// chunkingCF cuts channels [c0, c1) into calls of at most lim values.
func chunkingCF(s Shape, c0, c1, lim int) cfChunking {
	width := (c1 - c0) * s.S
	switch {
	case width <= lim:
		per := max(1, lim/max(1, width))
		return cfChunking{mode: 0, per: per, count: ceilDiv(s.N, per), c0: c0, c1: c1, lim: lim}
	case s.S <= lim:
		per := lim / s.S
		return cfChunking{mode: 1, per: per, count: s.N * ceilDiv(c1-c0, per), c0: c0, c1: c1, lim: lim}
	}
	pieces := ceilDiv(s.S, lim)
	return cfChunking{mode: 2, count: s.N * (c1 - c0) * pieces, c0: c0, c1: c1, pieces: pieces, lim: lim}
}

// chunkLimit is the values per element-wise call: chunkElems, or, when
// several workers share the call, small enough to give each about four
// chunks (but not below minChunkElems).
func chunkLimit(s Shape, workers int) int {
	if workers <= 1 {
		return chunkElems
	}
	return max(minChunkElems, min(chunkElems, s.Len()/(4*workers)))
}

const minChunkElems = 1 << 13

func (k cfChunking) chunk(s Shape, i int) (off, n, c, runLen, cFirst int) {
	stride := s.C * s.S
	switch k.mode {
	case 0:
		n0 := i * k.per
		return n0*stride + k.c0*s.S, min(k.per, s.N-n0), k.c1 - k.c0, s.S, k.c0
	case 1:
		perSample := ceilDiv(k.c1-k.c0, k.per)
		n0, j := i/perSample, i%perSample
		ch := k.c0 + j*k.per
		return n0*stride + ch*s.S, 1, min(k.per, k.c1-ch), s.S, ch
	}
	perSample := (k.c1 - k.c0) * k.pieces
	n0, j := i/perSample, i%perSample
	ch, piece := k.c0+j/k.pieces, j%k.pieces
	start := piece * k.lim
	return n0*stride + ch*s.S + start, 1, 1, min(k.lim, s.S-start), ch
}

// cfSpan is the part of a channels-first slice that a chunk touches.
func cfSpan(x []float32, s Shape, off, n, c, runLen int) []float32 {
	return x[off : off+(n-1)*s.C*s.S+c*runLen]
}

// Element-wise kernel calls over the rows of a row-major batch.

func rowsPerChunk(s Shape, lim int) int { return max(1, lim/max(1, s.C)) }

func rowChunk(s Shape, per, i int) (r0, nr int) {
	r0 = i * per
	return r0, min(per, s.rows()-r0)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
