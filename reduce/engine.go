package reduce

import (
	"unsafe"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// The engine behind bn: it cuts one call into units (channel groups, slabs
// or element-wise chunks), runs them through a Runner, and combines the
// partial sums in a fixed order, so that the result does not depend on the
// Runner.

type op int

const (
	opTrainGroups  op = iota + 1 // channels first: statistics, parameters and apply of a channel group
	opBackGroups                 // channels first: backward sums, parameters and apply of a channel group
	opStatsSlabs                 // shifted sums of one slab
	opBackSlabs                  // backward sums of one slab
	opApply                      // one chunk of the normalize kernel
	opBackApply                  // one chunk of the backward apply kernel
	opRowPivots                  // row-major: pivots of a range of channels
	opRowTrain                   // row-major: totals, statistics and parameters of a range of channels
	opRowBack                    // row-major: backward totals and parameters of a range of channels
	opRowBlockBack               // row-major: backward sums, parameters and apply of a block of channels (blocks.go)
	opInferGroups                // channels first, several workers: Infer's parameters and normalization of a channel group
)

// rowChans is the number of channels of one unit of the row-major
// per-channel ops.
const rowChans = 256

// call is the state of one call, shared by its tasks. Tasks write disjoint
// parts of it.
type call struct {
	k   *kernels
	run Runner
	op  op
	s   Shape

	y, x, dy        []float32
	gamma, beta     []float32
	gammaOr, betaOr []float32 // gamma and beta, or ones and zeros in their place (workspace.gammaBeta)
	eps             float32
	smean, sinv     []float32 // Backward: the saved statistics
	rmean, rvar     []float32 // Infer: the statistics it normalizes with

	mean, variance, inv []float64 // Train: per channel
	dgamma, dbeta       []float64 // Backward: per channel
	extreme             []bool    // channels on the float64 path (extreme.go)
	xmean, xdot, xinv   []float64 // Backward: float64 statistics of extreme channels
	piv                 []float32 // pivots of the statistics
	par                 []float32 // kernel parameters
	group               int       // channels per group
	chunking            cfChunking
	pair                pairing      // channels-first element-wise op over two halves of the batch at once
	rowsPer             int          // row-major: rows per element-wise call
	reversed            int          // row-major Backward: its apply's calls, walked last to first (reverseChunks); 0 in order
	colBlock            int          // row-major: channels per element-wise call (colBlockC), or C
	parCols             []float32    // row-major: w.par, planar within each column block (colBlockC)
	geo                 cfGeo        // channels first: the slab geometry
	nt                  bool         // element-wise kernels store non-temporally
	ntRuns              bool         // nt, and every channels-first run of the output starts on an asm.NTAlign boundary
	ntFused             bool         // Train: StatsApplyCF may run (ntRuns, or long unaligned runs)
	nslabs              int          // row-major: slabs of the call
	slow                []bool       // row-major per-channel ops: a unit met a rare case
	pipe                bool         // fused groups run pipelined (pipeline.go)
	memOrder            bool         // channels-first slabs walk memory in address order (slabMemOrderCF)
	prefetchCL          bool         // row-major slabs use the Prefetch reduction kernels (prefetchCLBytes)
	cachedCL            bool         // row-major slabs use the Cached reduction kernels (cachedCLBytes)
	blockC              int          // row-major: channels per block of a channel-blocked call (blocks.go), or 0
	sum, sq, aux        []float64    // pipelined: per-channel totals
	train               trainOutputs // Train by channel groups: each part writes its channels' outputs
	back                gradOutputs  // Backward by channel groups or blocks: the same for the gradients

	units, parts int
	part         []float64 // per-slab partial sums
	slabNums     []float64 // row-major, several workers: each slab's sums, its phases added (reduceSlab)
	reducedSlabs bool      // the row-major slabs' workers fill slabNums
	acc          []float64 // per-part kernel accumulators, accLen each
	accLen       int
	lanes        []float32 // row-major: per-part float32 scratch of the reductions, lanesLen each
	lanesLen     int
	carryLen     int // channels first: the Carry kernels' lanes at the end of each part's acc and lanes (carryCF), or 0
}

func (w *workspace) begin(run Runner, s Shape) {
	if run == nil {
		run = Serial
	}
	w.call = call{k: current(), run: run, s: s}
	if !s.rowMajor() {
		w.geo = newCFGeo(s)
		w.memOrder = w.geo.pieces == 0 && s.Len()*4 >= memOrderBytes && !carries(s)
	} else {
		w.prefetchCL = s.Len()*4 >= prefetchCLBytes && s.C >= prefetchCLMinC && s.C <= prefetchCLMaxC
		w.cachedCL = s.Len()*4 < cachedCLBytes
	}
	w.extreme = w.flags(s.C)
}

// exec runs units [0, w.units) of w.op, cut into parts of consecutive
// units, each with its own accumulators.
func (w *workspace) exec(o op, units int) {
	w.op, w.units = o, units
	w.parts = min(units, 4*w.run.Workers(), maxTasks)
	if w.run.Workers() <= 1 {
		w.parts = min(units, 1)
	}
	w.accLen = 3 * lanes
	if w.s.rowMajor() {
		// Only a channel block's sums use it (blockSums); the slabs'
		// lanes go to w.part.
		w.accLen = 3 * phases * w.blockC
	}
	if w.pipe {
		w.accLen = max(w.accLen, w.pipeAccLen())
	} else if o == opTrainGroups || o == opBackGroups {
		w.accLen = groupAccLen(w.group)
	} else if (o == opStatsSlabs || o == opBackSlabs) && !w.s.rowMajor() {
		w.accLen = 3*lanes + 3*slabChans
		if w.memOrder {
			w.accLen += 3 * lanes * slabChans
		}
	}
	w.carryLen = 0
	if w.usesCarry(o) {
		w.carryLen = nqMax * lanes * carryChans
		w.accLen += w.carryLen
	}
	w.acc = grow64(&w.acc64, w.parts*w.accLen)
	w.lanesLen = 0
	if w.s.rowMajor() {
		w.lanesLen = fallback.TmpCL(3, w.s.C)
	} else if o == opTrainGroups || o == opBackGroups {
		w.lanesLen = 5 * w.group // groupTrainParams, groupBackParams
	}
	w.lanesLen += w.carryLen
	w.lanes = grow32(&w.lanes32, w.parts*w.lanesLen)
	w.run.Run(w.parts, w.task)
}

// serialChans is the channel count up to which execChannels keeps a
// row-major call's per-channel phases (pivots, statistics and parameters)
// on the calling goroutine (tests lower it). Measured on two workers
// (8x512x7x7 channels last, Train, temporary timers): the per-channel
// phase took 2.2 us on one worker and 7.1 us split over two, and the
// pivots 1.0 and 2.1 us: a few nanoseconds per channel buy less than
// moving the channels' lines between the cores costs. Measured again on
// the Intel Xeon VM after reduceSlab (temporary timers, each figure the
// mean of 4000 calls, the two settings alternating, eight figures each,
// 2026-12-07): split, the per-channel phase took 5.4-6.1 us against
// 6.2-6.6 whole, but the pivots 2.0-2.4 against 1.9-2.0 and the slab
// pass 12.1-13.3 against 11.2-12.5, the whole Train 34.5-40.0 against
// 34.7-37.7: level or slower.
var serialChans = 8192

// execChannels is exec for the per-channel ops of a row-major call: on
// the calling goroutine alone when there are at most serialChans channels.
func (w *workspace) execChannels(o op, units int) {
	if w.s.C > serialChans || w.run.Workers() <= 1 {
		w.exec(o, units)
		return
	}
	run := w.run
	w.run = Serial
	w.exec(o, units)
	w.run = run
}

// runPart is w.task: part p of the current exec.
func (w *workspace) runPart(p int) {
	acc := w.acc[p*w.accLen : (p+1)*w.accLen]
	tmp := w.lanes[p*w.lanesLen : (p+1)*w.lanesLen]
	u0, u1 := p*w.units/w.parts, (p+1)*w.units/w.parts
	if w.pipe && (w.op == opTrainGroups || w.op == opBackGroups) {
		w.pipeGroups(u0, u1, acc)
	} else {
		for u := u0; u < u1; u++ {
			w.unit(u, acc, tmp)
		}
	}
	switch w.op {
	case opTrainGroups:
		c0, c1 := u0*w.group, min(w.s.C, u1*w.group)
		writeTrainOutputs(w.train, c0, c1, w.mean, w.variance, w.inv)
	case opBackGroups:
		writeGrads(w.back, u0*w.group, min(w.s.C, u1*w.group), w.dgamma, w.dbeta)
	case opRowBlockBack:
		writeGrads(w.back, u0*w.blockC, min(w.s.C, u1*w.blockC), w.dgamma, w.dbeta)
	}
}

func (w *workspace) unit(u int, acc []float64, tmp []float32) {
	s, k := w.s, w.k
	switch w.op {
	case opTrainGroups:
		c0, c1 := u*w.group, min(s.C, (u+1)*w.group)
		tot := w.groupSums(c0, c1, acc, tmp)
		if !w.groupTrainParams(c0, c1, tot, tmp) {
			for c := c0; c < c1; c++ {
				var ext bool
				i := 2 * (c - c0)
				w.mean[c], w.variance[c], ext = momentsFromSums(k, acc, w.x, &w.geo, c, w.piv[c], tot[i], tot[i+1])
				w.markExtreme(c, ext)
				w.fixTiny(c)
			}
			w.trainParamsRange(c0, c1)
		}
		w.applyChannelsCF(c0, c1)
	case opBackGroups:
		c0, c1 := u*w.group, min(s.C, (u+1)*w.group)
		tot := w.groupSums(c0, c1, acc, tmp)
		if !w.groupBackParams(c0, c1, acc, tot, tmp) {
			for c := c0; c < c1; c++ {
				i := 3 * (c - c0)
				w.backParam(c, tot[i], tot[i+1], tot[i+2])
			}
		}
		w.applyChannelsCF(c0, c1)
	case opStatsSlabs:
		if s.rowMajor() {
			C := s.C
			r0, nr := slabCL(s, u)
			a := w.slabPart(u, 2) // set by the kernel, not added to
			stats := k.statsCL
			switch {
			case w.prefetchCL:
				stats = k.statsCLPrefetch
			case w.cachedCL:
				stats = k.statsCLCached
			}
			stats(a, w.x[r0*C:(r0+nr)*C], nr, C, C, w.piv, tmp)
			if w.reducedSlabs {
				w.reduceSlab(u, 2)
			}
			return
		}
		w.slabChansCF(u, acc, tmp)
	case opBackSlabs:
		if s.rowMajor() {
			C := s.C
			r0, nr := slabCL(s, u)
			a := w.slabPart(u, 3) // set by the kernel, not added to
			back := k.backwardCL
			switch {
			case w.prefetchCL:
				back = k.backwardCLPrefetch
			case w.cachedCL:
				back = k.backwardCLCached
			}
			back(a, w.dy[r0*C:(r0+nr)*C], w.x[r0*C:(r0+nr)*C], nr, C, C, w.smean, tmp)
			if w.reducedSlabs {
				w.reduceSlab(u, 3)
			}
			return
		}
		w.slabChansCF(u, acc, tmp)
	case opApply:
		if s.rowMajor() {
			C := s.C
			r0, nr := rowChunk(s, w.rowsPer, u)
			apply := k.applyCL
			if w.nt {
				apply = k.applyCLNT
			}
			for c0 := 0; c0 < C; c0 += w.colBlock {
				c1 := min(C, c0+w.colBlock)
				lo, hi := r0*C+c0, (r0+nr-1)*C+c1
				apply(w.y[lo:hi], w.x[lo:hi], nr, c1-c0, C, w.parCols[4*c0:4*c1])
			}
			return
		}
		if w.pair.off > 0 {
			w.pairedChunk(&w.pair, u, false)
			return
		}
		w.applyChunkCF(w.chunking, u)
	case opBackApply:
		if s.rowMajor() {
			C := s.C
			if w.reversed > 0 {
				u = w.reversed - 1 - u // reverseChunks
			}
			r0, nr := rowChunk(s, w.rowsPer, u)
			apply := k.backwardApplyCL
			if w.nt {
				apply = k.backwardApplyCLNT
			}
			for c0 := 0; c0 < C; c0 += w.colBlock {
				c1 := min(C, c0+w.colBlock)
				lo, hi := r0*C+c0, (r0+nr-1)*C+c1
				apply(w.y[lo:hi], w.dy[lo:hi], w.x[lo:hi], nr, c1-c0, C, w.parCols[5*c0:5*c1])
			}
			return
		}
		if w.pair.off > 0 {
			w.pairedChunk(&w.pair, u, true)
			return
		}
		w.backApplyChunkCF(w.chunking, u)
	case opRowPivots:
		c0, c1 := u*rowChans, min(s.C, (u+1)*rowChans)
		setPivots(w.piv, w.x, s, c0, c1)
	case opRowTrain:
		w.slow[u] = !w.trainRows(u*rowChans, min(s.C, (u+1)*rowChans))
	case opRowBack:
		w.slow[u] = !w.backRows(u*rowChans, min(s.C, (u+1)*rowChans))
	case opRowBlockBack:
		w.backBlock(u*w.blockC, min(s.C, (u+1)*w.blockC), acc, tmp)
	case opInferGroups:
		c0, c1 := u*w.group, min(s.C, (u+1)*w.group)
		w.inferParamsCF(c0, c1)
		ch := chunkingCF(s, c0, c1, chunkElems)
		for i := range ch.count {
			w.applyChunkCF(ch, i)
		}
	}
}

func (w *workspace) applyChunkCF(ch cfChunking, i int) {
	s := w.s
	off, n, c, runLen, cFirst := ch.chunk(s, i)
	apply := w.k.applyCF
	if w.nt {
		apply = w.k.applyCFNT
	}
	apply(cfSpan(w.y, s, off, n, c, runLen), cfSpan(w.x, s, off, n, c, runLen),
		n, c, runLen, s.C*s.S, w.par[cFirst*pstride:])
}

func (w *workspace) backApplyChunkCF(ch cfChunking, i int) {
	s := w.s
	off, n, c, runLen, cFirst := ch.chunk(s, i)
	apply := w.k.backwardApplyCF
	if w.nt {
		apply = w.k.backwardApplyCFNT
	}
	apply(cfSpan(w.y, s, off, n, c, runLen), cfSpan(w.dy, s, off, n, c, runLen),
		cfSpan(w.x, s, off, n, c, runLen), n, c, runLen, s.C*s.S, w.par[cFirst*pstride:])
}

// groupAccLen is the accumulator space of one part of the unpipelined
// fused groups: the kernels' lanes, then groupSums' per-slab sums and
// totals of up to three quantities per channel.
func groupAccLen(group int) int { return 3*lanes + 6*group }

// groupTrainParams is trainParamsVec for the channels-first group [c0, c1)
// from its sums tot (sum and sq of each channel in turn), with tmp as
// scratch of 5*(c1-c0) values; the parameters go interleaved into w.par.
// It reports false, and leaves the group to the per-channel path
// (momentsFromSums, fixTiny, trainParamsRange), as trainParamsVec does.
func (w *workspace) groupTrainParams(c0, c1 int, tot []float64, tmp []float32) bool {
	n := c1 - c0
	mean, vr := w.mean[c0:c1], w.variance[c0:c1]
	for i := range mean {
		mean[i], vr[i] = tot[2*i], tot[2*i+1]
	}
	hi, lo, a, b := tmp[:n], tmp[n:2*n], tmp[2*n:3*n], tmp[3*n:4*n]
	if !w.trainParamsVec(c0, c1, hi, lo, a, b) {
		return false
	}
	for i := range n {
		q := w.par[(c0+i)*pstride : (c0+i)*pstride+5]
		q[0], q[1], q[2], q[3], q[4] = hi[i], lo[i], a[i], b[i], 0
	}
	return true
}

// groupBackParams is backParamsVec for the channels-first Backward group
// [c0, c1) from its sums tot (sdy, dot and res of each channel in turn,
// after groupSums' slab sums in acc), with tmp as scratch of 5*(c1-c0)
// values; the parameters go interleaved into w.par. It reports false, and
// leaves the group to backParam, as backParamsVec does.
func (w *workspace) groupBackParams(c0, c1 int, acc, tot []float64, tmp []float32) bool {
	n := c1 - c0
	// sdy goes to dbeta, which it is; dot and res where groupSums kept a
	// slab's sums.
	sdy, dot, res := w.dbeta[c0:c1], acc[3*lanes:3*lanes+n], acc[3*lanes+n:3*lanes+2*n]
	for i := range sdy {
		sdy[i], dot[i], res[i] = tot[3*i], tot[3*i+1], tot[3*i+2]
	}
	hi, lo, k2, k3, k1 := tmp[:n], tmp[n:2*n], tmp[2*n:3*n], tmp[3*n:4*n], tmp[4*n:5*n]
	if !w.backParamsVec(c0, c1, sdy, dot, res, hi, lo, k2, k3, k1) {
		return false
	}
	for i := range n {
		q := w.par[(c0+i)*pstride : (c0+i)*pstride+5]
		q[0], q[1], q[2], q[3], q[4] = hi[i], lo[i], k2[i], k3[i], k1[i]
	}
	return true
}

// groupSums returns the sums of channels [c0, c1) of a fused group
// (Train: the shifted sums with the pivots it sets in w.piv; Backward: the
// backward sums), nq per channel, each channel's slab sums added in slab
// order: one multi-channel kernel call per slab.
func (w *workspace) groupSums(c0, c1 int, acc []float64, tmp []float32) []float64 {
	s, g := w.s, &w.geo
	nch := c1 - c0
	nq := 2
	if w.op == opBackGroups {
		nq = 3
	} else {
		setPivots(w.piv, w.x, s, c0, c1)
	}
	lanesAcc := acc[:3*lanes]
	slab := acc[3*lanes : 3*lanes+nq*nch]
	tot := acc[3*lanes+3*w.group : 3*lanes+3*w.group+nq*nch]
	clear(tot)
	c64, c32 := w.carrySpace(acc, tmp)
	for j := range g.slabs {
		w.chansCF(slab, lanesAcc, c64, c32, c0, c1, j, nq == 3)
		for i, v := range slab {
			tot[i] += v
		}
	}
	return tot
}

// chansCF runs the multi-channel reduction kernel over slab j of channels
// [c0, c1), channels first: the backward sums with the saved means, or the
// shifted sums with the pivots, nq per channel into out.
//
// The Chans kernels walk channel by channel, each channel's runs down the
// samples: with short runs and many samples that is one stream of memory
// per sample, advanced by one run per channel, which from the last-level
// cache or memory reads slower than a sequential pass. On ResNet-50's
// 32x2048x7x7 (12.8 MB, Train's groups of 83 channels) a Train took 1.02
// ms, 49% of it in StatsCFChans, and a Backward 2.32 ms, 59% in
// BackwardCFChans (AVX-512, a temporary benchmark under pprof). Where the
// call has scratch for it (usesCarry) and carryHere, chansCF takes carryCF
// instead, which reads 8 streams at a time, with the same bits.
func (w *workspace) chansCF(out, lanesAcc, c64 []float64, c32 []float32, c0, c1, j int, backward bool) {
	s, g, k := w.s, &w.geo, w.k
	nch := c1 - c0
	start, nruns, runLen, group := g.slab(c0, j)
	if len(c64) > 0 && w.carryHere(nruns, group) {
		w.carryCF(out, c64, c32, c0, c1, start, nruns, runLen, group, backward)
		return
	}
	end := start + (nruns-1)*g.stride + (nch-1)*s.S + runLen
	if backward {
		k.backwardCFChans(out, lanesAcc, w.dy[start:end], w.x[start:end], nch, s.S, nruns, runLen, g.stride, group, w.smean[c0:c1])
		return
	}
	k.statsCFChans(out, lanesAcc, w.x[start:end], nch, s.S, nruns, runLen, g.stride, group, w.piv[c0:c1])
}

// carryRuns is the number of runs (samples) that carryCF gives each call
// of the Carry kernels, and carryChans the most channels of one of its
// walks; nqMax*lanes*carryChans float64 and as many float32 values of
// each part's scratch hold their lanes.
const (
	carryRuns  = 8
	carryChans = 64
	nqMax      = 3
)

// carryOn enables carryCF; tests turn it off to compare.
var carryOn = true

// carryMaxRun is the run length from which chansCF keeps the Chans
// kernels, whose walk reads runs of 512 bytes and more well enough: with
// carryCF, Backward of 32x1024x14x14 took 3.83-4.54x copy() against
// 3.77-4.18 and of 32x256x28x28 3.19-3.74 against 3.05-3.41 (bnbench,
// AVX-512, three alternating pairs; Train level).
const carryMaxRun = 128

// carries reports whether chansCF may walk the slabs of s with carryCF:
// channels first, runs shorter than carryMaxRun, more samples than
// carryRuns. Such a batch's statistics slabs take carryCF instead of the
// address-order walk (slabMemOrderCF), whose calls cover one channel.
func carries(s Shape) bool {
	return carryOn && !s.rowMajor() && s.S < carryMaxRun && s.N > carryRuns
}

// groupsCarry reports whether the channel groups of s walk their slabs
// with carryCF: carries, and more samples than a flush group (see
// carryHere).
func groupsCarry(s Shape) bool {
	return carries(s) && s.N > fallback.FlushCF/max(1, s.S)
}

// usesCarry reports whether op o of this call may walk slabs with carryCF
// (carries, and an op whose units call chansCF), and so needs its scratch.
func (w *workspace) usesCarry(o op) bool {
	if !carries(w.s) {
		return false
	}
	switch o {
	case opTrainGroups, opBackGroups:
		return !w.pipe && groupsCarry(w.s)
	case opStatsSlabs, opBackSlabs:
		return !w.memOrder
	}
	return false
}

// carryHere reports whether chansCF takes carryCF for a slab of nruns runs
// flushed every group (carries holds). With no more runs than a flush
// group, a Chans call flushes each channel once, from registers, and is
// faster in cache: Train of 16x512x7x7 took 2.08-2.13x copy() with
// carryCF and 1.76-1.85 without (bnbench, AVX-512, three alternating
// pairs). The statistics slabs of a batch of memOrderBytes or more take
// carryCF all the same, which is faster there than slabMemOrderCF: MeanVar
// of 16x2048x7x7 0.94-1.03 against 1.48-1.79 (tune harness, TUNE_COLD=1,
// three pairs), while its Train and Backward groups lost with it
// (1.83-2.28 against 1.67-2.08, 2.84-3.32 against 2.67-3.30).
func (w *workspace) carryHere(nruns, group int) bool {
	if nruns <= carryRuns {
		return false
	}
	if nruns > group {
		return true
	}
	return (w.op == opStatsSlabs || w.op == opBackSlabs) && w.s.Len()*4 >= memOrderBytes
}

// carrySpace returns the Carry kernels' lanes at the end of a part's acc
// and tmp, or nils when the call does not use them.
func (w *workspace) carrySpace(acc []float64, tmp []float32) ([]float64, []float32) {
	if w.carryLen == 0 {
		return nil, nil
	}
	return acc[len(acc)-w.carryLen:], tmp[len(tmp)-w.carryLen:]
}

// carryCF is chansCF over a slab that carryHere gives it (more than
// carryRuns runs of fewer than carryMaxRun values): up to carryChans
// channels at a time, carryRuns samples per call of the Carry kernels,
// each channel's float32 and float64 lanes kept in c32 and c64 between
// the calls and reduced by the halving tree in the last call, which gives
// the Chans kernels' bits.
// A call reads carryRuns streams of memory, one per sample; a Chans call
// reads one per sample of the whole slab. Measured on 2026-12-06, AVX-512,
// from memory (the tune harness, TUNE_COLD=1 against TUNE_COLD=1
// TUNE_CARRY=0 in one process, four pairs, upper medians): Backward of
// 32x2048x7x7 3.52x copy() -> 3.16, of 64x256x10x10 3.02 -> 2.65, of
// 256x512x7x7 3.33 -> 3.21; Train of 64x256x10x10 2.12 -> 1.97, of
// 256x512x7x7 2.13 -> 2.06; 128x512x7x7 and 32x512x7x7 level. MeanVar
// (reduce.MeanVar), which walked these in address order before (bnbench,
// the binaries before and after alternating, three pairs): 32x2048x7x7
// 1.47-1.56 -> 0.89-1.05, 256x512x7x7 1.02-1.30 -> 0.72-0.73,
// 64x1024x7x7 1.45-1.47 -> 0.79-0.88 (AVX2: 1.69-1.75 -> 1.15-1.24,
// 1.13-1.38 -> 0.79-0.85, 1.47-1.58 -> 1.09-1.20).
func (w *workspace) carryCF(out, c64 []float64, c32 []float32, c0, c1, start, nruns, runLen, group int, backward bool) {
	s, g, k := w.s, &w.geo, w.k
	nq := 2
	if backward {
		nq = 3
	}
	for a := c0; a < c1; a += carryChans {
		b := min(c1, a+carryChans)
		nch := b - a
		acc, part := c64[:nq*lanes*nch], c32[:nq*lanes*nch]
		clear(acc)
		clear(part)
		first := start + (a-c0)*s.S
		for r := 0; r < nruns; r += carryRuns {
			nr := min(carryRuns, nruns-r)
			end := 0
			if r+nr == nruns {
				end = 1
			}
			lo := first + r*g.stride
			hi := lo + (nr-1)*g.stride + (nch-1)*s.S + runLen
			o := out[(a-c0)*nq:]
			if backward {
				k.backwardCFCarry(o, acc, part, w.dy[lo:hi], w.x[lo:hi], nch, s.S, nr, runLen, g.stride, group, r%group, end, w.smean[a:b])
			} else {
				k.statsCFCarry(o, acc, part, w.x[lo:hi], nch, s.S, nr, runLen, g.stride, group, r%group, end, w.piv[a:b])
			}
		}
	}
}

// slabChans is the number of channels of one unit of opStatsSlabs and
// opBackSlabs, channels first: one multi-channel kernel call.
const slabChans = 64

// slabChansCF is unit u of opStatsSlabs or opBackSlabs, channels first:
// slab u % ns of channels [c0, c1), c0 = u / ns * slabChans, into
// w.part[(c*ns + j)*nq + q].
func (w *workspace) slabChansCF(u int, acc []float64, tmp []float32) {
	s, g := w.s, &w.geo
	ns := g.slabs
	j := u % ns
	c0 := u / ns * slabChans
	c1 := min(s.C, c0+slabChans)
	nch := c1 - c0
	nq := 2
	if w.op == opBackSlabs {
		nq = 3
	}
	out := acc[3*lanes : 3*lanes+nq*nch]
	if w.memOrder {
		w.slabMemOrderCF(out, acc[3*lanes+3*slabChans:], c0, c1, j, nq)
	} else {
		c64, c32 := w.carrySpace(acc, tmp)
		w.chansCF(out, acc[:3*lanes], c64, c32, c0, c1, j, nq == 3)
	}
	for i := range nch {
		copy(w.part[((c0+i)*ns+j)*nq:((c0+i)*ns+j+1)*nq], out[i*nq:(i+1)*nq])
	}
}

// slabStats computes w.mean and w.variance of every channel from slab
// partial sums: pivots, one pass, and a second pass with the float32 means
// as pivots when some channel's pivot was a poor guess.
func (w *workspace) slabStats() {
	s := w.s
	C := s.C
	w.piv = grow32(&w.pivBuf, C)
	setPivots(w.piv, w.x, s, 0, C)
	sum, sq := w.slabSums()
	redo := false
	mean, variance, piv := w.mean[:C], w.variance[:C], w.piv[:C]
	sum, sq = sum[:C], sq[:C]
	for c := range C {
		mean[c], variance[c] = finish(piv[c], sum[c], sq[c], s.M())
	}
	for c := range C {
		redo = redo || needsRedo(piv[c], mean[c], variance[c])
	}
	if redo {
		for c := range C {
			if needsRedo(w.piv[c], w.mean[c], w.variance[c]) {
				w.piv[c] = float32(w.mean[c])
			}
		}
		// The channels that keep their pivot get the same sums again.
		sum, sq = w.slabSums()
		for c := range C {
			w.mean[c], w.variance[c] = finish(w.piv[c], sum[c], sq[c], s.M())
		}
	}
	for c := range C {
		if finite(sum[c]) && finite(sq[c]) {
			continue
		}
		{
			var ext bool
			w.mean[c], w.variance[c], ext = exactMoments(w.x, s, c, w.mean[c], w.variance[c])
			w.markExtreme(c, ext)
		}
	}
}

// slabSums runs opStatsSlabs and returns each channel's shifted sums,
// the slabs' partial sums added in slab order.
func (w *workspace) slabSums() (sum, sq []float64) {
	t := w.slabTotals(opStatsSlabs, 2)
	return t[0], t[1]
}

// backSlabSums runs opBackSlabs and returns each channel's backward sums,
// added in slab order.
func (w *workspace) backSlabSums() (sdy, dot, res []float64) {
	t := w.slabTotals(opBackSlabs, 3)
	return t[0], t[1], t[2]
}

// slabTotals runs o (nq quantities per channel and slab) over every slab
// and adds each channel's partial sums in slab order, in float64. The
// partial sums of slab j of a row-major batch are its kernel's phase lanes
// (slabPart), added in AddPhases' tree; those of slab j of channel c,
// channels first, part[(c*ns+j)*nq+q].
func (w *workspace) slabTotals(o op, nq int) [3][]float64 {
	s := w.s
	C := s.C
	var t [3][]float64
	t[0], t[1] = w.sums(C)
	t[2] = grow64(&w.aux64, C)
	for q := range nq {
		clear(t[q])
	}
	if s.rowMajor() {
		// Whole slabs as units leave two workers unequal shares where the
		// last slab is short (8x512x7x7 channels last: 128, 128, 128 and 8
		// rows, 256 rows against 136). Cutting each slab into one column
		// piece per worker, so that the idle worker takes half a slab, was
		// slower (bnbench -goroutines 2, AVX-512, Intel Xeon, three
		// alternating pairs: Train 1.63-1.79x copy() -> 1.79-1.85, Backward
		// 1.93-2.08 -> 2.24-2.69; Backward of 256x1024, whose two slabs
		// split evenly either way, 2.27-2.36 -> 2.24-2.62). So was one task
		// a worker of equal rows, whole slabs and the one slab where the
		// shares meet cut by channels (8x512x7x7: slab 0 and channels 0-271
		// of slab 1 against the rest, 196 rows each; the kernels take
		// 3.5-3.8 us a slab either way, hot): on two workers Train's slab
		// pass took 12.7-13.8 us against 11.7-12.5, and the whole Train
		// 36.9-40.8 against 35.3-38.2 (temporary timers, the two alternating
		// in one process, eight pairs, 2026-12-07; the split's first call of
		// the eight, 20.4 and 59.5 us, left out). Rows are not the cost:
		// per-task timers (the same test, whole slabs, medians of 2800
		// calls, two runs) had the helper start 0.5 us after the caller and
		// each slab of 128 rows take 4.8-5.4 us (7.1 once), but the slab of
		// 8 rows 2.0-2.5, since every slab cleared (as it then did: the
		// kernels now set their lanes), flushed into and added up 32 KB of
		// float64 lanes whatever its rows; the shares came to
		// 10.1-10.2 us (caller) and 7.5-9.8 (helper), and a cut slab pays
		// those lanes on both sides.
		n := slabsCL(s)
		w.growSlabs(n, nq)
		w.exec(o, n)
		for j := range n {
			w.addSlab(t[:nq], j, 0, C)
		}
		return t
	}
	ns := w.geo.slabs
	w.part = grow64(&w.part64, C*ns*nq)
	w.exec(o, ceilDiv(C, slabChans)*ns)
	for c := range C {
		for j := range ns {
			u := (c*ns + j) * nq
			for q := range nq {
				t[q][c] += w.part[u+q]
			}
		}
	}
	return t
}

// slabPart is the float64 accumulator of slab j of a row-major batch in
// w.part: quantity q, phase u of channel c at [(q*phases+u)*C+c], as the
// channels-last reduction kernels lay out their lanes.
func (w *workspace) slabPart(j, nq int) []float64 {
	n := nq * phases * w.s.C
	return w.part[j*n : (j+1)*n]
}

// growSlabs sizes w.part for n slabs of nq quantities of a row-major
// batch and, when the call has several workers, w.slabNums, whose
// numbers those workers then fill (reduceSlab).
func (w *workspace) growSlabs(n, nq int) {
	w.part = grow64(&w.part64, n*nq*phases*w.s.C)
	w.reducedSlabs = w.run.Workers() > 1
	if w.reducedSlabs {
		w.slabNums = grow64(&w.slabNum64, n*nq*w.s.C)
	}
}

// slabNum holds the numbers of slab j of a row-major batch (reduceSlab):
// quantity q of channel c at [q*C+c].
func (w *workspace) slabNum(j, nq int) []float64 {
	n := nq * w.s.C
	return w.slabNums[j*n : (j+1)*n]
}

// reduceSlab adds the phase lanes of slab j (slabPart) in AddPhases' tree
// into slabNum(j), from 0, on the worker that has just summed the slab.
// The per-channel work that adds the slabs up runs on one goroutine: with
// several workers it then reads nq*C numbers of each slab, not four times
// as many phase lanes that another core wrote. Train on two workers
// spent 9.3-10.7 us in that work on 256x1024 and 8.3-8.7 with it,
// 6.5-8.3 and 6.0-6.9 on 8x512x7x7 channels last (temporary timers, old
// and new code alternating, three runs, 2026-12-07). On one worker the
// lanes are added where they are: the extra pass cost 2-3 us there.
func (w *workspace) reduceSlab(j, nq int) {
	a, v := w.slabPart(j, nq), w.slabNum(j, nq)
	C := w.s.C
	clear(v)
	for q := range nq {
		w.k.addPhases(v[q*C:(q+1)*C], a[q*phases*C:], C)
	}
}

// addSlab adds slab j's sums of channels [c0, c1) to the totals t[q]
// (quantity q, indexed from c0), in AddPhases' tree: from the phase lanes,
// or from the slab's numbers where the workers made them. Called for j =
// 0, 1, ... on totals set to 0, both give the same bits: a slab's number
// is 0 + its tree, which differs from the tree only where that is -0
// (the number is then +0), and a total that starts at +0 is never -0, so
// adding either zero leaves it as it is.
func (w *workspace) addSlab(t [][]float64, j, c0, c1 int) {
	C := w.s.C
	nq := len(t)
	if !w.reducedSlabs {
		a := w.slabPart(j, nq)
		for q, tq := range t {
			w.k.addPhases(tq[:c1-c0], a[q*phases*C+c0:], C)
		}
		return
	}
	v := w.slabNum(j, nq)
	for q, tq := range t {
		vq := v[q*C+c0 : q*C+c1]
		tq = tq[:len(vq)]
		for i, x := range vq {
			tq[i] += x
		}
	}
}

// applyAll runs op (opApply or opBackApply) over every chunk of the batch.
func (w *workspace) applyAll(o op) {
	s := w.s
	if w.anyExtreme(0, s.C) {
		w.op = o
		if s.rowMajor() {
			w.applyRowsExtreme()
		} else {
			w.applyChannelsCF(0, s.C)
		}
		return
	}
	lim := chunkLimit(s, w.run.Workers())
	if s.rowMajor() {
		w.rowsPer, w.reversed = rowsPerChunk(s, lim), 0
		if rows := w.reverseChunks(); o == opBackApply && rows > 0 {
			w.rowsPer = rows
			w.reversed = ceilDiv(s.rows(), rows)
		}
		w.columnBlocks(o)
		w.exec(o, ceilDiv(s.rows(), w.rowsPer))
		return
	}
	if w.pairs() {
		ways := 2
		if o == opApply && quadOn && s.N >= 4 {
			ways = 4
		}
		w.pair = pairingCF(s, lim, ways)
		w.exec(o, w.pair.count())
		return
	}
	w.chunking = chunkingCF(s, 0, s.C, lim)
	w.exec(o, w.chunking.count)
}

// pairing cuts a channels-first element-wise op into calls over two
// halves of the batch at once: samples i and i + N/2 in one call of a Pair
// kernel, which streams two stretches of memory instead of one; Infer and
// the whole-batch normalization of Train go further, to four quarters of
// the batch (samples i, i + N/4, i + N/2, i + 3N/4) in one call of
// ApplyCFNTQuad. The samples left over (the last of an odd batch; up to
// three of a batch cut in quarters) go alone, to the plain NT kernel.
// Tune harness, TUNE_COLD=1, alternating (2026-12-07): Infer of
// 32x64x56x56 took 0.86-0.97x copy() unpaired and 0.79-0.86 paired (eight
// pairs), 64x128x56x56 0.88 and 1.12 against 0.80 and 0.87,
// 16x32x112x112 0.89 and 0.92 against 0.82 and 0.82; four ways, see
// quadOn. Only the whole-batch calls of applyAll do so: the pipelined
// groups of Train and Backward pair samples their own way
// (pipeline.go).
type pairing struct {
	off  int        // values between the blocks (N/ways samples); 0: the call does not pair
	ways int        // blocks per call: 2 (the Pair kernels) or 4 (ApplyCFNTQuad)
	part Shape      // the first block's shape
	ch   cfChunking // chunks of the first block, each with its twins
	solo cfChunking // the samples after the blocks, alone (count 0 when none)
}

func (p *pairing) count() int { return p.ch.count + p.solo.count }

// quadOn lets the normalization of a whole batch of four samples or more
// walk four quarters of it at once (ApplyCFNTQuad). Measured first with a
// stand-alone scaled copy walked as Infer walks a batch (32x64x56x56 from
// memory, a call per sample, two runs): two streams 1.12-1.16 ms, four
// 1.02. Then Infer, tune harness, TUNE_COLD=1, TUNE_QUAD=0 against the
// default, three alternating pairs (AVX-512): 32x64x56x56 0.75-0.78x
// copy() in halves, 0.70-0.74 in quarters; 64x128x56x56 0.81-0.85 and
// 0.72-0.75; 16x32x112x112 0.77-0.81 and 0.74-0.77. AVX2 (two pairs,
// 32x64x56x56): 0.81 and 0.76.
var quadOn = true

// pairOn enables the paired calls (tests and the tune harness switch it).
var pairOn = true

// pairs reports whether this call's channels-first element-wise calls run
// paired: non-temporal stores on runs of whole 64-byte lines (w.ntRuns,
// S a multiple of 16, as the Pair kernels need), two samples or more.
func (w *workspace) pairs() bool {
	return pairOn && w.nt && w.ntRuns && w.s.S%16 == 0 && w.s.N >= 2
}

// pairingCF cuts the batch s into calls of ways blocks (2 or 4, at most
// s.N) of at most lim values a block.
func pairingCF(s Shape, lim, ways int) pairing {
	lim = max(16, lim&^15) // pieces of a run start on whole lines
	part := s
	part.N = s.N / ways
	p := pairing{off: part.N * s.C * s.S, ways: ways, part: part, ch: chunkingCF(part, 0, s.C, lim)}
	if rest := s.N - ways*part.N; rest > 0 {
		r := s
		r.N = rest
		p.solo = chunkingCF(r, 0, s.C, lim)
	}
	return p
}

// pairedChunk runs call i of p: the normalization, or with backward the
// backward apply, of chunk i of the first block and its twins, or of a
// piece of the samples left after the blocks.
func (w *workspace) pairedChunk(p *pairing, i int, backward bool) {
	s := w.s
	stride := s.C * s.S
	if i >= p.ch.count {
		rest := s
		rest.N = s.N - p.ways*p.part.N
		off, n, c, runLen, cFirst := p.solo.chunk(rest, i-p.ch.count)
		off += p.ways * p.part.N * stride
		y, x, par := cfSpan(w.y, s, off, n, c, runLen), cfSpan(w.x, s, off, n, c, runLen), w.par[cFirst*pstride:]
		if backward {
			w.k.backwardApplyCFNT(y, cfSpan(w.dy, s, off, n, c, runLen), x, n, c, runLen, stride, par)
		} else {
			w.k.applyCFNT(y, x, n, c, runLen, stride, par)
		}
		return
	}
	off, n, c, runLen, cFirst := p.ch.chunk(p.part, i)
	end := off + (p.ways-1)*p.off + (n-1)*stride + c*runLen
	y, x, par := w.y[off:end], w.x[off:end], w.par[cFirst*pstride:]
	switch {
	case backward:
		w.k.backwardApplyCFNTPair(y, w.dy[off:end], x, n, c, runLen, stride, p.off, par)
	case p.ways == 4:
		w.k.applyCFNTQuad(y, x, n, c, runLen, stride, p.off, par)
	default:
		w.k.applyCFNTPair(y, x, n, c, runLen, stride, p.off, par)
	}
}

// Rows wider than colBlockMinC channels are applied in column blocks of
// colBlockC channels (each call covering the block's part of its rows),
// so that the block's parameters stay in L1 beside the rows' lines: the
// element-wise kernels read four parameters per channel (Backward five),
// 40 KB for 2048 channels. Measured with a temporary benchmark (the
// kernels alone over 6.4 MB, against copy() of the same in a loop,
// medians of 100): BackwardApplyCL at C = 2048 took 2.99x copy() in one
// call per 64 rows, 1.93 in blocks of 512 channels and 2.24 in blocks of
// 1024; at C = 4096 3.27 and 1.74; ApplyCL at C = 4096 1.90 and 0.83
// (at C = 2048 it was level, 1.05 both). At C = 1024 blocks gave nothing
// (1.43 and 1.43). bnbench, channels last, old and new binaries in three
// alternating pairs: Infer 8x4096x7x7 2.32-2.50 -> 1.02-1.05, Train
// 3.36-3.64 -> 2.02-2.18; Infer 16x2048x7x7 1.12-1.16 -> 0.93-1.07 and
// 64x2048x7x7 1.56-1.68 -> 1.30-1.38; Backward 16x2048x7x7 5.18-5.70 ->
// 4.10-4.36 (three more pairs: 5.37-5.62 -> 4.36-6.14). Backward with
// non-temporal dx did not gain: 32x2048x7x7 6.58-7.07 -> 6.49-6.91,
// 64x2048x7x7 5.62-6.13 -> 5.99-6.53 (two sets of three pairs), and a
// variant that kept whole rows for it ran level with the blocks (6.07
// and 6.07 on 64x2048x7x7, three pairs), so the blocks stay for it too.
// colBlockC is a multiple of 16, so that every block of a row starts on a
// 64-byte boundary when the row does (the non-temporal kernels need it).
var (
	colBlockC    = 512
	colBlockMinC = 1024
)

// columnBlocks sets w.colBlock for the row-major element-wise op o, and
// w.parCols to o's parameters (4 per channel, Backward 5, planar over C
// in w.par) laid out planar within each block, as the kernels read them
// for a block.
func (w *workspace) columnBlocks(o op) {
	C := w.s.C
	nq := 4
	if o == opBackApply {
		nq = 5
	}
	w.colBlock, w.parCols = C, w.par
	if C <= colBlockMinC {
		return
	}
	w.colBlock = colBlockC
	w.parCols = grow32(&w.parCols32, nq*C)
	for c0 := 0; c0 < C; c0 += colBlockC {
		c1 := min(C, c0+colBlockC)
		for q := range nq {
			copy(w.parCols[nq*c0+q*(c1-c0):nq*c0+(q+1)*(c1-c0)], w.par[q*C+c0:q*C+c1])
		}
	}
}

// useGroups reports whether a channels-first call runs as fused channel
// groups: always on one worker, and with several when there are at least
// two channels per worker; otherwise its slabs are spread instead.
func (w *workspace) useGroups() bool {
	return !w.s.rowMajor() && (w.run.Workers() <= 1 || w.s.C >= 2*w.run.Workers())
}

// ntBytes is the output size from which the element-wise kernels store
// non-temporally: an output this large leaves the cache before anyone
// reads it again, so writing it around the cache saves the read for
// ownership of every line. Not lower where the last-level cache is large:
// on an Intel Xeon with 2 MB of L2 and 260 MB of last-level cache
// (2026-12-07, five back-to-back calls against five copy() calls into
// another buffer, median of 30 rounds, a temporary test), non-temporal
// stores from 1 MB took the ops alone from 1.27-1.36x copy() to 0.92-1.09
// (Infer), 1.47-1.94 to 1.31-1.54 (Train) and 2.61-2.99 to 2.15-2.44
// (Backward) on 3.2 and 6.4 MB outputs, but each op followed by a read of
// its output (Moments of y, as the next layer reads it) from 1.78-2.07 to
// 2.24-2.47, 1.98-2.65 to 2.54-3.05 and 3.21-3.54 to 3.40-3.92.
var ntBytes = 8 << 20

// useNT decides w.nt for output out of a call whose inputs are ins: a
// large output that aliases no input and, row-major, whose rows all start
// on an asm.NTAlign boundary. Channels first, it sets w.ntRuns when every
// run starts on such a boundary; the channels-first kernels store each
// run's head the ordinary way up to the next 64-byte line, so with anyRuns
// (Backward, and Train for its fused kernel) any run of ntUnalignedMinRun
// values or more will do; runs of asm.ShortRunMinCF to asm.ShortRunMaxCF-1
// values, which those kernels walk sample by sample, take them in every op
// (ntShortRuns). On other unaligned runs Infer, and Train outside its
// fused kernel, keep ordinary stores: on 32x64x3025, from memory (tune
// harness, TUNE_COLD=1, TUNE_NT against the default, four pairs),
// non-temporal stores took
// Backward from 2.30-2.53x copy() to 2.24-2.50 (64x128x3025: 2.63-3.06
// to 2.44-2.73), but Infer from 0.79-0.84 to 0.91 and Train, which
// without aligned runs has no fused kernel, from 1.28-1.51 to 1.55-1.64.
func (w *workspace) useNT(out []float32, anyRuns bool, ins ...[]float32) bool {
	s := w.s
	w.ntRuns = false
	if len(out)*4 < ntBytes {
		return false
	}
	for _, in := range ins {
		if len(in) > 0 && &in[0] == &out[0] {
			return false
		}
	}
	aligned := uintptr(unsafe.Pointer(&out[0]))%ntAlign == 0
	if s.rowMajor() {
		return aligned && s.C*4%ntAlign == 0
	}
	w.ntRuns = aligned && s.S*4%ntAlign == 0
	short := ntShortRuns && s.S >= asm.ShortRunMinCF && s.S < asm.ShortRunMaxCF
	return w.ntRuns || short || (anyRuns && s.S >= ntUnalignedMinRun)
}

// ntShortRuns lets every op write channels-first runs of
// asm.ShortRunMinCF to asm.ShortRunMaxCF-1 values non-temporally, aligned
// or not: the non-temporal element-wise kernels walk such runs sample by
// sample and store whole lines. Tune harness, TUNE_COLD=1, the binaries
// before and after alternating, three pairs: 32x2048x7x7 Infer
// 1.25-1.28x copy() -> 1.10-1.16, Train 1.87-2.02 -> 1.65-1.73, Backward
// 3.12-3.33 -> 2.68-2.87; 256x512x7x7 1.23-1.27 -> 1.10-1.12, 2.38-2.45 ->
// 1.97-2.09, 3.22-3.30 -> 2.82-3.10; 14x14, 10x10 and 8x8 level (two
// pairs each). The tune harness turns it off with TUNE_NTSHORT=0.
var ntShortRuns = true

// ntUnalignedMinRun is the shortest unaligned channels-first run that
// Backward writes non-temporally. Each run's head and tail go out as
// ordinary stores, and on short runs (7x7, 14x14) they are most of it:
// lines written the one way and the other in turn. bnbench, Backward
// channels first, three alternating pairs, non-temporal on any run
// against on runs of 1024 values or more: 32x2048x7x7 8.47-9.87x copy()
// -> 7.05-7.83, 32x1024x14x14 4.22-5.06 -> 3.12-4.47, and 256x512x7x7,
// 256x256x14x14 and 128x256x14x14 within noise (5.89-6.75 and
// 6.34-6.88, 3.71-4.93 and 3.41-4.45, 4.14-4.99 and 3.94-5.53). Tune
// harness (TUNE_NTRUN=1 against the default, two pairs each): warm,
// 32x2048x7x7 6.47-6.71 -> 4.85-5.48, 32x1024x14x14 3.20-3.41 ->
// 2.95-3.16, 256x512x7x7 4.46-4.53 -> 3.96-4.17; cold (TUNE_COLD=1)
// 4.12-4.23 -> 4.45-5.32, 2.73-2.92 -> 2.56-3.00 and 3.86-3.88 ->
// 3.60-3.84. The runs of 55x55 (3025 values) where non-temporal stores
// were measured to pay (d9dbe71) keep them.
var ntUnalignedMinRun = 1024

// prefetchCLBytes is the batch size from which the row-major slabs are
// reduced by the Prefetch kernels (each row visit also prefetches the
// same lines 128 rows on), for rows of prefetchCLMinC to prefetchCLMaxC
// channels. From memory, the chunks of an AVX-512 reduction walk every
// row's lines in two passes (phases 0-1, then 2-3) once a row holds 64
// channels or more, and the hardware prefetchers follow that poorly:
// with TUNE_COLD=1 the statistics of 64x128x3136 channels last took
// 0.79-0.88x copy() plain and 0.67-0.70 with the prefetches (32x64x3136:
// 0.86-0.93 and 0.72-0.77; three pairs, TUNE_PREFETCHCL). Rows of up to
// 48 channels (one chunk with all four phases) are walked in one pass, in
// memory order, and the prefetches only cost (16x32x12544: 0.56-0.58
// plain, 0.63-0.66 with them); so do batches in cache (BenchmarkCL, 1 MB,
// C = 128: 65-80 GB/s plain, 57-65 with them). Above 256 channels the
// prefetches would run more than 128 KB ahead.
var (
	prefetchCLBytes = 8 << 20
	prefetchCLMinC  = 64
	prefetchCLMaxC  = 256
)

// backPrefetchCLBytes is prefetchCLBytes for Backward's sums, which read x
// and dy: also at least a quarter of the last-level cache as CPUID reports
// it (on Zen 5's 32 MB, the same 8 MB). Where that cache holds the batch
// several times over, the sums usually find x and dy in it, and there the
// prefetches cost: on an Intel Xeon with a 260 MB last-level cache
// (2026-12-07), Backward of 32x64x56x56 channels last took, plain against
// with the prefetches, 1.66-1.83x copy() against 2.20-2.31 in bnbench
// (AVX-512, three alternating pairs, and 1.47-1.99 against 2.21-2.51 in
// three more; AVX2 1.78-1.90 against 1.90-1.95, and 1.69-1.90 against
// 2.05-2.18),
// 1.71-1.93 against 1.93-2.21 warm in the tune harness and 1.88-2.05
// against 2.00-2.05 with TUNE_COLD=1 (three rounds). The statistics keep
// prefetchCLBytes: from memory they lost without the prefetches there
// (0.67-0.74 against 0.63-0.64).
var backPrefetchCLBytes = max(prefetchCLBytes, l3Bytes/4)

// cachedCLBytes is the batch size below which the row-major slabs are
// reduced by the Cached kernels (AVX-512: chunks of 8 or 7 vectors, one
// phase per pass), which read more lines of a row per visit: a batch this
// small is usually in cache, and its rows, when they are a multiple of
// 4 KB long, fall in few sets of the L1 cache. From memory the plain
// chunks suit the prefetchers better.
var cachedCLBytes = 4 << 20

// memOrderBytes is the tensor size from which the channels-first slabs
// are walked in address order (slabMemOrderCF); below it the tensor is
// in cache and one multi-channel kernel call per slab costs less.
var memOrderBytes = 4 << 20

// slabMemOrderCF is chansCF in address order: slab j of channels [c0, c1)
// one flush unit at a time, every channel's unit before the next unit, so
// that memory is read as a few long streams instead of a short run per
// channel and sample (measured on 32x64x56x56: MeanVar 1.06x copy() in
// channel order and 0.48x in address order, one binary, the tune
// harness; the statistics kernel alone, reading the same 26 MB over and
// over, 0.72x for one 12.5 KB run at a time and 0.36x in address order).
// Each channel keeps its float64 lanes in lanesAcc (nq*lanes per channel)
// across its units; the calls end at flush points, so the lanes get the
// same values as one call over the slab, and they are reduced by the same
// tree as the multi-channel kernels'.
func (w *workspace) slabMemOrderCF(out, lanesAcc []float64, c0, c1, j, nq int) {
	s, g, k := w.s, &w.geo, w.k
	nch := c1 - c0
	lanesAcc = lanesAcc[:nch*nq*lanes]
	clear(lanesAcc)
	start, nruns, runLen, group := g.slab(c0, j)
	for r := 0; r < nruns; r += group {
		nr := min(group, nruns-r)
		for c := c0; c < c1; c++ {
			a := lanesAcc[(c-c0)*nq*lanes : (c-c0+1)*nq*lanes]
			off := start + r*g.stride + (c-c0)*s.S
			if nq == 3 {
				k.backwardCF(a, span(w.dy, off, nr, runLen, g.stride), span(w.x, off, nr, runLen, g.stride),
					nr, runLen, g.stride, group, w.smean[c])
			} else {
				k.statsCF(a, span(w.x, off, nr, runLen, g.stride), nr, runLen, g.stride, group, w.piv[c])
			}
		}
	}
	for i := range nch {
		for q := range nq {
			out[i*nq+q] = fallback.SumLanes(lanesAcc[(i*nq+q)*lanes : (i*nq+q+1)*lanes])
		}
	}
}
