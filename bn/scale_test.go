package bn_test

// One channel of 10^8 values at a large offset: the contract's bounds hold
// for channels of 10^8 values (SPEC.md, "Accuracy"). Skipped with -short.
// About 1.6 GB of memory (x, dy, y, dx).

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/simdbn/simdbn/bn"
)

const (
	scaleM      = 100_000_000
	scaleOffset = 1e4
)

// scaleData fills x = offset + N(0,1) and dy = N(0,1) on two goroutines.
func scaleData() (x, dy []float32) {
	x, dy = make([]float32, scaleM), make([]float32, scaleM)
	var wg sync.WaitGroup
	for k, v := range [][]float32{x, dy} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRand(uint64(1000 + k))
			off := 0.0
			if k == 0 {
				off = scaleOffset
			}
			for i := range v {
				v[i] = float32(off + r.NormFloat64())
			}
		}()
	}
	wg.Wait()
	return x, dy
}

// hashBits is FNV-1a over the bits of v, to compare outputs across
// implementations without keeping copies.
func hashBits(v []float32) uint64 {
	h := uint64(14695981039346656037)
	for _, f := range v {
		h ^= uint64(math.Float32bits(f))
		h *= 1099511628211
	}
	return h
}

func TestScale1e8(t *testing.T) {
	if testing.Short() {
		t.Skip("10^8 values: skipped with -short")
	}
	x, dy := scaleData()
	// The reference, in float64: two-pass mean and biased variance, then the
	// backward sums with the float64 statistics. With C = 1 both layouts
	// hold the values in the same order, so one reference serves both.
	var a sum64
	for _, v := range x {
		a.add(float64(v))
	}
	mean := a.sum() / scaleM
	var q sum64
	for _, v := range x {
		d := float64(v) - mean
		q.add(d * d)
	}
	vr := q.sum() / scaleM
	gamma, beta := []float32{1.75}, []float32{-0.5}
	rm0, rv0 := []float32{scaleOffset - 3}, []float32{2}
	const eps, mom = float32(1e-5), float32(0.1)
	inv := refInvStd(vr, float64(eps))
	g, b := float64(gamma[0]), float64(beta[0])
	ref := &refTrain{
		mean: []float64{mean}, vr: []float64{vr}, invstd: []float64{inv},
		rmean: []float64{(1-float64(mom))*float64(rm0[0]) + float64(mom)*mean},
		rvar:  []float64{(1-float64(mom))*float64(rv0[0]) + float64(mom)*vr*scaleM/(scaleM-1)},
	}
	var sdy, sdot, sAbsDy, sAbsDot sum64
	maxDy := 0.0
	for i, v := range x {
		d := float64(dy[i])
		xh := (float64(v) - mean) * inv
		sdy.add(d)
		sdot.add(d * xh)
		sAbsDy.add(math.Abs(d))
		sAbsDot.add(math.Abs(d * xh))
		maxDy = math.Max(maxDy, math.Abs(d))
	}
	dbeta, dgamma := sdy.sum(), sdot.sum()
	t.Logf("reference: mean %.10g, var %.10g, dbeta %.6g, dgamma %.6g", mean, vr, dbeta, dgamma)

	y, dx := make([]float32, scaleM), make([]float32, scaleM)
	type hashes struct{ y, dx uint64 }
	seen := map[string]hashes{}
	for _, shape := range []bn.Shape{
		{N: 100, C: 1, S: scaleM / 100, Layout: bn.ChannelsFirst},
		{N: 10_000, C: 1, S: scaleM / 10_000, Layout: bn.ChannelsLast},
	} {
		t.Run(fmt.Sprint(shape.Layout), func(t *testing.T) {
			forImpls(t, func(t *testing.T) {
				impl := bn.Impl()
				layer := &bn.BatchNorm{Gamma: gamma, Beta: beta, RunningMean: clone(rm0), RunningVar: clone(rv0), Eps: eps, Momentum: mom}
				st := bn.Stats{Mean: make([]float32, 1), Var: make([]float32, 1), InvStd: make([]float32, 1)}
				if err := layer.Train(y, x, shape, &st); err != nil {
					t.Fatalf("Train %+v: %v", shape, err)
				}
				r := newReport(t, "10^8 values at offset %g, %+v, Train", scaleOffset, shape)
				for c := 0; c < 1; c++ {
					sigma := math.Sqrt(vr)
					w := chanWhere(0)
					r.check("mean", w, st.Mean[0], mean, tol*sigma+ulp23*math.Abs(mean))
					r.check("var", w, st.Var[0], vr, tol*vr)
					r.check("invstd", w, st.InvStd[0], inv, tol*inv)
					r.check("runningMean", w, layer.RunningMean[0], ref.rmean[0], tol*(math.Abs(ref.rmean[0])+sigma))
					r.check("runningVar", w, layer.RunningVar[0], ref.rvar[0], tol*ref.rvar[0])
				}
				t.Logf("%s %v: mean %.10g (ref %.10g), var %.10g (ref %.10g), invstd %.10g (ref %.10g)",
					impl, shape.Layout, st.Mean[0], mean, st.Var[0], vr, st.InvStd[0], inv)
				for i, v := range x {
					xh := (float64(v) - mean) * inv
					want := xh*g + b
					if !within(y[i], want, tol*(math.Abs(b)+math.Abs(g)*(1+math.Abs(xh)))) {
						r.check("y", elemWhere(shape, i), y[i], want, tol*(math.Abs(b)+math.Abs(g)*(1+math.Abs(xh))))
					}
				}
				r.done()

				dg, db := make([]float32, 1), make([]float32, 1)
				if err := layer.Backward(dx, dg, db, dy, x, shape, &st); err != nil {
					t.Fatalf("Backward %+v: %v", shape, err)
				}
				r = newReport(t, "10^8 values at offset %g, %+v, Backward", scaleOffset, shape)
				r.check("dgamma", chanWhere(0), dg[0], dgamma, tol*sAbsDot.sum())
				r.check("dbeta", chanWhere(0), db[0], dbeta, tol*sAbsDy.sum())
				bound := tol * math.Abs(g) * inv * maxDy
				k := g * inv / scaleM
				for i, v := range x {
					xh := (float64(v) - mean) * inv
					want := k * (scaleM*float64(dy[i]) - dbeta - xh*dgamma)
					if !within(dx[i], want, bound) {
						r.check("dx", elemWhere(shape, i), dx[i], want, bound)
					}
				}
				r.done()

				h := hashes{hashBits(y), hashBits(dx)}
				key := fmt.Sprint(shape.Layout)
				if prev, ok := seen[key]; ok && prev != h {
					t.Errorf("%v: %s's y or dx bits differ from the previous implementation's (hashes %x vs %x)", shape, impl, h, prev)
				}
				seen[key] = h
			})
		})
	}
}
