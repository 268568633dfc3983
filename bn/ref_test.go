package bn_test

// A float64 reference for batch normalization and checkers of every output
// against the accuracy bounds of the contract (SPEC.md, "Accuracy"):
//
//	output                 abs(ours - ref) at most
//	mean                   1e-5*sigma + 2^-23*abs(ref)
//	var, invstd, runningVar 1e-5*abs(ref)
//	runningMean            1e-5*(abs(ref) + sigma)
//	y                      1e-5*(abs(beta) + abs(gamma)*(1 + abs(xhat)))
//	dx                     1e-5*abs(gamma)*invstd*max(abs(dy))
//	dgamma                 1e-5*sum(abs(dy*xhat))
//	dbeta                  1e-5*sum(abs(dy))
//
// sigma is sqrt(ref var[c]), xhat is the reference's normalized x, sums and
// the max run over the channel. A non-finite ref must be matched: NaN by
// NaN, +Inf by +Inf, -Inf by -Inf. The reference works in float64 on the
// float32 inputs: two-pass mean and biased variance, and for backward the
// float64 batch statistics of x (not the float32 ones that Train saved).

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/simdbn/simdbn/bn"
)

const (
	tol    = 1e-5            // the contract's relative bound
	ulp23  = 1.0 / (1 << 23) // 2^-23, the mean's extra relative term
	refBlk = 4096            // block length of the reference's sums
)

// idx is the index of element (n, c, p) of a batch of shape s.
func idx(s bn.Shape, n, c, p int) int {
	if s.Layout == bn.ChannelsLast {
		return (n*s.S+p)*s.C + c
	}
	return (n*s.C+c)*s.S + p
}

// eachIn calls f with the index of every element of channel c.
func eachIn(s bn.Shape, c int, f func(i int)) {
	for n := 0; n < s.N; n++ {
		for p := 0; p < s.S; p++ {
			f(idx(s, n, c, p))
		}
	}
}

// at64 is v[c] as float64, or def when v is nil.
func at64(v []float32, c int, def float64) float64 {
	if v == nil {
		return def
	}
	return float64(v[c])
}

// sum64 is a blocked float64 sum: accurate enough for channels of 10^8
// values.
type sum64 struct {
	total, block float64
	n            int
}

func (a *sum64) add(v float64) {
	a.block += v
	a.n++
	if a.n == refBlk {
		a.total += a.block
		a.block, a.n = 0, 0
	}
}

func (a *sum64) sum() float64 { return a.total + a.block }

// refInvStd is 1/sqrt(v + eps), 0 where v + eps is 0.
func refInvStd(v, eps float64) float64 {
	d := v + eps
	if d == 0 {
		return 0
	}
	return 1 / math.Sqrt(d)
}

// refMeanVar is the two-pass float64 mean and biased variance per channel.
func refMeanVar(x []float32, s bn.Shape) (mean, vr []float64) {
	mean = make([]float64, s.C)
	vr = make([]float64, s.C)
	m := float64(s.N * s.S)
	for c := 0; c < s.C; c++ {
		var a sum64
		eachIn(s, c, func(i int) { a.add(float64(x[i])) })
		mu := a.sum() / m
		var q sum64
		eachIn(s, c, func(i int) { d := float64(x[i]) - mu; q.add(d * d) })
		mean[c], vr[c] = mu, q.sum()/m
	}
	return mean, vr
}

// tcase is one call's inputs.
type tcase struct {
	s           bn.Shape
	x, dy       []float32
	gamma, beta []float32 // nil: ones, zeros
	rm, rv      []float32 // running statistics before the call; nil: none
	eps, mom    float32
	workers     int // BatchNorm.Workers of layer()
}

func (c *tcase) String() string {
	return fmt.Sprintf("Shape{N: %d, C: %d, S: %d, %v} eps=%g momentum=%g affine=%v running=%v workers=%d",
		c.s.N, c.s.C, c.s.S, c.s.Layout, c.eps, c.mom, c.gamma != nil, c.rm != nil, c.workers)
}

// refTrain is the reference of Train.
type refTrain struct {
	mean, vr, invstd []float64 // batch statistics
	rmean, rvar      []float64 // running statistics after the update; nil: not given
	y                []float64
}

func refTrainOf(tc *tcase) *refTrain {
	s := tc.s
	r := &refTrain{y: make([]float64, len(tc.x)), invstd: make([]float64, s.C)}
	r.mean, r.vr = refMeanVar(tc.x, s)
	m := float64(s.N * s.S)
	mom := float64(tc.mom)
	if tc.rm != nil {
		r.rmean = make([]float64, s.C)
	}
	if tc.rv != nil {
		r.rvar = make([]float64, s.C)
	}
	for c := 0; c < s.C; c++ {
		inv := refInvStd(r.vr[c], float64(tc.eps))
		r.invstd[c] = inv
		g, b, mu := at64(tc.gamma, c, 1), at64(tc.beta, c, 0), r.mean[c]
		eachIn(s, c, func(i int) { r.y[i] = (float64(tc.x[i])-mu)*inv*g + b })
		if tc.rm != nil {
			r.rmean[c] = (1-mom)*float64(tc.rm[c]) + mom*mu
		}
		if tc.rv != nil {
			r.rvar[c] = (1-mom)*float64(tc.rv[c]) + mom*r.vr[c]*m/(m-1)
		}
	}
	return r
}

// refInferOf is the reference of Infer (tc.rm and tc.rv are the running
// statistics).
func refInferOf(tc *tcase) []float64 {
	s := tc.s
	y := make([]float64, len(tc.x))
	for c := 0; c < s.C; c++ {
		inv := refInvStd(float64(tc.rv[c]), float64(tc.eps))
		g, b, mu := at64(tc.gamma, c, 1), at64(tc.beta, c, 0), float64(tc.rm[c])
		eachIn(s, c, func(i int) { y[i] = (float64(tc.x[i])-mu)*inv*g + b })
	}
	return y
}

// refBack is the reference of Backward.
type refBack struct {
	dx, dgamma, dbeta []float64
}

// refBackwardOf computes the gradients with the float64 batch statistics
// mean and invstd of tc.x.
func refBackwardOf(tc *tcase, mean, invstd []float64) *refBack {
	s := tc.s
	r := &refBack{dx: make([]float64, len(tc.x)), dgamma: make([]float64, s.C), dbeta: make([]float64, s.C)}
	m := float64(s.N * s.S)
	for c := 0; c < s.C; c++ {
		mu, inv, g := mean[c], invstd[c], at64(tc.gamma, c, 1)
		var db, dg sum64
		eachIn(s, c, func(i int) {
			dy := float64(tc.dy[i])
			db.add(dy)
			dg.add(dy * (float64(tc.x[i]) - mu) * inv)
		})
		r.dbeta[c], r.dgamma[c] = db.sum(), dg.sum()
		eachIn(s, c, func(i int) {
			xhat := (float64(tc.x[i]) - mu) * inv
			r.dx[i] = g * inv / m * (m*float64(tc.dy[i]) - r.dbeta[c] - xhat*r.dgamma[c])
		})
	}
	return r
}

// within reports whether got meets ref: a non-finite ref must be matched
// exactly in kind, a finite one within bound.
//
// A finite ref beyond the float32 range (it rounds to an infinity) is
// taken as that infinity: no float32 can be within a relative bound of it.
// Likewise a difference of one float32 denormal step is always allowed.
func within(got float32, ref, bound float64) bool {
	g := float64(got)
	if r32 := float64(float32(ref)); math.IsInf(r32, 0) {
		ref = r32
	}
	switch {
	case math.IsNaN(ref):
		return math.IsNaN(g)
	case math.IsInf(ref, 1):
		return math.IsInf(g, 1)
	case math.IsInf(ref, -1):
		return math.IsInf(g, -1)
	}
	// Below the normal float32 range the spacing of float32 values is
	// 2^-149: one such step is allowed whatever the bound (a var of 1e-60
	// can only be 0 in float32).
	d := math.Abs(g - ref)
	return d <= bound || d <= 0x1p-149 // false for a NaN or infinite g
}

// report collects failures of one call, printing at most a few of them.
type report struct {
	t     testing.TB
	ctx   string
	fails int
	worst map[string]float64 // largest err/bound per output
	lines []string
	scale float64 // multiplies every bound: 1 for the contract
}

const maxLines = 8

func newReport(t testing.TB, format string, args ...any) *report {
	return &report{t: t, ctx: fmt.Sprintf(format, args...), worst: map[string]float64{}, scale: 1}
}

// check compares one value; where names the output and its position.
func (r *report) check(what string, where func() string, got float32, ref, bound float64) {
	bound *= r.scale
	if within(got, ref, bound) {
		return
	}
	r.fails++
	if ratio := math.Abs(float64(got)-ref) / bound; !(ratio <= r.worst[what]) {
		r.worst[what] = ratio
	}
	if len(r.lines) < maxLines {
		r.lines = append(r.lines, fmt.Sprintf("%s%s: got %v (bits %#08x), ref %v, |diff| %.3g > bound %.3g",
			what, where(), got, math.Float32bits(got), ref, math.Abs(float64(got)-ref), bound))
	}
}

// summary describes the failures ("" when none).
func (r *report) summary() string {
	if r.fails == 0 {
		return ""
	}
	var w []string
	for k, v := range r.worst {
		w = append(w, fmt.Sprintf("%s %.3g", k, v))
	}
	sort.Strings(w)
	return fmt.Sprintf("%s: %d values out of bounds (worst |diff|/bound: %s):\n\t%s",
		r.ctx, r.fails, strings.Join(w, ", "), strings.Join(r.lines, "\n\t"))
}

// done reports the failures, if any, to the test.
func (r *report) done() {
	r.t.Helper()
	if r.fails != 0 {
		r.t.Error(r.summary())
	}
}

func chanWhere(c int) func() string { return func() string { return fmt.Sprintf("[c=%d]", c) } }

func elemWhere(s bn.Shape, i int) func() string {
	return func() string {
		var n, c, p int
		if s.Layout == bn.ChannelsLast {
			c, p, n = i%s.C, (i/s.C)%s.S, i/(s.C*s.S)
		} else {
			p, c, n = i%s.S, (i/s.S)%s.C, i/(s.C*s.S)
		}
		return fmt.Sprintf("[%d = (n=%d, c=%d, s=%d)]", i, n, c, p)
	}
}

// trainOut is what Train wrote.
type trainOut struct {
	y      []float32
	st     bn.Stats
	rm, rv []float32 // the layer's running statistics after the call
}

// checkTrain checks every output of Train against the reference: y, the
// statistics that st holds (Mean, Var, InvStd when not nil) and the running
// statistics when both ref and out have them.
func checkTrain(r *report, s bn.Shape, x, gamma, beta []float32, ref *refTrain, out *trainOut) {
	for c := 0; c < s.C; c++ {
		sigma := math.Sqrt(ref.vr[c])
		w := chanWhere(c)
		if out.st.Mean != nil {
			r.check("mean", w, out.st.Mean[c], ref.mean[c], tol*sigma+ulp23*math.Abs(ref.mean[c]))
		}
		if out.st.Var != nil {
			r.check("var", w, out.st.Var[c], ref.vr[c], tol*math.Abs(ref.vr[c]))
		}
		if out.st.InvStd != nil {
			r.check("invstd", w, out.st.InvStd[c], ref.invstd[c], tol*math.Abs(ref.invstd[c]))
		}
		if out.rm != nil && ref.rmean != nil {
			r.check("runningMean", w, out.rm[c], ref.rmean[c], tol*(math.Abs(ref.rmean[c])+sigma))
		}
		if out.rv != nil && ref.rvar != nil {
			r.check("runningVar", w, out.rv[c], ref.rvar[c], tol*math.Abs(ref.rvar[c]))
		}
		g, b := at64(gamma, c, 1), at64(beta, c, 0)
		mu, inv := ref.mean[c], ref.invstd[c]
		eachIn(s, c, func(i int) {
			xhat := (float64(x[i]) - mu) * inv
			r.check("y", elemWhere(s, i), out.y[i], ref.y[i], tol*(math.Abs(b)+math.Abs(g)*(1+math.Abs(xhat))))
		})
	}
}

// checkInfer checks Infer's y; rm and rv are the running statistics used.
func checkInfer(r *report, s bn.Shape, x, gamma, beta, rm, rv []float32, eps float32, refY []float64, y []float32) {
	for c := 0; c < s.C; c++ {
		g, b := at64(gamma, c, 1), at64(beta, c, 0)
		mu, inv := float64(rm[c]), refInvStd(float64(rv[c]), float64(eps))
		eachIn(s, c, func(i int) {
			xhat := (float64(x[i]) - mu) * inv
			r.check("y(infer)", elemWhere(s, i), y[i], refY[i], tol*(math.Abs(b)+math.Abs(g)*(1+math.Abs(xhat))))
		})
	}
}

// backOut is what Backward wrote.
type backOut struct {
	dx, dgamma, dbeta []float32 // dgamma, dbeta may be nil
}

// checkBackward checks Backward's outputs; mean and invstd are the
// reference's float64 batch statistics of x.
func checkBackward(r *report, s bn.Shape, x, dy, gamma []float32, mean, invstd []float64, ref *refBack, out *backOut) {
	for c := 0; c < s.C; c++ {
		g, mu, inv := at64(gamma, c, 1), mean[c], invstd[c]
		var maxDy float64
		var sumDy, sumDyXhat sum64
		eachIn(s, c, func(i int) {
			d := float64(dy[i])
			xhat := (float64(x[i]) - mu) * inv
			if a := math.Abs(d); a > maxDy || math.IsNaN(a) {
				maxDy = a
			}
			sumDy.add(math.Abs(d))
			sumDyXhat.add(math.Abs(d * xhat))
		})
		if out.dgamma != nil {
			r.check("dgamma", chanWhere(c), out.dgamma[c], ref.dgamma[c], tol*sumDyXhat.sum())
		}
		if out.dbeta != nil {
			r.check("dbeta", chanWhere(c), out.dbeta[c], ref.dbeta[c], tol*sumDy.sum())
		}
		bound := tol * math.Abs(g) * inv * maxDy
		eachIn(s, c, func(i int) {
			r.check("dx", elemWhere(s, i), out.dx[i], ref.dx[i], bound)
		})
	}
}
