package reduce

import (
	"math"

	"github.com/simdbn/simdbn/fallback"
)

// Extreme channels: finite values so far apart (beyond about 1.8e19 for x,
// or sums of dy beyond float32's range) that the float32 arithmetic of the
// kernels would overflow where the float64 reference does not. They are
// rare, so they take a plain float64 path that is the same code, and so
// the same bits, for every implementation: the kernels still run over them
// (their output for such a channel is overwritten), and each element is
// computed from its own inputs only, so in-place calls stay correct.

// markExtreme records whether channel c is extreme and returns it.
func (w *workspace) markExtreme(c int, extreme bool) bool {
	w.extreme[c] = extreme
	return extreme
}

func (w *workspace) anyExtreme(c0, c1 int) bool {
	for _, e := range w.extreme[c0:c1] {
		if e {
			return true
		}
	}
	return false
}

// extremeValue is y (forward) or dx (backward) of element (x, dy) of an
// extreme channel c, in float64.
func (w *workspace) extremeValue(c int, x, dy float32) float32 {
	if w.op == opBackGroups || w.op == opBackApply || w.op == opRowBlockBack {
		m := float64(w.s.M())
		inv := w.xinv[c]
		g := float64(at(w.gamma, c, 1))
		d := float64(x) - w.xmean[c]
		return float32(g * inv * ((float64(dy) - w.dbeta[c]/m) - d*w.xdot[c]*inv*inv/m))
	}
	return float32((float64(x)-w.mean[c])*w.inv[c]*float64(at(w.gamma, c, 1)) + float64(at(w.beta, c, 0)))
}

// applyChannelsCF runs the apply kernel of w.op over channels [c0, c1) of a
// channels-first batch, with extreme channels computed in float64.
func (w *workspace) applyChannelsCF(c0, c1 int) {
	if !w.anyExtreme(c0, c1) {
		w.applyRangeCF(c0, c1)
		return
	}
	s := w.s
	for c := c0; c < c1; c++ {
		if !w.extreme[c] {
			w.applyRangeCF(c, c+1)
			continue
		}
		for n := range s.N {
			off := (n*s.C + c) * s.S
			for i := off; i < off+s.S; i++ {
				w.y[i] = w.extremeValue(c, w.x[i], w.dyAt(i))
			}
		}
	}
}

func (w *workspace) applyRangeCF(c0, c1 int) {
	ch := chunkingCF(w.s, c0, c1, chunkElems)
	for i := range ch.count {
		if w.op == opBackGroups || w.op == opBackApply {
			w.backApplyChunkCF(ch, i)
		} else {
			w.applyChunkCF(ch, i)
		}
	}
}

func (w *workspace) dyAt(i int) float32 {
	if w.dy == nil {
		return 0
	}
	return w.dy[i]
}

// applyRowsExtreme runs the apply kernel of w.op row by row over a
// row-major batch that has extreme channels: their outputs are computed
// first from the row's inputs, then the kernel writes the row, then they are
// stored over it.
func (w *workspace) applyRowsExtreme() {
	s, k := w.s, w.k
	C := s.C
	tmp := grow32(&w.tmp32, C)
	for r := range s.rows() {
		lo, hi := r*C, (r+1)*C
		for c := range C {
			if w.extreme[c] {
				tmp[c] = w.extremeValue(c, w.x[lo+c], w.dyAt(lo+c))
			}
		}
		if w.op == opBackApply {
			k.backwardApplyCL(w.y[lo:hi], w.dy[lo:hi], w.x[lo:hi], 1, C, C, w.par)
		} else {
			k.applyCL(w.y[lo:hi], w.x[lo:hi], 1, C, C, w.par)
		}
		for c := range C {
			if w.extreme[c] {
				w.y[lo+c] = tmp[c]
			}
		}
	}
}

// extremeBackward checks channel c after its backward sums: when a sum is
// not finite, dy's mean is near float32's limit, or invstd is above 2^50
// (a standard deviation below 1e-15, where the products dy*(x - mean) may
// underflow float32) or below 2^-120 (a standard deviation above 1e36, where
// the float32 invstd is near subnormal), while all of the channel's x and dy are finite, it
// recomputes the sums in float64 (kept in w.xmean, w.xdot, w.dbeta) and
// reports the channel as extreme. With Eps >= 1e-10 invstd never exceeds
// 2^50, so ordinary calls never come here.
func (w *workspace) extremeBackward(c int, sdy, dot, res float64) bool {
	s := w.s
	if !w.mayBeExtreme(c, sdy, dot, res) {
		return false
	}
	m := float64(s.M())
	sx, sg := 0.0, 0.0
	for j := range s.M() {
		i := indexOf(s, c, j)
		x, g := float64(w.x[i]), float64(w.dy[i])
		if !finite(x) || !finite(g) {
			return false
		}
		sx += x
		sg += g
	}
	mean := sx / m
	dotp, sq := 0.0, 0.0
	for j := range s.M() {
		i := indexOf(s, c, j)
		d := float64(w.x[i]) - mean
		dotp += float64(w.dy[i]) * d
		sq += d * d
	}
	// The batch's own invstd in float64, rather than st.InvStd: for such a
	// channel the float32 one may be subnormal (a variance above 1e76).
	inv := invStd(sq/m, w.eps)
	w.xmean[c], w.xdot[c], w.xinv[c] = mean, dotp, inv
	w.dgamma[c], w.dbeta[c] = dotp*inv, sg
	return true
}

// mayBeExtreme is extremeBackward's test without the scan of the data.
func (w *workspace) mayBeExtreme(c int, sdy, dot, res float64) bool {
	inv := float64(w.sinv[c])
	return !(finite(sdy) && finite(dot) && finite(res) && math.Abs(sdy/float64(w.s.M())) < 0x1p120 &&
		inv <= 0x1p50 && inv >= 0x1p-120)
}

// indexOf is the index of value j of channel c in channel order.
func indexOf(s Shape, c, j int) int {
	if s.rowMajor() {
		return j*s.C + c
	}
	return (j/s.S*s.C+c)*s.S + j%s.S
}

// fixTiny handles a channel of Train whose variance came out below 2^-100
// while Eps is too small to dominate it: its squares may have underflowed
// float32, and invstd = 1/sqrt(var + eps) would be far off. It recomputes
// the channel in float64 and marks it extreme. (A constant channel with
// Eps = 0 takes this path too, and still gets var 0, invstd 0, y = beta.)
func (w *workspace) fixTiny(c int) {
	if w.extreme[c] || float64(w.eps) >= 0x1p-80 || !(w.variance[c] < fallback.TinyVar) {
		return
	}
	mean, variance, ok := exactMoments(w.x, w.s, c, w.mean[c], w.variance[c])
	if ok {
		w.mean[c], w.variance[c] = mean, variance
		w.extreme[c] = true
	}
}
