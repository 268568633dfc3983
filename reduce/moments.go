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
	// with the float32 mean as pivot (the kernels of TrainParamsRows make
	// the same check).
	redoRatio = fallback.RedoRatio

	lanes  = fallback.Lanes
	phases = fallback.Phases
)

// cfGeo is the slab geometry of a channels-first batch, computed once per
// call: each channel's runs are cut into slabs of runsPerSlab whole runs
// flushed every group runs, or, when one run is longer than a slab
// (S > slabElems), into pieces of slabElems values of one run.
type cfGeo struct {
	Shape
	stride      int // C*S
	runsPerSlab int
	group       int
	pieces      int // slabs per run when S > slabElems, else 0
	slabs       int // slabs per channel
	units       int // flush units per channel (pipeline.go)
}

func newCFGeo(s Shape) cfGeo {
	g := cfGeo{Shape: s, stride: s.C * s.S}
	switch {
	case s.S == 0:
		return g
	case s.S > slabElems:
		g.runsPerSlab, g.group = 1, 1
		g.pieces = ceilDiv(s.S, slabElems)
		g.slabs = s.N * g.pieces
		g.units = g.slabs
		return g
	case s.S > fallback.FlushCF:
		g.runsPerSlab, g.group = slabElems/s.S, 1
	default:
		g.group = fallback.FlushCF / s.S
		g.runsPerSlab = slabElems / s.S / g.group * g.group
	}
	g.slabs = ceilDiv(s.N, g.runsPerSlab)
	g.units = ceilDiv(s.N, g.group)
	return g
}

// slab returns slab j of channel c: nruns runs of runLen values from
// x[start], C*S apart, flushed every group runs.
func (g *cfGeo) slab(c, j int) (start, nruns, runLen, group int) {
	if g.pieces > 0 {
		n, off := j/g.pieces, j%g.pieces*slabElems
		return n*g.stride + c*g.S + off, 1, min(slabElems, g.S-off), 1
	}
	r0 := j * g.runsPerSlab
	return r0*g.stride + c*g.S, min(g.runsPerSlab, g.N-r0), g.S, g.group
}

// slabRowsCL is the number of rows of a channels-last slab.
func slabRowsCL(C int) int {
	return fallback.FlushRowsCL * max(1, slabElems/(fallback.FlushRowsCL*C))
}

// slabsCL is the number of slabs of a row-major batch, and slabCL slab j.
func slabsCL(s Shape) int { return ceilDiv(s.rows(), slabRowsCL(s.C)) }

func slabCL(s Shape, j int) (r0, nr int) {
	per := slabRowsCL(s.C)
	r0 = j * per
	return r0, min(per, s.rows()-r0)
}

// span returns the part of x that a call over nruns runs of runLen values
// from start, stride apart, may touch.
func span(x []float32, start, nruns, runLen, stride int) []float32 {
	return x[start : start+(nruns-1)*stride+runLen]
}

// pivotOf returns the pivot of channel c: the median of the first three of
// its values (in channel order) that are finite among its first three, the
// first of them when only two are, the one when one is, and 0 when none is.
func pivotOf(x []float32, s Shape, c int) float32 {
	var v [3]float32
	n := min(3, s.M())
	switch {
	case n == 3 && s.rowMajor():
		v = [3]float32{x[c], x[s.C+c], x[2*s.C+c]}
	case n == 3 && s.S >= 3:
		v = [3]float32(x[c*s.S : c*s.S+3])
	default:
		for j := range n {
			v[j] = valueAt(x, s, c, j)
		}
	}
	if n == 3 && finite32(v[0]) && finite32(v[1]) && finite32(v[2]) {
		return median3(v[0], v[1], v[2])
	}
	var cand [3]float32
	k := 0
	for _, f := range v[:n] {
		if finite32(f) {
			cand[k] = f
			k++
		}
	}
	switch k {
	case 0:
		return 0
	case 3:
		return median3(cand[0], cand[1], cand[2])
	}
	return cand[0]
}

func finite32(f float32) bool { return math.Float32bits(f)&0x7f800000 != 0x7f800000 }

// median3 is the median of three finite values.
func median3(a, b, c float32) float32 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	if a > b {
		return a
	}
	return b
}

// finish turns the shifted sums of a channel into its mean and biased
// variance.
func finish(pivot float32, sum, sq float64, m int) (mean, variance float64) {
	sh := sum / float64(m)
	// float64(sh*sh): no fused multiply-add, as in TrainParamsRows.
	return float64(pivot) + sh, max(0, sq/float64(m)-float64(sh*sh))
}

// needsRedo reports whether the pivot was so far from the mean that the
// one-pass variance may have lost accuracy.
func needsRedo(pivot float32, mean, variance float64) bool {
	// mean - mean is 0 exactly when mean is finite; a NaN variance fails
	// the comparison.
	sh := mean - float64(pivot)
	return mean-mean == 0 && sh*sh > redoRatio*variance
}

// momentsFromSums returns the mean and biased variance of channel c of a
// channels-first batch from its shifted sums with pivot p: the second pass
// if the pivot was poor, the float64 loop if the sums overflowed.
//
// extreme reports that the channel's values are finite but so far apart
// that the float32 sums overflowed; mean and variance then come from a
// float64 loop, and the channel is normalized by one too (see extreme.go).
func momentsFromSums(k *kernels, acc []float64, x []float32, g *cfGeo, c int, p float32, sum, sq float64) (mean, variance float64, extreme bool) {
	s := g.Shape
	mean, variance = finish(p, sum, sq, s.M())
	if needsRedo(p, mean, variance) {
		p = float32(mean)
		sum, sq = sumsCF(k, acc, x, g, c, p)
		mean, variance = finish(p, sum, sq, s.M())
	}
	if !finite(sum) || !finite(sq) {
		return exactMoments(x, s, c, mean, variance)
	}
	return mean, variance, false
}

func sumsCF(k *kernels, acc []float64, x []float32, g *cfGeo, c int, pivot float32) (sum, sq float64) {
	for j := range g.slabs {
		a, b := slabSumsCF(k, acc, x, g, c, j, pivot)
		sum += a
		sq += b
	}
	return sum, sq
}

// slabSumsCF returns the shifted sums of slab j of channel c.
func slabSumsCF(k *kernels, acc []float64, x []float32, g *cfGeo, c, j int, pivot float32) (sum, sq float64) {
	acc = acc[:2*lanes]
	clear(acc)
	start, nruns, runLen, group := g.slab(c, j)
	k.statsCF(acc, span(x, start, nruns, runLen, g.stride), nruns, runLen, g.stride, group, pivot)
	return fallback.SumLanes(acc[:lanes]), fallback.SumLanes(acc[lanes:])
}

// finite reports whether v is neither NaN nor infinite: v - v is 0 for
// every other value, and NaN for those.
func finite(v float64) bool { return v-v == 0 }

// exactMoments handles a channel whose shifted sums overflowed float32:
// when all its values are finite (so some are more than about 1.8e19 apart)
// it recomputes mean and variance with a two-pass float64 loop and reports
// the channel as extreme. For a channel that holds NaN or Inf the given
// results stand.
func exactMoments(x []float32, s Shape, c int, mean, variance float64) (float64, float64, bool) {
	m := s.M()
	sum := 0.0
	for j := range m {
		v := float64(valueAt(x, s, c, j))
		if !finite(v) {
			return mean, variance, false
		}
		sum += v
	}
	mu := sum / float64(m)
	sq := 0.0
	for j := range m {
		d := float64(valueAt(x, s, c, j)) - mu
		sq += d * d
	}
	return mu, sq / float64(m), true
}

// valueAt returns value j of channel c in channel order.
func valueAt(x []float32, s Shape, c, j int) float32 {
	if s.rowMajor() {
		return x[j*s.C+c]
	}
	return x[(j/s.S*s.C+c)*s.S+j%s.S]
}
