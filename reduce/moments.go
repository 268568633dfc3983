package reduce

import (
	"math"

	"github.com/simdbn/simdbn/fallback"
)

const (
	// slabElems is the size, in values of one channel, of a slab: the unit
	// whose float64 lanes are reduced to one number and added, in slab
	// order, to the channel's total. Slabs are the grain of threading, so
	// their bounds depend on the shape only.
	slabElems = 1 << 16

	// redoRatio: when the pivot's distance to the mean exceeds
	// sqrt(redoRatio) standard deviations, the variance is computed again
	// with the float32 mean as pivot.
	redoRatio = 8

	lanes  = fallback.Lanes
	phases = fallback.Phases
)

// cfGeometry describes how the runs of a channels-first channel are cut
// into slabs: runsPerSlab whole runs with flush group group, or, when one
// run is longer than a slab (runLen > slabElems), pieces of slabElems values
// of one run.
type cfGeometry struct {
	runsPerSlab int
	group       int
}

func geometryCF(runLen int) cfGeometry {
	if runLen > slabElems {
		return cfGeometry{runsPerSlab: 1, group: 1}
	}
	if runLen > fallback.FlushCF {
		return cfGeometry{runsPerSlab: slabElems / runLen, group: 1}
	}
	g := fallback.FlushCF / runLen
	return cfGeometry{runsPerSlab: slabElems / runLen / g * g, group: g}
}

// slabRowsCL is the number of rows of a channels-last slab.
func slabRowsCL(C int) int {
	return fallback.FlushRowsCL * max(1, slabElems/(fallback.FlushRowsCL*C))
}

// forSlabsCF calls f for every slab of channel c of a channels-first batch,
// in order: the slab covers nruns runs of runLen values starting at x[start],
// runs stride apart.
func forSlabsCF(s Shape, c int, f func(start, nruns, runLen, group int)) {
	stride := s.C * s.S
	g := geometryCF(s.S)
	if s.S > slabElems {
		for n := 0; n < s.N; n++ {
			for off := 0; off < s.S; off += slabElems {
				f(n*stride+c*s.S+off, 1, min(slabElems, s.S-off), 1)
			}
		}
		return
	}
	for r0 := 0; r0 < s.N; r0 += g.runsPerSlab {
		f(r0*stride+c*s.S, min(g.runsPerSlab, s.N-r0), s.S, g.group)
	}
}

// span returns the part of x that a call over nruns runs of runLen values
// from start, stride apart, may touch.
func span(x []float32, start, nruns, runLen, stride int) []float32 {
	return x[start : start+(nruns-1)*stride+runLen]
}

// sumLanes adds the Lanes float64 lanes of a channels-first kernel in a
// fixed tree: halves added lane-wise until one remains.
func sumLanes(a []float64) float64 {
	var t [lanes]float64
	copy(t[:], a)
	for w := lanes / 2; w >= 1; w /= 2 {
		for l := 0; l < w; l++ {
			t[l] += t[l+w]
		}
	}
	return t[0]
}

// sumPhases adds the Phases float64 lanes of channel c of a channels-last
// kernel: (p0 + p1) + (p2 + p3).
func sumPhases(a []float64, C, c int) float64 {
	return (a[c] + a[C+c]) + (a[2*C+c] + a[3*C+c])
}

// pivotOf returns the pivot of channel c: the median of the first three of
// its values (in channel order) that are finite among its first three, the
// first of them when only two are, the one when one is, and 0 when none is.
func pivotOf(x []float32, s Shape, c int) float32 {
	var cand [3]float32
	k := 0
	for j := 0; j < min(3, s.M()); j++ {
		v := valueAt(x, s, c, j)
		if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
			cand[k] = v
			k++
		}
	}
	switch k {
	case 0:
		return 0
	case 3:
		a, b, d := cand[0], cand[1], cand[2]
		return max(min(a, b), min(max(a, b), d))
	}
	return cand[0]
}

// finish turns the shifted sums of a channel into its mean and biased
// variance.
func finish(pivot float32, sum, sq float64, m int) (mean, variance float64) {
	sh := sum / float64(m)
	return float64(pivot) + sh, max(0, sq/float64(m)-sh*sh)
}

// needsRedo reports whether the pivot was so far from the mean that the
// one-pass variance may have lost accuracy.
func needsRedo(pivot float32, mean, variance float64) bool {
	sh := mean - float64(pivot)
	return !math.IsNaN(mean) && !math.IsInf(mean, 0) && !math.IsNaN(variance) && sh*sh > redoRatio*variance
}

// momentsCF returns the mean and biased variance of channel c of a
// channels-first batch.
func momentsCF(k *kernels, acc []float64, x []float32, s Shape, c int) (mean, variance float64) {
	p := pivotOf(x, s, c)
	sum, sq := sumsCF(k, acc, x, s, c, p)
	mean, variance = finish(p, sum, sq, s.M())
	if needsRedo(p, mean, variance) {
		p = float32(mean)
		sum, sq = sumsCF(k, acc, x, s, c, p)
		mean, variance = finish(p, sum, sq, s.M())
	}
	if !finite(sum) || !finite(sq) {
		mean, variance = overflowMoments(x, s, c, mean, variance)
	}
	return mean, variance
}

func sumsCF(k *kernels, acc []float64, x []float32, s Shape, c int, pivot float32) (sum, sq float64) {
	acc = acc[:2*lanes]
	stride := s.C * s.S
	forSlabsCF(s, c, func(start, nruns, runLen, group int) {
		clear(acc)
		k.statsCF(acc, span(x, start, nruns, runLen, stride), nruns, runLen, stride, group, pivot)
		sum += sumLanes(acc[:lanes])
		sq += sumLanes(acc[lanes:])
	})
	return sum, sq
}

// momentsCL fills mean and variance for every channel of a row-major batch.
func momentsCL(k *kernels, ws *workspace, x []float32, s Shape, mean, variance []float64) {
	C := s.C
	piv := ws.pivots(C)
	for c := range C {
		piv[c] = pivotOf(x, s, c)
	}
	sum, sq := ws.sums(C)
	sumsCL(k, ws, x, s, piv, sum, sq)
	redo := false
	for c := range C {
		mean[c], variance[c] = finish(piv[c], sum[c], sq[c], s.M())
		if needsRedo(piv[c], mean[c], variance[c]) {
			redo = true
		}
	}
	if redo {
		// Rare: one more pass over all rows with the float32 means as
		// pivots; only the channels that asked for it take its results.
		piv2 := ws.pivots2(C)
		for c := range C {
			piv2[c] = piv[c]
			if needsRedo(piv[c], mean[c], variance[c]) {
				piv2[c] = float32(mean[c])
			}
		}
		sumsCL(k, ws, x, s, piv2, sum, sq)
		for c := range C {
			if math.Float32bits(piv2[c]) != math.Float32bits(piv[c]) {
				mean[c], variance[c] = finish(piv2[c], sum[c], sq[c], s.M())
			}
		}
	}
	for c := range C {
		if !finite(sum[c]) || !finite(sq[c]) {
			mean[c], variance[c] = overflowMoments(x, s, c, mean[c], variance[c])
		}
	}
}

func sumsCL(k *kernels, ws *workspace, x []float32, s Shape, piv []float32, sum, sq []float64) {
	C, rows := s.C, s.rows()
	acc := ws.acc(2 * phases * C)
	clear(sum)
	clear(sq)
	step := slabRowsCL(C)
	for r0 := 0; r0 < rows; r0 += step {
		nr := min(step, rows-r0)
		clear(acc)
		k.statsCL(acc, x[r0*C:(r0+nr)*C], nr, C, piv)
		q := acc[phases*C:]
		for c := range C {
			sum[c] += sumPhases(acc, C, c)
			sq[c] += sumPhases(q, C, c)
		}
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// overflowMoments handles a channel whose shifted sums overflowed float32
// although all its values are finite (values more than about 1.8e19 apart):
// it recomputes mean and variance with a plain two-pass float64 loop. For a
// channel that does hold NaN or Inf the given results stand.
func overflowMoments(x []float32, s Shape, c int, mean, variance float64) (float64, float64) {
	m := s.M()
	sum := 0.0
	for j := range m {
		v := float64(valueAt(x, s, c, j))
		if !finite(v) {
			return mean, variance
		}
		sum += v
	}
	mu := sum / float64(m)
	sq := 0.0
	for j := range m {
		d := float64(valueAt(x, s, c, j)) - mu
		sq += d * d
	}
	return mu, sq / float64(m)
}

// valueAt returns value j of channel c in channel order.
func valueAt(x []float32, s Shape, c, j int) float32 {
	if s.rowMajor() {
		return x[j*s.C+c]
	}
	return x[(j/s.S*s.C+c)*s.S+j%s.S]
}
