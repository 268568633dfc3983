package reduce

import "github.com/simdbn/simdbn/fallback"

// The pipelined schedule of the fused channels-first passes. A group's
// statistics pass reads from memory and its apply pass writes to memory;
// one after the other, a core does one then the other. Interleaving the
// apply of group g with the statistics of group g+1, sample by sample,
// keeps both streams busy at once; Train goes further and pairs the two in
// one kernel call (fusedGroups). On runs of whole lines both also walk two
// samples at a time (fusedGroups, backPairGroups): a second stream each
// way. The arithmetic is untouched: the statistics kernel is called on
// flush units (whole flush groups of runs, or single runs, or slab
// pieces), whose float64 lanes add in the same order as one call over the
// whole slab.

// pipeApplyElems is the fewest values per apply call of a pipelined
// group, in whole samples: a group's part of one sample can be a few
// hundred values (5 channels of 7x7), and each call of a non-temporal
// kernel ends with an SFENCE, which waits for its stores to reach memory.
// Backward of 256x512x7x7 channels first took 7.7-8.3x copy() with one
// sample per call and 4.2-4.5 with 4096 values (256x256x14x14: 6.3-6.5
// and 3.0-3.1; 16384 values gave the same, 65536 a little more; tune
// harness, TUNE_PIPEAPPLY). Groups of 4096 values per sample or more
// (32x64x56x56 and the other shapes of the bench command) keep one sample
// per call.
var pipeApplyElems = 4096

// pipeBytes is the tensor size from which the fused passes are pipelined,
// and pipeChannels the largest group that is (each channel of the group in
// flight needs its own accumulators).
var (
	pipeBytes    = 4 << 20
	pipeChannels = 32
)

// pipeMinRun is the shortest run (S) that the fused passes pipeline.
// Shorter runs go through the unpipelined groups of blockBytes, whose
// reductions take many channels per kernel call (the Chans kernels, which
// prefetch each run's first lines two channels ahead), where a pipelined
// group calls the kernel once per channel and flush unit. Tune harness,
// TUNE_COLD=1, TUNE_PIPE at its default against off, two runs each
// (2026-12-06): runs of 49 (7x7) trained and ran Backward faster
// unpipelined on all four shapes tried (Train 32x2048x7x7 2.30-2.54x
// copy() -> 1.72-1.90, 64x1024x7x7 2.66-2.79 -> 2.28-2.42, 128x2048x7x7
// 2.59-2.61 -> 2.07-2.28, 256x512x7x7 2.51-2.58 -> 2.38-2.44; Backward
// 3.27-3.86 -> 2.83-3.14, 4.23-4.27 -> 3.10-3.40, 3.99-4.17 -> 2.89-3.15,
// 3.52-4.19 -> 3.18-3.58); on 64x256x10x10 Backward gained (3.30-3.36 ->
// 2.87-2.94) and Train was level (2.04-2.16 against 2.16-2.24); runs of
// 196 (14x14) trained faster pipelined (64x512x14x14 1.79-2.14 against
// 2.22, 256x256x14x14 2.15-2.25 against 2.34-2.41).
var pipeMinRun = 128

// pipelines reports whether the fused passes over tensors tensors of
// shape s are pipelined (their groups then sized for it).
func pipelines(s Shape, tensors int) bool {
	return s.Len()*4*tensors >= pipeBytes && s.S >= pipeMinRun && !(tensors == 2 && backUnpiped(s))
}

// backUnpipedL3 is the size of x and dy together below which Backward's
// large channels run unpipelined (backUnpiped): a quarter of the
// last-level cache, which usually holds such a batch (as for
// backPrefetchCLBytes). 0 (a core with less than 2 MB of L2, where it
// was not measured) turns the rule off. Tests set it.
var backUnpipedL3 = backUnpipedSize(l2Bytes, l3Bytes)

// backUnpipedSize returns backUnpipedL3 for a core whose L2 holds l2 bytes
// and whose last-level cache holds l3.
func backUnpipedSize(l2, l3 int) int {
	if l2 < 2<<20 {
		return 0
	}
	return l3 / 4
}

// backUnpiped reports whether a channels-first Backward runs its groups
// one after the other, each channel's sums and then its apply, rather than
// pipelined: when one channel's x and dy are more than half the L2 and
// the batch's x and dy at most backUnpipedL3. The pipeline re-reads a
// channel only after reading the next one, and two such channels do not
// fit the L2, so the re-read comes from the last-level cache; run back to
// back, the apply finds its channel in L2. From memory the pipeline's
// overlap of reading and writing wins by a little; from the last-level
// cache the re-read costs more. Measured on the Intel Xeon of
// 2026-12-07 (AVX-512; unpipelined by TUNE_PIPE in the tune harness, and
// in bench/compare by a first form of this rule without the bound on x
// and dy): Backward of 16x32x112x112 (1.6 MB a channel, x and dy 51 MB)
// in bench/compare, three runs of the last commit and of the change
// alternating (`bench/compare/run.sh -ops backward -shapes
// 32x64x56x56,64x128x56x56,16x32x112x112 -no-check`), 2.14-2.17x copy()
// -> 1.86-1.89; bnbench (three alternating pairs of binaries) 1.83-1.96
// -> 1.78-1.88 (AVX2 1.90-1.99 -> 1.79-1.95), on two goroutines (two
// pairs) 1.04-1.18 -> 0.99-1.08; tune harness warm 1.56-1.61 ->
// 1.37-1.44 (three pairs), from memory (TUNE_COLD=1, eight pairs)
// medians 1.65 -> 1.69. 64x128x56x56 (1.6 MB a channel, but x and dy
// 206 MB, more than the cache holds) lost from memory, medians 1.64 ->
// 1.70 over eight pairs, and was level in bench/compare (1.70-1.71 and
// 1.66-1.77), so it stays pipelined; 32x64x56x56 (0.8 MB a channel) was level
// unpipelined (warm 1.40-1.42 and 1.40-1.51, from memory 1.63-1.64 and
// 1.61-1.81). Train keeps its pipeline on every shape: unpipelined it
// lost warm and from memory (32x64x56x56 0.73-0.76 -> 0.79-0.83 warm,
// 0.90-1.00 -> 1.13-1.24 from memory; 64x128x56x56 0.90-0.96 -> 1.01-1.14
// and 0.81-0.95 -> 1.22-1.30).
func backUnpiped(s Shape) bool {
	ch := 2 * 4 * s.N * s.S
	return 2*ch > l2Bytes && 2*4*s.Len() <= backUnpipedL3
}

// usePipe reports whether the fused groups of this call run pipelined.
func (w *workspace) usePipe(tensors int) bool {
	return pipelines(w.s, tensors) && w.group <= pipeChannels && w.s.N > 1
}

// pipeChanAcc is the accumulator space of each channel of a pipelined
// group: the lanes of up to three quantities for each of two samples
// (fusedGroups and backPairGroups pair them).
const pipeChanAcc = 6 * lanes

// pipeAccLen is the accumulator space of one part of a pipelined call:
// each channel's lanes, then each channel's slab totals held back by the
// paired schedules (three per slab).
func (w *workspace) pipeAccLen() int { return w.group * (pipeChanAcc + 3*w.geo.slabs) }

// unit returns flush unit k of channel c (of g.units): the call's start,
// run count, run length and flush group, and whether the unit ends its
// slab.
func (g *cfGeo) unit(c, k int) (start, nruns, runLen, group int, slabEnd bool) {
	if g.pieces > 0 {
		start, nruns, runLen, group = g.slab(c, k)
		return start, nruns, runLen, group, true
	}
	r0 := k * g.group
	r1 := min(g.N, r0+g.group)
	return r0*g.stride + c*g.S, r1 - r0, g.S, g.group, r1%g.runsPerSlab == 0 || r1 == g.N
}

// pipeGroups runs fused groups [u0, u1) of one part, pipelined.
func (w *workspace) pipeGroups(u0, u1 int, acc []float64) {
	s := w.s
	units := w.geo.units
	w.startGroup(u0, acc)
	for k := range units {
		w.groupUnit(u0, k, acc)
	}
	for u := u0; u < u1; u++ {
		c0, c1 := u*w.group, min(s.C, (u+1)*w.group)
		w.finishGroup(c0, c1, acc)
		next := u+1 < u1
		if next {
			w.startGroup(u+1, acc)
		}
		if next && w.fused(c0, c1) {
			w.fusedGroups(u, acc)
			continue
		}
		if next && w.backPaired(c0, c1) {
			w.backPairGroups(u, acc)
			continue
		}
		if next && w.backFused(c0, c1) {
			w.backFusedGroups(u, acc)
			continue
		}
		done := 0
		if w.anyExtreme(c0, c1) {
			w.applyChannelsCF(c0, c1)
		} else {
			ch := chunkingCF(s, c0, c1, chunkElems)
			if ch.mode == 0 {
				// A few samples per call, to interleave.
				ch.per = max(1, min(ch.per, pipeApplyElems/max(1, (c1-c0)*s.S)))
				ch.count = ceilDiv(s.N, ch.per)
			}
			for i := range ch.count {
				if w.op == opBackGroups {
					w.backApplyChunkCF(ch, i)
				} else {
					w.applyChunkCF(ch, i)
				}
				for ; next && done < (i+1)*units/ch.count; done++ {
					w.groupUnit(u+1, done, acc)
				}
			}
		}
		for ; next && done < units; done++ {
			w.groupUnit(u+1, done, acc)
		}
	}
}

// startGroup clears the accumulators of group u and sets its channels'
// pivots (Train; Backward's pivot is the saved mean).
func (w *workspace) startGroup(u int, acc []float64) {
	c0, c1 := u*w.group, min(w.s.C, (u+1)*w.group)
	clear(acc)
	for c := c0; c < c1; c++ {
		w.sum[c], w.sq[c], w.aux[c] = 0, 0, 0
	}
	if w.op == opTrainGroups {
		setPivots(w.piv, w.x, w.s, c0, c1)
	}
}

// groupUnit runs flush unit k of every channel of group u, and at a slab's
// end adds the slab's lanes to the channels' totals.
func (w *workspace) groupUnit(u, k int, acc []float64) {
	s := w.s
	c0, c1 := u*w.group, min(s.C, (u+1)*w.group)
	stride := s.C * s.S
	for c := c0; c < c1; c++ {
		a := acc[(c-c0)*pipeChanAcc : (c-c0)*pipeChanAcc+3*lanes]
		start, nruns, runLen, group, slabEnd := w.geo.unit(c, k)
		if w.op == opBackGroups {
			w.k.backwardCF(a, span(w.dy, start, nruns, runLen, stride), span(w.x, start, nruns, runLen, stride),
				nruns, runLen, stride, group, w.smean[c])
			if slabEnd {
				w.addSlabLanes(c, a)
			}
			continue
		}
		w.k.statsCF(a[:2*lanes], span(w.x, start, nruns, runLen, stride), nruns, runLen, stride, group, w.piv[c])
		if slabEnd {
			w.addSlabLanes(c, a[:2*lanes])
		}
	}
}

// addSlabLanes adds the float64 lanes l of one slab of channel c to the
// channel's totals and clears them: Train's two quantities (sum, sq) or
// Backward's three (and aux), lanes values each, in that order.
func (w *workspace) addSlabLanes(c int, l []float64) {
	w.sum[c] += fallback.SumLanes(l[:lanes])
	w.sq[c] += fallback.SumLanes(l[lanes : 2*lanes])
	if len(l) == 3*lanes {
		w.aux[c] += fallback.SumLanes(l[2*lanes:])
	}
	clear(l)
}

// finishGroup turns the totals of channels [c0, c1) into their parameters.
func (w *workspace) finishGroup(c0, c1 int, acc []float64) {
	if w.op == opBackGroups {
		for c := c0; c < c1; c++ {
			w.backParam(c, w.sum[c], w.sq[c], w.aux[c])
		}
		return
	}
	for c := c0; c < c1; c++ {
		var ext bool
		w.mean[c], w.variance[c], ext = momentsFromSums(w.k, acc[(c-c0)*pipeChanAcc:], w.x, &w.geo, c, w.piv[c], w.sum[c], w.sq[c])
		w.markExtreme(c, ext)
		w.fixTiny(c)
	}
	w.trainParamsRange(c0, c1)
}

// fuseTrain enables the fused pipeline of Train (tests turn it off to
// compare).
var fuseTrain = true

// fuseMinRun is the shortest run that Train fuses. Each StatsApplyCF call
// takes one run and ends with an SFENCE; on shorter runs the unfused
// pipeline, whose non-temporal apply calls cover a group's part of a
// sample, is faster. Tune harness, Train with TUNE_FUSE=1 against 0,
// three pairs: 16x32x12544 0.94-1.01x copy() fused, 1.09-1.11 unfused;
// 32x64x3136 1.10-1.26 and 1.15-1.30; 64x64x1600 1.32-1.38 and
// 1.23-1.39; 64x128x784 (two pairs) 1.71-1.73 and 1.34-1.39. Without
// the SFENCE (a temporary build whose non-temporal kernels ended without
// one, 2026-12-07), fusing runs of 256 or 512 values or more was level with
// today's schedule: Train of 64x128x28x28 in the tune harness 0.77-0.84
// warm and 0.99-1.07 from memory against 0.82-0.88 and 0.95-1.15 (two
// and three rounds), and the pipelined Backward of asm's
// BackwardPattern 1.55-1.68x copy() against 1.49-1.58.
var fuseMinRun = 2048

// fused reports whether the apply of group [c0, c1) and the statistics of
// the next group run fused (fusedGroups): Train, one run per flush unit,
// no extreme channel in the group, and either non-temporal stores for the
// fused kernel (w.ntFused: the kernel takes runs of any start, storing
// each run's head the ordinary way) on runs of at least fuseMinRun
// values, or y through the cache (StatsApplyCF with ordinary stores,
// whose calls end with no SFENCE). bnbench, channels first, three
// alternating pairs of binaries (2026-12-07, AVX-512; AVX2 alike, with
// one slow sample on each of two shapes): Train of 8x256x28x28 took
// 1.16-1.19x copy() with y through the cache unfused and 1.10-1.14 fused,
// 8x64x56x56 1.17-1.18 and 1.10-1.13, 16x128x28x28 1.18-1.22 and
// 1.10-1.12, 4x32x112x112 1.15-1.19 and 1.09-1.10.
func (w *workspace) fused(c0, c1 int) bool {
	if !fuseTrain || w.op != opTrainGroups || w.geo.group != 1 || w.geo.pieces != 0 || w.anyExtreme(c0, c1) {
		return false
	}
	return !w.ntFused || w.s.S >= fuseMinRun
}

// fusedGroups normalizes group u while it sums group u+1, pairing, sample
// by sample, the j-th channel of one with the j-th channel of the other in
// one kernel call (StatsApplyCF): the loads of the statistics and the
// stores of the normalization then go to memory together. Each channel's
// statistics take its runs in the order groupUnit does, so the sums are
// the same bits.
//
// On whole lines (samplePair), it also walks sample r and sample r+P in one
// call (StatsApplyCFPair): two streams each way. P is a whole number of
// slabs, so the second stream's runs fill slabs of their own, in lanes of
// their own; their slab totals are held back and added to the channel's
// totals after the first stream's, in slab order, as groupUnit adds them.
// Tune harness, TUNE_COLD=1, TUNE_PAIR=0 against the default, alternating
// (2026-12-07, AVX-512): Train of 32x64x56x56 took 1.38-1.63x copy()
// unpaired and 1.25-1.45 paired (seven pairs, the paired run faster in
// six), 16x32x112x112 1.25-1.32 and 1.20-1.22, 64x128x56x56 1.39-1.47
// and 1.32-1.33 (and 1.56 once); AVX2 32x64x56x56 1.47-1.56 and
// 1.36-1.49.
func (w *workspace) fusedGroups(u int, acc []float64) {
	s, k := w.s, w.k
	stride := s.C * s.S
	a0, a1, b0, b1 := w.groupAndNext(u) // normalized, summed
	P, np := w.samplePair()
	if np == 0 {
		for r := range s.N {
			w.fusedRun(r, a0, a1, b0, b1, acc)
		}
		return
	}
	rps := w.geo.runsPerSlab
	held := acc[w.group*pipeChanAcc:]
	pair := P * stride
	nheld := 0
	for r := range np {
		end1, end2 := (r+1)%rps == 0, (r+P+1)%rps == 0 || r+P+1 == s.N
		for j := range a1 - a0 {
			ca, cb := a0+j, b0+j
			offA, offB := r*stride+ca*s.S, r*stride+cb*s.S
			if cb >= b1 {
				k.applyCFNTPair(w.y[offA:offA+pair+s.S], w.x[offA:offA+pair+s.S], 1, 1, s.S, stride, pair, w.par[ca*pstride:])
				continue
			}
			l := acc[(cb-b0)*pipeChanAcc : (cb-b0+1)*pipeChanAcc]
			k.statsApplyCFNTPair(l, w.x[offB:offB+pair+s.S], s.S, pair, w.piv[cb],
				w.y[offA:offA+pair+s.S], w.x[offA:offA+pair+s.S], w.par[ca*pstride:])
			if end1 {
				w.addSlabLanes(cb, l[:2*lanes])
			}
			if end2 {
				w.hold(held, cb-b0, nheld, l[2*lanes:4*lanes])
				clear(l[2*lanes:])
			}
		}
		if end2 {
			nheld++
		}
	}
	// The first stream's last samples alone, up to P: a slab's end.
	for r := np; r < P; r++ {
		w.fusedRun(r, a0, a1, b0, b1, acc)
	}
	// The second stream's slabs, in order. It covered samples [P, P+np):
	// whole slabs when np = P, else the batch's end; either way its last
	// run ended a slab, and the samples left start one.
	w.addHeld(held, b0, b1, nheld)
	for r := P + np; r < s.N; r++ {
		w.fusedRun(r, a0, a1, b0, b1, acc)
	}
}

// fusedRun is fusedGroups' work on sample r, one stream: each channel of
// group [a0, a1) normalized with a channel of [b0, b1) summed in one call.
func (w *workspace) fusedRun(r, a0, a1, b0, b1 int, acc []float64) {
	s, k := w.s, w.k
	stride := s.C * s.S
	slabEnd := (r+1)%w.geo.runsPerSlab == 0 || r+1 == s.N
	statsApply, apply := k.statsApplyCFNT, k.applyCFNT
	if !w.ntFused {
		statsApply, apply = k.statsApplyCF, k.applyCF
	}
	for j := range max(a1-a0, b1-b0) {
		ca, cb := a0+j, b0+j
		offA, offB := r*stride+ca*s.S, r*stride+cb*s.S
		var lanesB []float64
		if cb < b1 {
			lanesB = acc[(cb-b0)*pipeChanAcc : (cb-b0)*pipeChanAcc+2*lanes]
		}
		switch {
		case ca < a1 && cb < b1:
			statsApply(lanesB, w.x[offB:offB+s.S], w.piv[cb], w.y[offA:offA+s.S], w.x[offA:offA+s.S], w.par[ca*pstride:])
		case ca < a1:
			apply(w.y[offA:offA+s.S], w.x[offA:offA+s.S], 1, 1, s.S, stride, w.par[ca*pstride:])
		default:
			k.statsCF(lanesB, w.x[offB:offB+s.S], 1, s.S, stride, 1, w.piv[cb])
		}
		if cb < b1 && slabEnd {
			w.addSlabLanes(cb, lanesB)
		}
	}
}

// hold keeps the totals of a slab of the paired schedules' second sample
// for channel j of the summed group: lanes64 holds the slab's float64
// lanes of each quantity in turn (two for Train, whose third total is 0,
// or three), reduced here; the slab is the i-th of that sample's. The
// totals of a channel take 3*w.geo.slabs values of held (pipeAccLen).
func (w *workspace) hold(held []float64, j, i int, lanes64 []float64) {
	h := held[j*3*w.geo.slabs+3*i : j*3*w.geo.slabs+3*i+3]
	for q := range h {
		h[q] = 0
		if (q+1)*lanes <= len(lanes64) {
			h[q] = fallback.SumLanes(lanes64[q*lanes:])
		}
	}
}

// addHeld adds the n slabs' totals held for channels [b0, b1) to the
// channels' totals, slab by slab in order (a channel's sum, sq and aux
// each take their slabs in order; Train's aux stays 0).
func (w *workspace) addHeld(held []float64, b0, b1, n int) {
	for c := b0; c < b1; c++ {
		h := held[(c-b0)*3*w.geo.slabs:]
		for i := range n {
			w.sum[c] += h[3*i]
			w.sq[c] += h[3*i+1]
			w.aux[c] += h[3*i+2]
		}
	}
}

// groupAndNext returns the channels [a0, a1) of group u and [b0, b1) of
// group u+1.
func (w *workspace) groupAndNext(u int) (a0, a1, b0, b1 int) {
	a0, a1 = u*w.group, min(w.s.C, (u+1)*w.group)
	return a0, a1, a1, min(w.s.C, (u+2)*w.group)
}

// samplePair returns the distance P, in samples, at which fusedGroups
// and backPairGroups pair sample r with sample r+P, and the number of
// pairs np (0: they do not pair). P is the whole number of slabs nearest
// half the batch that pairs the most samples; the kernels need runs of
// whole 64-byte lines (w.ntRuns, S a multiple of 16), one run per flush
// unit.
func (w *workspace) samplePair() (P, np int) {
	if !pairOn || !w.ntRuns || w.s.S%16 != 0 || w.geo.pieces > 0 || w.geo.group != 1 {
		return 0, 0
	}
	rps, n := w.geo.runsPerSlab, w.s.N
	for m := max(1, n/2/rps); m <= n/2/rps+1; m++ {
		if p := m * rps; p < n && min(p, n-p) > np {
			P, np = p, min(p, n-p)
		}
	}
	return P, np
}

// backPaired reports whether Backward's apply of group [c0, c1) and the
// sums of the next group run paired (backPairGroups): non-temporal
// stores, samples to pair, and no extreme channel in the group.
func (w *workspace) backPaired(c0, c1 int) bool {
	if w.op != opBackGroups || !w.nt || w.anyExtreme(c0, c1) {
		return false
	}
	_, np := w.samplePair()
	return np > 0
}

// fuseBackward enables Backward's fused pipeline (the tune harness turns
// it off to compare: TUNE_BACKFUSE=0).
var fuseBackward = true

// backFused reports whether Backward's dx of group [c0, c1) and the sums
// of the next group run fused (backFusedGroups): dx through the cache
// (the non-temporal schedule pairs samples instead, backPairGroups), one
// run per flush unit, and no extreme channel in the group.
func (w *workspace) backFused(c0, c1 int) bool {
	return fuseBackward && w.op == opBackGroups && !w.nt && w.geo.group == 1 && w.geo.pieces == 0 && !w.anyExtreme(c0, c1)
}

// backFusedGroups writes dx of group u while it sums group u+1, sample by
// sample, the j-th channel of one with the j-th channel of the other in
// one kernel call (BackwardSumsApplyCF): the apply's loads from L1 and L2
// and the sums' loads from further out are then in flight together. Each
// channel's sums take its runs in the order groupUnit does, so they are
// the same bits. bnbench, channels first, three alternating pairs of
// binaries (2026-12-07, AVX-512; AVX2 alike): Backward of 8x256x28x28
// took 1.84-1.93x copy() unfused and 1.72-1.80 fused, 8x64x56x56
// 1.84-1.90 and 1.65-1.78, 16x128x28x28 1.85-1.88 and 1.67-1.71,
// 4x32x112x112 1.79-1.82 and 1.65-1.69.
func (w *workspace) backFusedGroups(u int, acc []float64) {
	s, k := w.s, w.k
	stride := s.C * s.S
	a0, a1, b0, b1 := w.groupAndNext(u) // applied, summed
	for r := range s.N {
		slabEnd := (r+1)%w.geo.runsPerSlab == 0 || r+1 == s.N
		for j := range max(a1-a0, b1-b0) {
			ca, cb := a0+j, b0+j
			offA, offB := r*stride+ca*s.S, r*stride+cb*s.S
			var l []float64
			if cb < b1 {
				l = acc[(cb-b0)*pipeChanAcc : (cb-b0)*pipeChanAcc+3*lanes]
			}
			switch {
			case ca < a1 && cb < b1:
				k.backwardSumsApplyCF(l, w.dy[offB:offB+s.S], w.x[offB:offB+s.S], w.smean[cb],
					w.y[offA:offA+s.S], w.dy[offA:offA+s.S], w.x[offA:offA+s.S], w.par[ca*pstride:])
			case ca < a1:
				k.backwardApplyCF(w.y[offA:offA+s.S], w.dy[offA:offA+s.S], w.x[offA:offA+s.S], 1, 1, s.S, stride, w.par[ca*pstride:])
			default:
				k.backwardCF(l, w.dy[offB:offB+s.S], w.x[offB:offB+s.S], 1, s.S, stride, 1, w.smean[cb])
			}
			if cb < b1 && slabEnd {
				w.addSlabLanes(cb, l)
			}
		}
	}
}

// backPairGroups is Backward's pipelined step from group u to group u+1
// on paired samples: for r < np, the apply of group u on samples r and
// r+P in one call (BackwardApplyCFPair), then the sums of each channel of
// group u+1 on the same two samples in one call (BackwardCFPair, each
// sample's runs in lanes of their own); then the samples left one at a
// time, as pipeGroups does. The second sample's slab totals are held back
// and added after the first's, in slab order, as in fusedGroups. Tune
// harness as for fusedGroups (three pairs each, AVX-512): Backward of
// 32x64x56x56 2.19-2.20x copy() unpaired, 1.93-2.04 paired;
// 64x128x56x56 2.23-2.24 and 1.98-2.08; 16x32x112x112 2.11-2.19 and
// 1.79-1.89; AVX2 32x64x56x56 2.23-2.28 and 1.99-2.12 (two pairs).
//
// The apply walks the pairs in the order the sums read them. Walked the
// other way, last pair first, its re-reads meet the pairs the sums read
// last, which may still be in L2. An earlier trial of that order (488f73d's
// session) found 32x64x56x56 2.15 -> 2.33x copy(), the others level
// (bench/MEASUREMENTS.md); tried again, it changed little (a temporary test,
// 2026-12-07, AVX-512: three calls back to back against three copy(),
// the two orders alternating, medians of 30 rounds): 32x64x56x56 1.91x
// copy() in order and 1.92 reversed, 16x32x112x112 2.07 and 2.00,
// 64x128x56x56 (12 rounds) 1.86 and 1.82; from memory (tune harness,
// TUNE_COLD=1, three runs) 32x64x56x56 1.45-1.60 and 1.50-1.61.
//
// Nor did one loop for the j-th channel's sums and the j-th applied
// channel's dx on both samples (BackwardSumsApplyCFNTPair, 69eaf04,
// reverted in 3d50aee; AVX-512, 2026-12-07). In a temporary benchmark of
// the kernels alone on 32x64x56x56 from memory (after 520 MB of other
// copies; three runs) it took 5.3-5.5 ms against 6.2-6.3 for these two
// calls, one-channel groups either way. Unpaired, the same loop took
// 1.2-1.4 ms more than with its re-read made free (reading one buffer that
// stays in L1), on 16 samples 0.1-0.4 ms more, on 64 2.7: the re-read from
// L2 is what it cannot hide once a channel's x and dy pass about 1 MB.
// Hints on the re-read lines did not help: a CLDEMOTE of each line after
// its dx took the loop from 5.6-5.8 ms to 8.9-9.3, and a PREFETCHNTA of
// the re-read 512 B ahead to 6.2-6.3 (three runs each). In the library it
// came to little: tune harness from memory (TUNE_COLD=1, TUNE_BACKFUSE 0
// and 1 alternating), 32x64x56x56 1.37-1.55x copy() against 1.42-1.64 over
// seven pairs, 64x128x56x56 1.62-1.68 against 1.63-1.71, 16x32x112x112
// 1.26-1.61 against 1.56-1.67, 64x128x28x28, 64x64x40x40 and 32x32x56x56
// level; warm level (32x64x56x56 1.44-1.49 against 1.41-1.48); bnbench,
// three alternating pairs of binaries, 32x64x56x56 1.69-1.85 against
// 1.71-1.85, 64x128x56x56 1.81-1.84 against 1.74-1.84, 16x32x112x112
// 1.63-2.02 against 1.67-1.93.
func (w *workspace) backPairGroups(u int, acc []float64) {
	s, k := w.s, w.k
	stride := s.C * s.S
	a0, a1, b0, b1 := w.groupAndNext(u) // applied, summed
	P, np := w.samplePair()
	rps := w.geo.runsPerSlab
	held := acc[w.group*pipeChanAcc:]
	pair := P * stride
	span := (a1-a0)*s.S + pair
	nheld := 0
	for r := range np {
		end1, end2 := (r+1)%rps == 0, (r+P+1)%rps == 0 || r+P+1 == s.N
		off := r*stride + a0*s.S
		k.backwardApplyCFNTPair(w.y[off:off+span], w.dy[off:off+span], w.x[off:off+span], 1, a1-a0, s.S, stride, pair, w.par[a0*pstride:])
		for cb := b0; cb < b1; cb++ {
			o := r*stride + cb*s.S
			l := acc[(cb-b0)*pipeChanAcc : (cb-b0+1)*pipeChanAcc]
			k.backwardCFPair(l, w.dy[o:o+pair+s.S], w.x[o:o+pair+s.S], s.S, pair, w.smean[cb])
			if end1 {
				w.addSlabLanes(cb, l[:3*lanes])
			}
			if end2 {
				w.hold(held, cb-b0, nheld, l[3*lanes:])
				clear(l[3*lanes:])
			}
		}
		if end2 {
			nheld++
		}
	}
	one := func(r int) {
		off := r*stride + a0*s.S
		n := (a1 - a0) * s.S
		k.backwardApplyCFNT(w.y[off:off+n], w.dy[off:off+n], w.x[off:off+n], 1, a1-a0, s.S, stride, w.par[a0*pstride:])
		w.groupUnit(u+1, r, acc)
	}
	for r := np; r < P; r++ {
		one(r)
	}
	// The second sample's slabs, in order (see fusedGroups).
	w.addHeld(held, b0, b1, nheld)
	for r := P + np; r < s.N; r++ {
		one(r)
	}
}
