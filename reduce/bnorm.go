package reduce

import (
	"cmp"
	"math"
	"slices"
)

// TrainArgs holds the operands of Train. The caller has checked them: the
// lengths match Shape, M >= 2, Eps and Momentum are valid, and outputs
// either are the very same slice as an input or overlap nothing.
type TrainArgs struct {
	Y, X  []float32
	Shape Shape
	// Gamma and Beta are nil (ones, zeros) or of length C.
	Gamma, Beta []float32
	Eps         float32
	Momentum    float32
	// Mean, Var and InvStd receive the batch statistics when not nil.
	Mean, Var, InvStd []float32
	// RunningMean and RunningVar are updated when not nil.
	RunningMean, RunningVar []float32
	// Run spreads the work; nil runs it on the calling goroutine.
	Run Runner

	// stats64 receives the float64 mean and variance the float32 outputs
	// are rounded from (tests compare them: the float32 roundings hide
	// most changes of summation order).
	stats64 func(mean, variance []float64)
}

// Train normalizes X into Y with the batch's own statistics:
//
//	y = ((x - hi) - lo)*a + b,  hi + lo = mean, a = gamma*invstd, b = beta
//
// where mean is the float64 mean rounded to the float32 pair hi + lo. It
// then writes the statistics and updates the running ones. Per-channel
// outputs are written last, so they may be the very same slices as Gamma or
// Beta.
//
// Channels first, the statistics and the normalization of a group of
// channels that fits a share of the cache run back to back, so that x is
// read from memory once.
func Train(a *TrainArgs) {
	s := a.Shape
	if s.C == 0 {
		return
	}
	w := getWorkspace()
	defer putWorkspace(w)
	w.begin(a.Run, s)
	w.x, w.y, w.gamma, w.beta, w.eps = a.X, a.Y, a.Gamma, a.Beta, a.Eps
	w.nt = w.useNT(a.Y, false, a.X)
	// On unaligned runs long enough to fuse, only the fused kernel stores
	// non-temporally (its head the ordinary way); the other apply calls
	// keep ordinary stores, which measured faster for Train there (useNT).
	w.ntFused = w.ntRuns || w.useNT(a.Y, true, a.X)
	w.mean, w.variance, w.inv = w.perChannel(s.C)
	// Parameters: interleaved (pstride per channel) for channels first,
	// planar (C per parameter) for row-major batches; pstride*C holds both.
	w.par = grow32(&w.par32, pstride*s.C)
	if w.useGroups() {
		w.gammaOr, w.betaOr = w.gammaBeta(s.C) // before the tasks, which share them
		w.group = channelsPerGroup(s, 1, w.run.Workers(), !w.nt && !w.ntFused)
		if w.pipe = w.usePipe(1); w.pipe {
			w.totals(s.C)
		}
		w.piv = grow32(&w.pivBuf, s.C)
		w.train = outputsOf(a) // each part writes its channels' outputs (runPart)
		w.exec(opTrainGroups, ceilDiv(s.C, w.group))
	} else {
		if !w.s.rowMajor() || !fastRows || !w.trainRowsFast() {
			w.slabStats()
			if float64(w.eps) < 0x1p-80 {
				for c := range s.C {
					w.fixTiny(c)
				}
			}
			w.trainParams()
		}
		w.applyAll(opApply)
		writeTrainOutputs(outputsOf(a), 0, s.C, w.mean, w.variance, w.inv)
	}
	if a.stats64 != nil {
		a.stats64(w.mean[:s.C], w.variance[:s.C])
	}
}

// fastRows enables trainRowsFast, backRowsFast and the several-channel
// parameter kernels wherever they serve (trainParamsVec, backParamsVec);
// tests turn it off to compare.
var fastRows = true

// trainRowsFast is slabStats, fixTiny and trainParams for a row-major
// batch, with the per-channel work spread over the Runner too, for the
// common case: it reports false, and the caller takes the general path
// from the start, when any channel needs a second pass, the float64 path or
// has a tiny variance. Its results are the general path's bits.
func (w *workspace) trainRowsFast() bool {
	s := w.s
	C := s.C
	units := ceilDiv(C, rowChans)
	w.piv = grow32(&w.pivBuf, C)
	w.execChannels(opRowPivots, units)
	w.nslabs = slabsCL(s)
	w.growSlabs(w.nslabs, 2)
	w.exec(opStatsSlabs, w.nslabs)
	w.slow = w.unitFlags(units)
	w.gammaOr, w.betaOr = w.gammaBeta(C) // before the tasks, which share them
	w.execChannels(opRowTrain, units)
	return !slices.Contains(w.slow, true)
}

// trainRows does trainRowsFast's per-channel work for channels [c0, c1):
// each channel's slab sums added in slab order, its statistics and its
// parameters. It reports false if some channel needs the general path.
func (w *workspace) trainRows(c0, c1 int) bool {
	C := w.s.C
	// The totals go through mean and variance: first the slab sums, added
	// in slab order, then the statistics in place.
	sum, sq := w.mean[c0:c1], w.variance[c0:c1]
	clear(sum)
	clear(sq)
	t := [][]float64{sum, sq}
	for j := range w.nslabs {
		w.addSlab(t, j, c0, c1)
	}
	par := w.par
	ok := w.trainParamsVec(c0, c1, par[c0:c1], par[C+c0:C+c1], par[2*C+c0:2*C+c1], par[3*C+c0:3*C+c1])
	clear(par[4*C+c0 : 4*C+c1])
	return ok
}

// trainParamsVec turns the totals of channels [c0, c1), held in w.mean and
// w.variance, into their statistics (in place), w.inv and the normalize
// parameters hi, lo, a and b, several channels per vector
// (fallback.TrainParamsRows: the bits of finish, needsRedo, fixTiny and
// trainParamsRange). It reports false, and the caller takes the
// channel-by-channel path, when some channel needs a second pass, the
// float64 path or has a tiny variance.
func (w *workspace) trainParamsVec(c0, c1 int, hi, lo, a, b []float32) bool {
	return fastRows && w.k.trainParamsRows(w.mean[c0:c1], w.variance[c0:c1], w.inv[c0:c1], w.piv[c0:c1],
		w.gammaOr[c0:c1], w.betaOr[c0:c1], hi, lo, a, b, float64(w.s.M()), float64(w.eps), float64(w.eps) < 0x1p-80)
}

// backParamsVec is backParam for channels [c0, c1) from their sums,
// several channels per vector (fallback.BackParamsRows, the same bits):
// dgamma and dbeta into w.dgamma and w.dbeta, the apply parameters into
// hi, lo, k2, k3 and k1. It reports false, and the caller takes backParam,
// when some channel may be extreme.
func (w *workspace) backParamsVec(c0, c1 int, sdy, dot, res []float64, hi, lo, k2, k3, k1 []float32) bool {
	if !fastRows || !w.k.backParamsRows(sdy, dot, res, w.dgamma[c0:c1], w.sinv[c0:c1], w.gammaOr[c0:c1],
		lo, k2, k3, k1, float64(w.s.M())) {
		return false
	}
	copy(w.dbeta[c0:c1], sdy)
	copy(hi, w.smean[c0:c1])
	return true
}

// setPivots sets the pivots of channels [c0, c1): what pivotOf gives, with
// the common case (three finite values) inline. In a call to pivotOf per
// channel this took 2.5 us of a 22 us MeanVar on 8x512x7x7 channels first
// (pprof).
func setPivots(piv, x []float32, s Shape, c0, c1 int) {
	C, S := s.C, s.S
	switch {
	case s.M() < 3:
	case s.rowMajor():
		r0, r1, r2 := x[:C], x[C:2*C], x[2*C:3*C]
		for c := c0; c < c1; c++ {
			a, b, d := r0[c], r1[c], r2[c]
			if finite32(a) && finite32(b) && finite32(d) {
				piv[c] = median3(a, b, d)
			} else {
				piv[c] = pivotOf(x, s, c)
			}
		}
		return
	case S >= 3:
		for c := c0; c < c1; c++ {
			v := (*[3]float32)(x[c*S : c*S+3])
			if finite32(v[0]) && finite32(v[1]) && finite32(v[2]) {
				piv[c] = median3(v[0], v[1], v[2])
			} else {
				piv[c] = pivotOf(x, s, c)
			}
		}
		return
	}
	for c := c0; c < c1; c++ {
		piv[c] = pivotOf(x, s, c)
	}
}

// trainOutputs are Train's per-channel outputs (TrainArgs' fields).
type trainOutputs struct {
	mean, variance, invStd  []float32
	runningMean, runningVar []float32
	momentum                float32
	m                       int // values per channel
}

func outputsOf(a *TrainArgs) trainOutputs {
	return trainOutputs{a.Mean, a.Var, a.InvStd, a.RunningMean, a.RunningVar, a.Momentum, a.Shape.M()}
}

// writeTrainOutputs writes the statistics Train saves for channels [c0,
// c1) and updates their running ones, each in a loop of its own. Channel
// groups write their own, on the worker that computed them: read on the
// calling goroutine, the per-channel values of another core's groups
// would cross between the cores.
func writeTrainOutputs(o trainOutputs, c0, c1 int, mean, variance, inv []float64) {
	mean, variance, inv = mean[c0:c1], variance[c0:c1], inv[c0:c1]
	if o.mean != nil {
		out := o.mean[c0:c1]
		for c, v := range mean {
			out[c] = float32(v)
		}
	}
	if o.variance != nil {
		out := o.variance[c0:c1]
		for c, v := range variance {
			out[c] = float32(v)
		}
	}
	if o.invStd != nil {
		out := o.invStd[c0:c1]
		for c, v := range inv {
			out[c] = float32(v)
		}
	}
	mom := float64(o.momentum)
	if o.runningMean != nil {
		rm := o.runningMean[c0:c1]
		for c, v := range mean {
			rm[c] = float32((1-mom)*float64(rm[c]) + mom*v)
		}
	}
	if o.runningVar != nil {
		m := float64(o.m)
		unbias := m / (m - 1)
		rv := o.runningVar[c0:c1]
		for c, v := range variance {
			rv[c] = float32((1-mom)*float64(rv[c]) + mom*v*unbias)
		}
	}
}

// gradOutputs are Backward's per-channel outputs (BackwardArgs' fields).
type gradOutputs struct{ dgamma, dbeta []float32 }

// writeGrads writes the float32 dgamma and dbeta of channels [c0, c1), as
// writeTrainOutputs does the statistics.
func writeGrads(o gradOutputs, c0, c1 int, dgamma, dbeta []float64) {
	if o.dgamma != nil {
		out := o.dgamma[c0:c1]
		for c, v := range dgamma[c0:c1] {
			out[c] = float32(v)
		}
	}
	if o.dbeta != nil {
		out := o.dbeta[c0:c1]
		for c, v := range dbeta[c0:c1] {
			out[c] = float32(v)
		}
	}
}

// trainParams sets invstd and the normalize parameters of every channel.
func (w *workspace) trainParams() { w.trainParamsRange(0, w.s.C) }

// trainParamsRange sets invstd and the normalize parameters of channels
// [c0, c1) from their mean and variance, in plain loops over slices: with
// many channels on few rows (256x1024) the per-channel work costs as much
// as a kernel pass.
func (w *workspace) trainParamsRange(c0, c1 int) {
	eps := float64(w.eps)
	mean, inv := w.mean[c0:c1], w.inv[c0:c1]
	for i, v := range w.variance[c0:c1] {
		inv[i] = invStdOf(v + eps) // invStd(v, w.eps)
	}
	var gamma, beta []float32
	if w.gamma != nil {
		gamma = w.gamma[c0:c1]
	}
	if w.beta != nil {
		beta = w.beta[c0:c1]
	}
	if w.s.rowMajor() {
		C := w.s.C
		hi, lo, a, b, z := w.par[c0:c1], w.par[C+c0:C+c1], w.par[2*C+c0:2*C+c1], w.par[3*C+c0:3*C+c1], w.par[4*C+c0:4*C+c1]
		hi, lo, a, b, z = hi[:len(inv)], lo[:len(inv)], a[:len(inv)], b[:len(inv)], z[:len(inv)]
		for i := range inv {
			hi[i], lo[i], a[i], b[i] = normParams(mean[i], inv[i], at(gamma, i, 1), at(beta, i, 0))
			z[i] = 0
		}
		return
	}
	for i := range inv {
		hi, lo, a, b := normParams(mean[i], inv[i], at(gamma, i, 1), at(beta, i, 0))
		w.setParams(c0+i, hi, lo, a, b, 0)
	}
}

// setParams stores the kernel parameters of channel c: interleaved for
// channels first, planar for row-major batches.
func (w *workspace) setParams(c int, p0, p1, p2, p3, p4 float32) {
	if w.blockC > 0 {
		// Channel-blocked: planar within each block, from par[5*c0].
		c0, bw := w.blockOf(c)
		q := w.par[5*c0+c-c0:]
		q[0], q[bw], q[2*bw], q[3*bw], q[4*bw] = p0, p1, p2, p3, p4
		return
	}
	if w.s.rowMajor() {
		C := w.s.C
		w.par[c], w.par[C+c], w.par[2*C+c], w.par[3*C+c], w.par[4*C+c] = p0, p1, p2, p3, p4
		return
	}
	q := w.par[c*pstride : c*pstride+5]
	q[0], q[1], q[2], q[3], q[4] = p0, p1, p2, p3, p4
}

// InferArgs holds the operands of Infer, checked by the caller.
type InferArgs struct {
	Y, X                        []float32
	Shape                       Shape
	Gamma, Beta, Mean, Variance []float32 // Gamma and Beta may be nil
	Eps                         float32
	Run                         Runner
}

// Infer normalizes X into Y with the given statistics (the running ones):
//
//	y = (x - mean)*a + b,  a = gamma/sqrt(variance + eps), b = beta
//
// computed by the kernels of Train with lo = 0, in one streaming pass.
func Infer(a *InferArgs) {
	s := a.Shape
	if s.Len() == 0 {
		return
	}
	w := getWorkspace()
	defer putWorkspace(w)
	w.begin(a.Run, s)
	w.x, w.y, w.gamma, w.beta, w.eps = a.X, a.Y, a.Gamma, a.Beta, a.Eps
	w.rmean, w.rvar = a.Mean, a.Variance
	w.nt = w.useNT(a.Y, false, a.X)
	w.par = grow32(&w.par32, pstride*s.C)
	w.gammaOr, w.betaOr = w.gammaBeta(s.C) // before the tasks, which share them
	w.tmp32 = grow32(&w.tmp32, s.C)
	if w.inferGroups() {
		w.group = ceilDiv(s.C, min(s.C, 4*w.run.Workers()))
		w.exec(opInferGroups, ceilDiv(s.C, w.group))
		return
	}
	if s.rowMajor() {
		w.inferParamsRows()
	} else {
		w.inferParamsCF(0, s.C)
	}
	w.applyAll(opApply)
}

// inferGroups reports whether a channels-first Infer runs as channel
// groups, each task computing its own channels' parameters and
// normalizing them in every sample: with several workers, at least two
// channels a worker, and a worker's share of x and y within
// inferGroupBytes. Cut into samples, as otherwise, every task needs every
// channel's parameters, which one core writes and the others then fetch
// from it on every call, a cost that only a short call feels.
func (w *workspace) inferGroups() bool {
	s, k := w.s, w.run.Workers()
	return !s.rowMajor() && k > 1 && s.C >= 2*k && 2*4*s.Len() <= k*inferGroupBytes
}

// inferGroupBytes is the largest share of x and y (bytes a worker) of an
// Infer that runs as channel groups: one L2 (1 MB where CPUID does not
// tell). Measured on two workers (Intel Xeon, 2 MB of L2; bnbench
// -goroutines 2 -ops infer, old and new binaries alternating, four pairs,
// 2026-12-08): 8x512x7x7 channels first (16 KB of parameters) took
// 17.2-17.5 us cut into samples and 13.7-13.9 as groups, 16x64x14x14 (2 KB
// of parameters) 13.0-13.2 and 13.1-13.9, but 8x256x28x28 (6.4 MB of x and
// y a worker) 216-224 and 223-229. Per-task timers on 8x512x7x7, cut into
// samples (three runs of 5000 calls, medians): the caller's second sample
// and the helper's first took 4.5-4.8 us, the other six 2.7-3.1; with the
// parameters left as the previous call wrote them (not rewritten, a
// temporary change) the calls took 14.4-18.0 us against 16.4-19.1.
// Row-major batches keep their rows: blocks of channels over all rows took
// Infer of 8x512x7x7 channels last from 0.66-0.86x copy() to 0.89-1.05 on
// two workers, 256x1024 from 0.58-0.67 to 0.89-0.91.
var inferGroupBytes = cmp.Or(max(l2Bytes, 0), 1<<20)

// inferParamsRows writes Infer's parameters of a row-major batch, planar:
// hi = mean, lo = 0, a = gamma*invstd and b = beta. The scale a comes
// from the inferScale kernel (in scalar Go its square roots and divisions
// took about a tenth of an Infer on cache-resident batches).
func (w *workspace) inferParamsRows() {
	C := w.s.C
	par := w.par
	hi, lo, sc, sh := par[:C], par[C:2*C], par[2*C:3*C], par[3*C:4*C]
	copy(hi, w.rmean[:C])
	clear(lo)
	w.k.inferScale(sc, w.gammaOr, w.rvar[:C], float64(w.eps))
	copy(sh, w.betaOr)
}

// inferParamsCF writes the same parameters of channels [c0, c1) of a
// channels-first batch, interleaved (pstride values a channel).
func (w *workspace) inferParamsCF(c0, c1 int) {
	sc := w.tmp32[c0:c1]
	w.k.inferScale(sc, w.gammaOr[c0:c1], w.rvar[c0:c1], float64(w.eps))
	par := w.par[c0*pstride : c1*pstride]
	beta := w.betaOr[c0:c1]
	for i, m := range w.rmean[c0:c1] {
		q := (*[4]float32)(par[i*pstride : i*pstride+4])
		*q = [4]float32{m, 0, sc[i], beta[i]}
	}
}

// invStdOf is 1/sqrt(d), and 0 where d is 0 (invStd with the sum done).
func invStdOf(d float64) float64 {
	if d == 0 {
		return 0
	}
	return 1 / math.Sqrt(d)
}

// BackwardArgs holds the operands of Backward, checked by the caller as for
// TrainArgs.
type BackwardArgs struct {
	DX, DY, X []float32
	Shape     Shape
	// Mean and InvStd are the saved batch statistics (length C).
	Mean, InvStd []float32
	// Gamma is nil (ones) or of length C.
	Gamma []float32
	// Eps is the layer's; Backward uses it only for extreme channels
	// (extreme.go), whose invstd it recomputes in float64.
	Eps float32
	// DGamma and DBeta receive the parameter gradients when not nil.
	DGamma, DBeta []float32
	Run           Runner

	// grads64 receives the float64 dgamma and dbeta (for tests, as
	// TrainArgs.stats64).
	grads64 func(dgamma, dbeta []float64)
}

// Backward computes the training-mode gradients. Mean is taken as the
// float32 rounding of the batch mean: the reduction also sums x - Mean, and
// the residual r = sum(x - Mean)/M corrects it, so that
//
//	dbeta  = sum(dy)
//	dotp   = sum(dy*(x - Mean)) - r*dbeta        (= sum(dy*(x - mean)))
//	dgamma = dotp*invstd
//	k1     = gamma*invstd
//	dx     = (dy*k1 - k1*dbeta/M) - ((x - Mean) - r)*k1*dotp*invstd²/M
//
// Channels first, the sums and dx of a channel group that fits a share of
// the cache run back to back, so that x and dy are read from memory once.
func Backward(a *BackwardArgs) {
	s := a.Shape
	if s.C == 0 {
		return
	}
	w := getWorkspace()
	defer putWorkspace(w)
	w.begin(a.Run, s)
	w.prefetchCL = w.prefetchCL && s.Len()*4 >= backPrefetchCLBytes
	w.y, w.dy, w.x, w.gamma = a.DX, a.DY, a.X, a.Gamma
	w.smean, w.sinv = a.Mean, a.InvStd
	w.nt = w.useNT(a.DX, true, a.DY, a.X)
	w.dgamma, w.dbeta, _ = w.perChannel(s.C)
	w.xmean, w.xdot, w.xinv = grow64(&w.xmean64, s.C), grow64(&w.xdot64, s.C), grow64(&w.xinv64, s.C)
	w.eps = a.Eps
	w.par = grow32(&w.par32, pstride*s.C)
	if w.useGroups() {
		w.gammaOr, _ = w.gammaBeta(s.C) // before the tasks, which share it
		w.group = channelsPerGroup(s, 2, w.run.Workers(), false)
		if w.pipe = w.usePipe(2); w.pipe {
			w.totals(s.C)
		}
		w.back = gradOutputs{a.DGamma, a.DBeta} // each part writes its channels' gradients (runPart)
		w.exec(opBackGroups, ceilDiv(s.C, w.group))
	} else if w.blockC = w.rowBlockC(); w.blockC > 0 {
		w.totals(s.C)
		w.gammaOr, _ = w.gammaBeta(s.C) // before the tasks, which share it
		w.back = gradOutputs{a.DGamma, a.DBeta}
		w.exec(opRowBlockBack, ceilDiv(s.C, w.blockC))
	} else {
		if !w.s.rowMajor() || !fastRows || !w.backRowsFast() {
			sdy, dot, res := w.backSlabSums()
			for c := range s.C {
				w.backParam(c, sdy[c], dot[c], res[c])
			}
		}
		w.applyAll(opBackApply)
		writeGrads(gradOutputs{a.DGamma, a.DBeta}, 0, s.C, w.dgamma, w.dbeta)
	}
	if a.grads64 != nil {
		a.grads64(w.dgamma[:s.C], w.dbeta[:s.C])
	}
}

// backParam sets the gradients and the backward apply parameters of
// channel c from its sums.
func (w *workspace) backParam(c int, sdy, dot, res float64) {
	if w.markExtreme(c, w.extremeBackward(c, sdy, dot, res)) {
		w.setParams(c, 0, 0, 0, 0, 0) // the kernels' output is replaced
		return
	}
	m := float64(w.s.M())
	inv := float64(w.sinv[c])
	r := res / m
	dotp := dot - float64(r*sdy) // no fused multiply-add, as in BackParamsRows
	if !finite(sdy) {
		// dy holds an infinity: the correction is 0*Inf or worse, while
		// the reference's sum(dy*(x - mean)) is dot's infinity.
		dotp = dot
	}
	w.dgamma[c], w.dbeta[c] = dotp*inv, sdy
	k1 := float64(at(w.gamma, c, 1)) * inv
	w.setParams(c, w.smean[c], float32(r), float32(k1*sdy/m), float32(k1*dotp*inv*inv/m), float32(k1))
}

// backRowsFast is backSlabSums and backParam for every channel of a
// row-major batch, with the per-channel work spread over the Runner too,
// for the common case: it reports false, and the caller takes the general
// path, when some channel may need the float64 path. Its results are the
// general path's bits.
func (w *workspace) backRowsFast() bool {
	s := w.s
	units := ceilDiv(s.C, rowChans)
	w.nslabs = slabsCL(s)
	w.growSlabs(w.nslabs, 3)
	// backRows' totals and gamma, before the tasks, which share them.
	w.sum, w.sq = w.sums(s.C)
	w.aux = grow64(&w.aux64, s.C)
	w.gammaOr, _ = w.gammaBeta(s.C)
	w.exec(opBackSlabs, w.nslabs)
	w.slow = w.unitFlags(units)
	w.execChannels(opRowBack, units)
	return !slices.Contains(w.slow, true)
}

// backRows does backRowsFast's per-channel work for channels [c0, c1).
func (w *workspace) backRows(c0, c1 int) bool {
	C := w.s.C
	t := [3][]float64{w.sum[c0:c1], w.sq[c0:c1], w.aux[c0:c1]}
	for _, tq := range t {
		clear(tq)
	}
	for j := range w.nslabs {
		w.addSlab(t[:], j, c0, c1)
	}
	// The parameters are planar, C apart.
	p := w.par
	if w.backParamsVec(c0, c1, t[0], t[1], t[2], p[c0:c1], p[C+c0:C+c1], p[2*C+c0:2*C+c1], p[3*C+c0:3*C+c1], p[4*C+c0:4*C+c1]) {
		return true
	}
	for c := c0; c < c1; c++ {
		sdy, dot, res := w.sum[c], w.sq[c], w.aux[c]
		if w.mayBeExtreme(c, sdy, dot, res) {
			return false
		}
		w.backParam(c, sdy, dot, res)
	}
	return true
}

// at returns v[c], or def when v is nil.
func at(v []float32, c int, def float32) float32 {
	if v == nil {
		return def
	}
	return v[c]
}

// invStd is 1/sqrt(variance + eps), and 0 where variance + eps is 0.
func invStd(variance float64, eps float32) float64 {
	return invStdOf(variance + float64(eps))
}

// normParams returns hi, lo, a, b of the normalize kernels for a float64
// mean: hi + lo carries the mean to about 48 bits.
func normParams(mean, inv float64, gamma, beta float32) (hi, lo, a, b float32) {
	hi = float32(mean)
	lo = float32(mean - float64(hi))
	if math.IsInf(mean, 0) {
		lo = 0
	}
	return hi, lo, float32(float64(gamma) * inv), beta
}
