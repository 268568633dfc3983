package bench

import (
	"math"

	"github.com/simdbn/simdbn/bn"
)

// NaiveImpl is the name of the handwritten pseudo-implementation in tables
// and benchmark names (impl=naive-f64).
const NaiveImpl = "naive-f64"

// The Naive functions are the batch normalization a user writes by hand in
// plain Go: two passes for the statistics (mean, then the sum of squared
// deviations) with float64 accumulators, then y = (x-mean)*invstd*gamma+beta
// in float64; inference in one pass; backward as one pass for the two
// reductions (sum dy, sum dy*(x-mean)) and one for dx. They follow the
// semantics of SPEC.md (biased variance for normalizing, unbiased for the
// running variance, invstd 0 where var+eps is 0) but check nothing: the
// arguments must be valid.
//
// Loop order: with channels first (and S > 1) channel by channel, each
// channel as N runs of S values; with channels last, or S == 1 (a plain
// [N, C] batch, which has the same memory order), row by row in memory
// order with per-channel accumulators in acc.
//
// acc is scratch of at least NaiveScratch(C) float64 values; a shorter one
// is replaced by a new slice (which allocates).

// NaiveScratch is the length of acc the Naive functions need for C channels.
func NaiveScratch(C int) int { return 4 * C }

func rowOrder(s bn.Shape) bool { return s.Layout == bn.ChannelsLast || s.S == 1 }

func param(v []float32, c int, def float64) float64 {
	if v == nil {
		return def
	}
	return float64(v[c])
}

func naiveInvStd(variance float64, eps float32) float64 {
	d := variance + float64(eps)
	if d == 0 {
		return 0
	}
	return 1 / math.Sqrt(d)
}

// NaiveStats is the handwritten per-channel mean and biased variance (two
// float64 passes), the counterpart of reduce.MeanVar.
func NaiveStats(mean, variance []float64, x []float32, s bn.Shape) {
	C, S := s.C, s.S
	M := float64(s.N * s.S)
	clear(mean)
	clear(variance)
	if rowOrder(s) {
		rows := s.N * s.S
		for r := range rows {
			for c, v := range x[r*C : r*C+C] {
				mean[c] += float64(v)
			}
		}
		for c := range mean {
			mean[c] /= M
		}
		for r := range rows {
			for c, v := range x[r*C : r*C+C] {
				d := float64(v) - mean[c]
				variance[c] += d * d
			}
		}
		for c := range C {
			variance[c] /= M
		}
		return
	}
	for c := range C {
		var sum float64
		for n := range s.N {
			for _, v := range x[(n*C+c)*S : (n*C+c)*S+S] {
				sum += float64(v)
			}
		}
		m := sum / M
		var sq float64
		for n := range s.N {
			for _, v := range x[(n*C+c)*S : (n*C+c)*S+S] {
				d := float64(v) - m
				sq += d * d
			}
		}
		mean[c], variance[c] = m, sq/M
	}
}

// NaiveTrain is the handwritten form of b.Train(y, x, s, st).
func NaiveTrain(b *bn.BatchNorm, y, x []float32, s bn.Shape, st *bn.Stats, acc []float64) {
	C, S := s.C, s.S
	M := float64(s.N * s.S)
	if len(acc) < NaiveScratch(C) {
		acc = make([]float64, NaiveScratch(C))
	}
	mean, variance, scale := acc[:C], acc[C:2*C], acc[2*C:3*C]
	NaiveStats(mean, variance, x, s)
	for c := range C {
		scale[c] = naiveInvStd(variance[c], b.Eps) * param(b.Gamma, c, 1)
	}
	if rowOrder(s) {
		for r := range s.N * s.S {
			row, out := x[r*C:r*C+C], y[r*C:r*C+C]
			for c, v := range row {
				out[c] = float32((float64(v)-mean[c])*scale[c] + param(b.Beta, c, 0))
			}
		}
	} else {
		for c := range C {
			sc, sh, m := scale[c], param(b.Beta, c, 0), mean[c]
			for n := range s.N {
				in, out := x[(n*C+c)*S:(n*C+c)*S+S], y[(n*C+c)*S:(n*C+c)*S+S]
				for i, v := range in {
					out[i] = float32((float64(v)-m)*sc + sh)
				}
			}
		}
	}
	for c := range C {
		if st != nil {
			if st.Mean != nil {
				st.Mean[c] = float32(mean[c])
			}
			if st.Var != nil {
				st.Var[c] = float32(variance[c])
			}
			if st.InvStd != nil {
				st.InvStd[c] = float32(naiveInvStd(variance[c], b.Eps))
			}
		}
		mo := float64(b.Momentum)
		if b.RunningMean != nil {
			b.RunningMean[c] = float32((1-mo)*float64(b.RunningMean[c]) + mo*mean[c])
		}
		if b.RunningVar != nil {
			b.RunningVar[c] = float32((1-mo)*float64(b.RunningVar[c]) + mo*variance[c]*M/(M-1))
		}
	}
}

// NaiveInfer is the handwritten form of b.Infer(y, x, s): one pass.
func NaiveInfer(b *bn.BatchNorm, y, x []float32, s bn.Shape, acc []float64) {
	C, S := s.C, s.S
	if len(acc) < NaiveScratch(C) {
		acc = make([]float64, NaiveScratch(C))
	}
	mean, scale, shift := acc[:C], acc[C:2*C], acc[2*C:3*C]
	for c := range C {
		mean[c] = float64(b.RunningMean[c])
		scale[c] = naiveInvStd(float64(b.RunningVar[c]), b.Eps) * param(b.Gamma, c, 1)
		shift[c] = param(b.Beta, c, 0)
	}
	if rowOrder(s) {
		for r := range s.N * s.S {
			row, out := x[r*C:r*C+C], y[r*C:r*C+C]
			for c, v := range row {
				out[c] = float32((float64(v)-mean[c])*scale[c] + shift[c])
			}
		}
		return
	}
	for n := range s.N {
		for c := range C {
			m, sc, sh := mean[c], scale[c], shift[c]
			in, out := x[(n*C+c)*S:(n*C+c)*S+S], y[(n*C+c)*S:(n*C+c)*S+S]
			for i, v := range in {
				out[i] = float32((float64(v)-m)*sc + sh)
			}
		}
	}
}

// NaiveBackward is the handwritten form of
// b.Backward(dx, dgamma, dbeta, dy, x, s, st).
func NaiveBackward(b *bn.BatchNorm, dx, dgamma, dbeta, dy, x []float32, s bn.Shape, st *bn.Stats, acc []float64) {
	C, S := s.C, s.S
	M := float64(s.N * s.S)
	if len(acc) < NaiveScratch(C) {
		acc = make([]float64, NaiveScratch(C))
	}
	sdy, dot, k1, k2 := acc[:C], acc[C:2*C], acc[2*C:3*C], acc[3*C:4*C]
	// dx = gamma*invstd/M * (M*dy - dbeta - xhat*dgamma), xhat = (x-mean)*invstd
	//    = k1*(M*dy - dbeta) - k2*(x-mean), k1 = gamma*invstd/M, k2 = k1*invstd*dgamma
	finish := func(c int) {
		inv := float64(st.InvStd[c])
		dg := dot[c] * inv
		if dgamma != nil {
			dgamma[c] = float32(dg)
		}
		if dbeta != nil {
			dbeta[c] = float32(sdy[c])
		}
		k1[c] = param(b.Gamma, c, 1) * inv / M
		k2[c] = k1[c] * inv * dg
	}
	if rowOrder(s) {
		rows := s.N * s.S
		clear(sdy)
		clear(dot)
		for r := range rows {
			g, in := dy[r*C:r*C+C], x[r*C:r*C+C]
			for c, v := range in {
				d := float64(g[c])
				sdy[c] += d
				dot[c] += d * (float64(v) - float64(st.Mean[c]))
			}
		}
		for c := range C {
			finish(c)
		}
		for r := range rows {
			g, in, out := dy[r*C:r*C+C], x[r*C:r*C+C], dx[r*C:r*C+C]
			for c, v := range in {
				out[c] = float32(k1[c]*(M*float64(g[c])-sdy[c]) - k2[c]*(float64(v)-float64(st.Mean[c])))
			}
		}
		return
	}
	for c := range C {
		m := float64(st.Mean[c])
		var sd, dt float64
		for n := range s.N {
			lo := (n*C + c) * S
			g, in := dy[lo:lo+S], x[lo:lo+S]
			for i, v := range in {
				d := float64(g[i])
				sd += d
				dt += d * (float64(v) - m)
			}
		}
		sdy[c], dot[c] = sd, dt
		finish(c)
		a, bb, k := k1[c], sdy[c], k2[c]
		for n := range s.N {
			lo := (n*C + c) * S
			g, in, out := dy[lo:lo+S], x[lo:lo+S], dx[lo:lo+S]
			for i, v := range in {
				out[i] = float32(a*(M*float64(g[i])-bb) - k*(float64(v)-m))
			}
		}
	}
}
