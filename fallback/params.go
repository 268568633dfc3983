package fallback

import "math"

// RedoRatio is the bound of the pivot check of TrainParamsRows: a channel
// whose pivot lies more than sqrt(RedoRatio) standard deviations from its
// mean needs its variance computed again (package reduce does that).
const RedoRatio = 8

// TinyVar is the variance under which TrainParamsRows reports a channel to
// the caller when tiny is set (an eps below 2^-80 makes such channels need
// float64 care).
const TinyVar = 0x1p-100

// TrainParamsRows turns the float64 shifted sums of n = len(sum) channels
// into their statistics and the planar parameters of the normalize kernels
// (ApplyCL), each channel on its own, in float64 with one rounding per
// operation:
//
//	sh   = sum[i] / m
//	mean = float64(piv[i]) + sh
//	v    = max(0, sq[i]/m - sh*sh)             (+0, never -0)
//	inv  = 1 / sqrt(v + eps), or 0 where v + eps == 0
//	hi   = float32(mean)
//	lo   = float32(mean - float64(hi)), or 0 where mean is infinite
//	a    = float32(float64(gamma[i]) * inv)
//	b    = beta[i]
//
// It stores mean in sum[i], v in sq[i], inv in inv[i] and hi, lo, a, b in
// their slices, for every channel, and returns false when some channel
// needs the caller's general path: sum[i] or sq[i] is not finite, the
// pivot is poor ((mean - float64(piv[i]))² > RedoRatio*v for a finite
// mean), or, with tiny, v < TinyVar. Every slice has length n at least.
func TrainParamsRows(sum, sq, inv []float64, piv, gamma, beta, hi, lo, a, b []float32, m, eps float64, tiny bool) bool {
	n := len(sum)
	sq, inv = sq[:n], inv[:n]
	piv, gamma, beta = piv[:n], gamma[:n], beta[:n]
	hi, lo, a, b = hi[:n], lo[:n], a[:n], b[:n]
	lim := 0.0 // v < 0 never holds
	if tiny {
		lim = TinyVar
	}
	ok := true
	for i, s := range sum {
		q := sq[i]
		p := float64(piv[i])
		sh := s / m
		mean := p + sh
		v := max(0, q/m-float64(sh*sh))
		d := mean - p
		redo := mean-mean == 0 && float64(d*d) > float64(RedoRatio*v)
		if redo || s-s != 0 || q-q != 0 || v < lim {
			ok = false
		}
		r := 0.0
		if e := v + eps; e != 0 {
			r = 1 / math.Sqrt(e)
		}
		h := float32(mean)
		l := float32(mean - float64(h))
		if math.IsInf(mean, 0) {
			l = 0
		}
		sum[i], sq[i], inv[i] = mean, v, r
		hi[i], lo[i], a[i], b[i] = h, l, float32(float64(gamma[i])*r), beta[i]
	}
	return ok
}

// BackParamsRows turns the backward sums of n = len(sdy) channels (sum dy,
// sum dy*(x - mean) and sum (x - mean), with mean the saved float32 one)
// into dgamma and the planar constants lo, k2, k3, k1 of BackwardApplyCL
// (whose hi is the saved mean), each channel on its own, in float64 with
// one rounding per operation:
//
//	inv  = float64(invstd[i])
//	r    = res[i] / m
//	dotp = dot[i] - r*sdy[i], or dot[i] where sdy[i] is not finite
//	dgamma[i] = dotp*inv
//	k    = float64(gamma[i]) * inv
//	lo = float32(r), k2 = float32(k*sdy[i]/m), k3 = float32(k*dotp*inv*inv/m), k1 = float32(k)
//
// It returns false when some channel may be extreme (package reduce then
// takes its float64 path for the call's channels): sdy[i], dot[i] or res[i]
// is not finite, |sdy[i]/m| >= ExtremeMean, or inv is outside
// [MinInvStd, MaxInvStd]. Every slice has length n at least.
func BackParamsRows(sdy, dot, res, dgamma []float64, invstd, gamma, lo, k2, k3, k1 []float32, m float64) bool {
	n := len(sdy)
	dot, res, dgamma = dot[:n], res[:n], dgamma[:n]
	invstd, gamma, lo, k2, k3, k1 = invstd[:n], gamma[:n], lo[:n], k2[:n], k3[:n], k1[:n]
	ok := true
	for i, s := range sdy {
		inv := float64(invstd[i])
		r := res[i] / m
		dotp := dot[i] - float64(r*s)
		if s-s != 0 {
			dotp = dot[i]
		}
		if !(s-s == 0 && dot[i]-dot[i] == 0 && res[i]-res[i] == 0 && math.Abs(s/m) < ExtremeMean &&
			inv <= MaxInvStd && inv >= MinInvStd) {
			ok = false
		}
		dgamma[i] = dotp * inv
		k := float64(gamma[i]) * inv
		lo[i], k2[i], k3[i], k1[i] = float32(r), float32(float64(k*s)/m), float32(float64(float64(float64(k*dotp)*inv)*inv)/m), float32(k)
	}
	return ok
}

// The bounds of BackParamsRows's check: beyond them the float32 kernels
// may overflow or lose a channel.
const (
	ExtremeMean = 0x1p120
	MaxInvStd   = 0x1p50
	MinInvStd   = 0x1p-120
)

// InferScale sets the inference scale of n = len(a) channels from their
// variance (the running one), in float64 with one rounding per operation:
//
//	d    = float64(variance[i]) + eps
//	inv  = 1 / sqrt(d), or 0 where d == 0
//	a[i] = float32(float64(gamma[i]) * inv)
//
// (Infer passes ones for a nil gamma: the product by 1 changes no bits.)
// gamma and variance have length n at least.
func InferScale(a, gamma, variance []float32, eps float64) {
	n := len(a)
	gamma, variance = gamma[:n], variance[:n]
	for i, v := range variance {
		inv := 0.0
		if d := float64(v) + eps; d != 0 {
			inv = 1 / math.Sqrt(d)
		}
		a[i] = float32(float64(gamma[i]) * inv)
	}
}
