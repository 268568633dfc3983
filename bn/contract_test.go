package bn_test

// Tests of the contract (SPEC.md). Every test runs under every
// implementation that this CPU runs (bn.Impls), one subtest each.

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/simdbn/simdbn/bn"
	"github.com/simdbn/simdbn/reduce"
)

// forImpls runs f once per implementation, selected with bn.Use. Subtests
// must not call t.Parallel: Use switches the whole process.
func forImpls(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	impls := bn.Impls()
	if len(impls) == 0 || impls[len(impls)-1] != "generic" {
		t.Errorf("Impls() = %v, want a list ending in generic", impls)
	}
	for _, name := range impls {
		restore, err := bn.Use(name)
		if err != nil {
			t.Fatalf("Use(%q): %v", name, err)
		}
		if got := bn.Impl(); got != name {
			t.Errorf("after Use(%q), Impl() = %q", name, got)
		}
		t.Run("impl="+name, f)
		restore()
	}
}

// withImpl runs f under the named implementation.
func withImpl(t testing.TB, name string, f func()) {
	t.Helper()
	restore, err := bn.Use(name)
	if err != nil {
		t.Fatalf("Use(%q): %v", name, err)
	}
	defer restore()
	f()
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// normals returns n values offset + N(0,1) rounded to float32.
func normals(r *rand.Rand, n int, offset float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(offset + r.NormFloat64())
	}
	return v
}

var (
	epsValues = []float32{0, 1e-5, 1e-3, 0.5}
	momValues = []float32{0, 0.1, 0.5, 1}
)

// randCase returns random inputs for shape s with x = offset + N(0,1),
// random gamma and beta (sometimes nil), running statistics (sometimes nil),
// eps and momentum. When infer is set the running statistics are never nil.
func randCase(r *rand.Rand, s bn.Shape, offset float64, infer bool) *tcase {
	n := s.N * s.C * s.S
	tc := &tcase{s: s, x: normals(r, n, offset), dy: normals(r, n, 0)}
	if r.IntN(4) != 0 {
		tc.gamma = normals(r, s.C, 0)
		tc.beta = normals(r, s.C, 0)
		for c := range tc.beta {
			tc.beta[c] *= 3
		}
	}
	if infer || r.IntN(4) != 0 {
		tc.rm = normals(r, s.C, offset)
		tc.rv = make([]float32, s.C)
		for c := range tc.rv {
			tc.rv[c] = float32(0.25 + 2*r.Float64())
		}
	}
	tc.eps = epsValues[r.IntN(len(epsValues))]
	tc.mom = momValues[r.IntN(len(momValues))]
	return tc
}

func clone(v []float32) []float32 {
	if v == nil {
		return nil
	}
	return append([]float32(nil), v...)
}

// layer returns a BatchNorm with tc's parameters and copies of its running
// statistics.
func (tc *tcase) layer() *bn.BatchNorm {
	return &bn.BatchNorm{Gamma: tc.gamma, Beta: tc.beta, RunningMean: clone(tc.rm), RunningVar: clone(tc.rv), Eps: tc.eps, Momentum: tc.mom, Workers: tc.workers}
}

// garbage is what outputs hold before a call, to catch unwritten values.
const garbage = float32(-123456.75)

func filled(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = garbage
	}
	return v
}

func runTrain(tc *tcase) (*trainOut, error) {
	b := tc.layer()
	C := tc.s.C
	out := &trainOut{y: filled(len(tc.x)), st: bn.Stats{Mean: filled(C), Var: filled(C), InvStd: filled(C)}}
	err := b.Train(out.y, tc.x, tc.s, &out.st)
	out.rm, out.rv = b.RunningMean, b.RunningVar
	return out, err
}

func runInfer(tc *tcase) ([]float32, error) {
	y := filled(len(tc.x))
	err := tc.layer().Infer(y, tc.x, tc.s)
	return y, err
}

func runBackward(tc *tcase, st *bn.Stats) (*backOut, error) {
	C := tc.s.C
	out := &backOut{dx: filled(len(tc.x)), dgamma: filled(C), dbeta: filled(C)}
	err := tc.layer().Backward(out.dx, out.dgamma, out.dbeta, tc.dy, tc.x, tc.s, st)
	return out, err
}

// checkAll runs Train, Backward (with Train's Stats) and Infer on tc and
// checks every output against the reference.
func checkAll(t *testing.T, tc *tcase, label string) {
	t.Helper()
	r := newReport(t, "%s %v", label, tc)
	if tc.s.N*tc.s.S >= 2 {
		out, err := runTrain(tc)
		if err != nil {
			t.Fatalf("%v: Train: %v", tc, err)
		}
		ref := refTrainOf(tc)
		checkTrain(r, tc.s, tc.x, tc.gamma, tc.beta, ref, out)
		bo, err := runBackward(tc, &out.st)
		if err != nil {
			t.Fatalf("%v: Backward: %v", tc, err)
		}
		checkBackward(r, tc.s, tc.x, tc.dy, tc.gamma, ref.mean, ref.invstd, refBackwardOf(tc, ref.mean, ref.invstd), bo)
	} else {
		_, err := runTrain(tc)
		if !errors.Is(err, bn.ErrTooFewValues) {
			t.Errorf("%v: Train with M = %d: err = %v, want ErrTooFewValues", tc, tc.s.N*tc.s.S, err)
		}
	}
	if tc.rm != nil {
		y, err := runInfer(tc)
		if err != nil {
			t.Fatalf("%v: Infer: %v", tc, err)
		}
		checkInfer(r, tc.s, tc.x, tc.gamma, tc.beta, tc.rm, tc.rv, tc.eps, refInferOf(tc), y)
	}
	r.done()
}

// sweepShapes returns shapes where each of N, C, S runs over 1..40 while
// the other two take the values in others.
func sweepShapes(others []int) [][3]int {
	seen := map[[3]int]bool{}
	var out [][3]int
	add := func(d [3]int) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	for v := 1; v <= 40; v++ {
		for _, a := range others {
			for _, b := range others {
				add([3]int{v, a, b})
				add([3]int{a, v, b})
				add([3]int{a, b, v})
			}
		}
	}
	return out
}

var layouts = []bn.Layout{bn.ChannelsFirst, bn.ChannelsLast}

func TestShapesAgainstReference(t *testing.T) {
	others := []int{1, 2, 3, 7, 17}
	offsets := []float64{0, 1e4, 1e6}
	if testing.Short() {
		others = []int{2, 7}
		offsets = []float64{0, 1e6}
	}
	shapes := sweepShapes(others)
	forImpls(t, func(t *testing.T) {
		r := newRand(1)
		for _, d := range shapes {
			for _, l := range layouts {
				for _, off := range offsets {
					s := bn.Shape{N: d[0], C: d[1], S: d[2], Layout: l}
					checkAll(t, randCase(r, s, off, r.IntN(2) == 0), fmt.Sprintf("offset %g", off))
				}
			}
		}
	})
}

// TestLargeShapes: shapes past the library's slab, flush-group, chunk and
// channel-group sizes (channels of more than 2^16 and 2^18 values, many
// channels of few values, thousands of channels), checked against the
// reference and for the bits of generic.
func TestLargeShapes(t *testing.T) {
	shapes := []bn.Shape{
		{N: 2100, C: 2, S: 33},
		{N: 2, C: 1000, S: 300, Layout: bn.ChannelsLast},
	}
	if !testing.Short() {
		shapes = append(shapes,
			bn.Shape{N: 2, C: 5, S: 70000},
			bn.Shape{N: 1, C: 2, S: 300000},
			bn.Shape{N: 50, C: 37, S: 1000},
			bn.Shape{N: 70, C: 2, S: 1025},
			bn.Shape{N: 70000, C: 3, S: 1, Layout: bn.ChannelsLast},
			bn.Shape{N: 4, C: 4100, S: 3, Layout: bn.ChannelsLast},
			bn.Shape{N: 1000, C: 300, S: 1},
			bn.Shape{N: 3, C: 9, S: 30000, Layout: bn.ChannelsLast},
		)
	}
	forImpls(t, func(t *testing.T) {
		impl := bn.Impl()
		r := newRand(16)
		for _, s := range shapes {
			tc := randCase(r, s, 1e4, true)
			checkAll(t, tc, "large, offset 1e4")
			if impl != "generic" {
				names, got := allOutputs(t, tc)
				var want [][]float32
				withImpl(t, "generic", func() { _, want = allOutputs(t, tc) })
				for i := range names {
					expectSameBits(t, fmt.Sprintf("%v: %s vs generic, %s", tc, impl, names[i]), got[i], want[i])
				}
			}
		}
	})
}

// TestInferOddRunningStats: Infer with running statistics that make the
// scale 0 (var + eps = 0, var = +Inf) or non-finite, one channel each.
func TestInferOddRunningStats(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	odd := [][2]float32{{0, 0}, {1, inf}, {nan, 1}, {inf, 1}, {-inf, 2}, {0.5, nan}, {0.5, -1}, {1e30, 1e-30}}
	forImpls(t, func(t *testing.T) {
		r := newRand(17)
		for _, l := range layouts {
			s := bn.Shape{N: 3, C: len(odd) + 1, S: 11, Layout: l}
			tc := randCase(r, s, 0, true)
			tc.eps = 0
			for c, v := range odd {
				tc.rm[c], tc.rv[c] = v[0], v[1]
			}
			y, err := runInfer(tc)
			if err != nil {
				t.Fatalf("%v: Infer: %v", tc, err)
			}
			rep := newReport(t, "Infer with odd running statistics %v (mean, var per channel) %v", odd, tc)
			checkInfer(rep, s, tc.x, tc.gamma, tc.beta, tc.rm, tc.rv, tc.eps, refInferOf(tc), y)
			rep.done()
		}
	})
}

// Bits must match exactly, except that a NaN matches any NaN: when two NaNs
// meet, x86 returns the first operand's, and Go does not fix the operand
// order of its float adds, so the NaN payload is not part of the contract.
// bitsEqual reports the first index where a and b differ in bits.
func bitsEqual(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
			return i, false
		}
	}
	return 0, true
}

func expectSameBits(t testing.TB, what string, got, want []float32) {
	t.Helper()
	if i, ok := bitsEqual(got, want); !ok {
		if i < 0 {
			t.Errorf("%s: len %d, want %d", what, len(got), len(want))
			return
		}
		t.Errorf("%s[%d] = %v (%#08x), want %v (%#08x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
}

// allOutputs runs Train, Backward and Infer and returns every output in a
// fixed order with names.
func allOutputs(t testing.TB, tc *tcase) (names []string, outs [][]float32) {
	t.Helper()
	add := func(n string, v []float32) {
		names = append(names, n)
		outs = append(outs, v)
	}
	if tc.s.N*tc.s.S >= 2 {
		o, err := runTrain(tc)
		if err != nil {
			t.Fatalf("%v: Train: %v", tc, err)
		}
		add("y", o.y)
		add("st.Mean", o.st.Mean)
		add("st.Var", o.st.Var)
		add("st.InvStd", o.st.InvStd)
		add("RunningMean", o.rm)
		add("RunningVar", o.rv)
		bo, err := runBackward(tc, &o.st)
		if err != nil {
			t.Fatalf("%v: Backward: %v", tc, err)
		}
		add("dx", bo.dx)
		add("dgamma", bo.dgamma)
		add("dbeta", bo.dbeta)
	}
	if tc.rm != nil {
		y, err := runInfer(tc)
		if err != nil {
			t.Fatalf("%v: Infer: %v", tc, err)
		}
		add("y(infer)", y)
	}
	return names, outs
}

func TestBitIdenticalAcrossImpls(t *testing.T) {
	others := []int{1, 3, 17}
	offsets := []float64{0, 1e6}
	if testing.Short() {
		others = []int{3}
		offsets = []float64{1e4}
	}
	shapes := sweepShapes(others)
	forImpls(t, func(t *testing.T) {
		impl := bn.Impl()
		r := newRand(2)
		for _, d := range shapes {
			for _, l := range layouts {
				for _, off := range offsets {
					tc := randCase(r, bn.Shape{N: d[0], C: d[1], S: d[2], Layout: l}, off, true)
					names, got := allOutputs(t, tc)
					var want [][]float32
					withImpl(t, "generic", func() { _, want = allOutputs(t, tc) })
					for i := range names {
						expectSameBits(t, fmt.Sprintf("%v: %s vs generic, %s", tc, impl, names[i]), got[i], want[i])
					}
				}
			}
		}
	})
}

func TestDeterministicRepeat(t *testing.T) {
	forImpls(t, func(t *testing.T) {
		r := newRand(3)
		for _, l := range layouts {
			tc := randCase(r, bn.Shape{N: 5, C: 13, S: 131, Layout: l}, 1e4, true)
			names, first := allOutputs(t, tc)
			for k := 0; k < 3; k++ {
				_, again := allOutputs(t, tc)
				for i := range names {
					expectSameBits(t, fmt.Sprintf("%v: run %d, %s", tc, k+2, names[i]), again[i], first[i])
				}
			}
		}
	})
}

func TestConstantChannel(t *testing.T) {
	shapes := []bn.Shape{{N: 4, C: 3, S: 5}, {N: 5, C: 19, S: 3}, {N: 3, C: 2, S: 37}, {N: 64, C: 5, S: 1}, {N: 2, C: 1, S: 1000}}
	values := []float32{0, 3.7, -2.5e-3, 1e6 + 0.5, -1e4, 1e30, 1e-30}
	forImpls(t, func(t *testing.T) {
		r := newRand(4)
		for _, s0 := range shapes {
			for _, l := range layouts {
				for _, v := range values {
					for _, eps := range []float32{0, 1e-5} {
						s := s0
						s.Layout = l
						tc := randCase(r, s, 0, true)
						tc.eps = eps
						cc := s.C / 2
						eachIn(s, cc, func(i int) { tc.x[i] = v })
						checkAll(t, tc, fmt.Sprintf("channel %d constant %g", cc, v))
						o, err := runTrain(tc)
						if err != nil {
							t.Fatal(err)
						}
						b := at64(tc.beta, cc, 0)
						if o.st.Var[cc] != 0 {
							t.Errorf("%v, channel %d constant %g: var = %v, want exactly 0", tc, cc, v, o.st.Var[cc])
						}
						if o.st.Mean[cc] != v {
							// Not required by the bounds (2^-23 relative), but the mean of equal values is that value.
							t.Logf("%v, channel %d constant %g: mean = %v", tc, cc, v, o.st.Mean[cc])
						}
						if eps == 0 && o.st.InvStd[cc] != 0 {
							t.Errorf("%v, eps 0, channel %d constant %g: invstd = %v, want 0", tc, cc, v, o.st.InvStd[cc])
						}
						bad := 0
						eachIn(s, cc, func(i int) {
							if float64(o.y[i]) != b && bad < 3 {
								bad++
								t.Errorf("%v, eps %g, channel %d constant %g: y[%d] = %v, want exactly beta = %v", tc, eps, cc, v, i, o.y[i], b)
							}
						})
						bo, err := runBackward(tc, &o.st)
						if err != nil {
							t.Fatal(err)
						}
						if eps == 0 {
							eachIn(s, cc, func(i int) {
								if bo.dx[i] != 0 && bad < 6 {
									bad++
									t.Errorf("%v, eps 0, channel %d constant %g: dx[%d] = %v, want 0", tc, cc, v, i, bo.dx[i])
								}
							})
						}
						if bo.dgamma[cc] != 0 {
							t.Errorf("%v, eps %g, channel %d constant %g: dgamma = %v, want 0", tc, eps, cc, v, bo.dgamma[cc])
						}
					}
				}
			}
		}
	})
}

// TestNonFinite puts NaN and infinities into one channel: every other
// channel's outputs keep the bits of the clean run, and the poisoned
// channel matches the reference (its non-finite values by kind).
func TestNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	poisons := []struct {
		name string
		vals []float32
	}{
		{"NaN", []float32{nan}},
		{"+Inf", []float32{inf}},
		{"-Inf", []float32{-inf}},
		{"+Inf,-Inf", []float32{inf, -inf}},
		{"NaN,+Inf", []float32{nan, inf}},
		{"+Inf,+Inf", []float32{inf, inf}},
		{"max,max", []float32{math.MaxFloat32, math.MaxFloat32}},
		{"-max,max", []float32{-math.MaxFloat32, math.MaxFloat32}},
	}
	shapes := []bn.Shape{{N: 3, C: 5, S: 7}, {N: 4, C: 19, S: 3}, {N: 2, C: 3, S: 100}, {N: 33, C: 17, S: 1}, {N: 2, C: 40, S: 9}}
	forImpls(t, func(t *testing.T) {
		for _, p := range poisons {
			for _, inDy := range []bool{false, true} {
				where := "x"
				if inDy {
					where = "dy"
				}
				t.Run(where+"="+p.name, func(t *testing.T) {
					r := newRand(5)
					for _, s0 := range shapes {
						for _, l := range layouts {
							s := s0
							s.Layout = l
							checkPoisoned(t, r, s, p.vals, inDy, fmt.Sprintf("%s in channel %d of %s", p.name, (s.C-1)/2, where))
						}
					}
				})
			}
		}
	})
}

// checkPoisoned writes vals into channel (C-1)/2 of x (or dy), compares
// every other channel with the clean run's bits and checks all outputs
// against the reference.
func checkPoisoned(t *testing.T, r *rand.Rand, s bn.Shape, vals []float32, inDy bool, label string) {
	t.Helper()
	clean := randCase(r, s, 1e3, true)
	pc := (s.C - 1) / 2
	bad := *clean
	bad.x, bad.dy = clone(clean.x), clone(clean.dy)
	target := bad.x
	if inDy {
		target = bad.dy
	}
	var pos []int
	eachIn(s, pc, func(i int) { pos = append(pos, i) })
	for k, v := range vals {
		target[pos[(k*7+1)%len(pos)]] = v
	}
	names, want := allOutputs(t, clean)
	_, got := allOutputs(t, &bad)
	for i, name := range names {
		for c := 0; c < s.C; c++ {
			if c == pc {
				continue
			}
			var g, w []float32
			if len(got[i]) == s.C {
				g, w = got[i][c:c+1], want[i][c:c+1]
			} else {
				eachIn(s, c, func(j int) { g, w = append(g, got[i][j]), append(w, want[i][j]) })
			}
			expectSameBits(t, fmt.Sprintf("%v, %s: %s of channel %d", clean, label, name, c), g, w)
		}
	}
	checkAll(t, &bad, label)
}

// TestWideRange: x and dy scaled by tiny and huge factors (all values
// normal float32 numbers), with eps 0 and 1e-5. The bounds hold "for any
// data that float32 holds".
func TestWideRange(t *testing.T) {
	scales := []float64{1e-35, 1e-30, 1e-20, 1e-10, 1e10, 1e18, 1e20, 1e30}
	forImpls(t, func(t *testing.T) {
		for _, sc := range scales {
			for _, eps := range []float32{0, 1e-5} {
				t.Run(fmt.Sprintf("scale=%g/eps=%g", sc, eps), func(t *testing.T) {
					r := newRand(15)
					for _, s := range []bn.Shape{{N: 4, C: 3, S: 50}, {N: 4, C: 3, S: 50, Layout: bn.ChannelsLast}, {N: 3, C: 17, S: 7}} {
						tc := randCase(r, s, 0, true)
						for i := range tc.x {
							tc.x[i] = float32(float64(tc.x[i]) * sc)
							tc.dy[i] = float32(float64(tc.dy[i]) * sc)
						}
						for c := range tc.rm {
							tc.rm[c] = float32(float64(tc.rm[c]) * sc)
							tc.rv[c] = float32(min(float64(tc.rv[c])*sc*sc, 1e38))
						}
						tc.eps = eps
						checkAll(t, tc, fmt.Sprintf("x and dy scaled by %g", sc))
					}
				})
			}
		}
	})
}

// TestInPlace checks that y is x (Train, Infer) and dx is dy or x
// (Backward) give the bits of the out-of-place calls, and so do per-channel
// outputs that are the very same slices as Gamma or Beta, on one worker and
// on three (whose channel groups and blocks write their own channels'
// outputs while others still read gamma).
func TestInPlace(t *testing.T) {
	shapes := []bn.Shape{{N: 3, C: 5, S: 7}, {N: 4, C: 19, S: 33}, {N: 2, C: 3, S: 1}, {N: 37, C: 17, S: 1}, {N: 2, C: 40, S: 9},
		{N: 300, C: 100, S: 1}}
	forImpls(t, func(t *testing.T) {
		r := newRand(6)
		for i := range 2 * len(shapes) {
			for _, l := range layouts {
				s := shapes[i/2]
				s.Layout = l
				tc := randCase(r, s, 1e4, true)
				tc.workers = 1 + 2*(i%2)
				if tc.gamma == nil {
					tc.gamma, tc.beta = normals(r, s.C, 0), normals(r, s.C, 0)
				}
				out, err := runTrain(tc)
				if err != nil {
					t.Fatal(err)
				}
				// Train, y is x.
				b := tc.layer()
				buf := clone(tc.x)
				st := bn.Stats{Mean: filled(s.C), Var: filled(s.C), InvStd: filled(s.C)}
				if err := b.Train(buf, buf, s, &st); err != nil {
					t.Fatalf("%v: Train in place: %v", tc, err)
				}
				expectSameBits(t, fmt.Sprintf("%v: Train in place, y", tc), buf, out.y)
				expectSameBits(t, fmt.Sprintf("%v: Train in place, st.Mean", tc), st.Mean, out.st.Mean)
				expectSameBits(t, fmt.Sprintf("%v: Train in place, RunningVar", tc), b.RunningVar, out.rv)

				// Train, st.Mean is Gamma and st.Var is Beta.
				b = tc.layer()
				b.Gamma, b.Beta = clone(tc.gamma), clone(tc.beta)
				y := filled(len(tc.x))
				st2 := bn.Stats{Mean: b.Gamma, Var: b.Beta, InvStd: filled(s.C)}
				if err := b.Train(y, tc.x, s, &st2); err != nil {
					t.Fatalf("%v: Train with st.Mean = Gamma, st.Var = Beta: %v", tc, err)
				} else {
					expectSameBits(t, fmt.Sprintf("%v: Train with st.Mean = Gamma, y", tc), y, out.y)
					expectSameBits(t, fmt.Sprintf("%v: Train with st.Mean = Gamma, st.Mean", tc), st2.Mean, out.st.Mean)
					expectSameBits(t, fmt.Sprintf("%v: Train with st.Var = Beta, st.Var", tc), st2.Var, out.st.Var)
				}

				// Infer, y is x.
				yi, err := runInfer(tc)
				if err != nil {
					t.Fatal(err)
				}
				buf = clone(tc.x)
				if err := tc.layer().Infer(buf, buf, s); err != nil {
					t.Fatalf("%v: Infer in place: %v", tc, err)
				}
				expectSameBits(t, fmt.Sprintf("%v: Infer in place, y", tc), buf, yi)

				// Backward, dx is dy, then dx is x.
				bo, err := runBackward(tc, &out.st)
				if err != nil {
					t.Fatal(err)
				}
				for _, which := range []string{"dy", "x"} {
					dy, x := clone(tc.dy), clone(tc.x)
					dx := dy
					if which == "x" {
						dx = x
					}
					dg, db := filled(s.C), filled(s.C)
					if err := tc.layer().Backward(dx, dg, db, dy, x, s, &out.st); err != nil {
						t.Fatalf("%v: Backward with dx = %s: %v", tc, which, err)
					}
					expectSameBits(t, fmt.Sprintf("%v: Backward with dx = %s, dx", tc, which), dx, bo.dx)
					expectSameBits(t, fmt.Sprintf("%v: Backward with dx = %s, dgamma", tc, which), dg, bo.dgamma)
					expectSameBits(t, fmt.Sprintf("%v: Backward with dx = %s, dbeta", tc, which), db, bo.dbeta)
				}

				// Backward, dgamma is Gamma.
				b = tc.layer()
				b.Gamma = clone(tc.gamma)
				dx, db := filled(len(tc.x)), filled(s.C)
				if err := b.Backward(dx, b.Gamma, db, tc.dy, tc.x, s, &out.st); err != nil {
					t.Fatalf("%v: Backward with dgamma = Gamma: %v", tc, err)
				} else {
					expectSameBits(t, fmt.Sprintf("%v: Backward with dgamma = Gamma, dx", tc), dx, bo.dx)
					expectSameBits(t, fmt.Sprintf("%v: Backward with dgamma = Gamma, dgamma", tc), b.Gamma, bo.dgamma)
				}
			}
		}
	})
}

// TestOptionalOutputs: nil Stats fields, nil Stats, nil running statistics,
// nil dgamma and dbeta change nothing else.
func TestOptionalOutputs(t *testing.T) {
	forImpls(t, func(t *testing.T) {
		r := newRand(7)
		for _, l := range layouts {
			s := bn.Shape{N: 3, C: 11, S: 13, Layout: l}
			tc := randCase(r, s, 1e3, true)
			full, err := runTrain(tc)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []int{0, 1, 2, 3} {
				b := tc.layer()
				var st *bn.Stats
				switch k {
				case 1:
					st = &bn.Stats{}
				case 2:
					st = &bn.Stats{Mean: filled(s.C)}
					b.RunningMean = nil
				case 3:
					st = &bn.Stats{InvStd: filled(s.C)}
					b.RunningVar = nil
				}
				y := filled(len(tc.x))
				if err := b.Train(y, tc.x, s, st); err != nil {
					t.Fatalf("%v: Train variant %d: %v", tc, k, err)
				}
				expectSameBits(t, fmt.Sprintf("%v: Train variant %d, y", tc, k), y, full.y)
				if b.RunningMean != nil {
					expectSameBits(t, fmt.Sprintf("%v: Train variant %d, RunningMean", tc, k), b.RunningMean, full.rm)
				}
				if b.RunningVar != nil {
					expectSameBits(t, fmt.Sprintf("%v: Train variant %d, RunningVar", tc, k), b.RunningVar, full.rv)
				}
				if k == 2 {
					expectSameBits(t, fmt.Sprintf("%v: Train variant %d, st.Mean", tc, k), st.Mean, full.st.Mean)
				}
				if k == 3 {
					expectSameBits(t, fmt.Sprintf("%v: Train variant %d, st.InvStd", tc, k), st.InvStd, full.st.InvStd)
				}
			}
			bo, err := runBackward(tc, &full.st)
			if err != nil {
				t.Fatal(err)
			}
			dx := filled(len(tc.x))
			if err := tc.layer().Backward(dx, nil, nil, tc.dy, tc.x, s, &bn.Stats{Mean: full.st.Mean, InvStd: full.st.InvStd}); err != nil {
				t.Fatalf("%v: Backward without dgamma, dbeta, st.Var: %v", tc, err)
			}
			expectSameBits(t, fmt.Sprintf("%v: Backward without dgamma, dbeta: dx", tc), dx, bo.dx)
		}
	})
}

func TestNewDefaults(t *testing.T) {
	b := bn.New(3)
	want := func(name string, v []float32, x float32) {
		if len(v) != 3 {
			t.Fatalf("New(3).%s has len %d", name, len(v))
		}
		for _, e := range v {
			if e != x {
				t.Errorf("New(3).%s = %v, want all %v", name, v, x)
				return
			}
		}
	}
	want("Gamma", b.Gamma, 1)
	want("Beta", b.Beta, 0)
	want("RunningMean", b.RunningMean, 0)
	want("RunningVar", b.RunningVar, 1)
	if b.Eps != 1e-5 || b.Momentum != 0.1 {
		t.Errorf("New(3): Eps %v, Momentum %v, want 1e-5, 0.1", b.Eps, b.Momentum)
	}
}

func isRace() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

func TestNoAllocs(t *testing.T) {
	if isRace() {
		t.Skip("the race detector makes sync.Pool drop items, so allocation counts mean nothing")
	}
	forImpls(t, func(t *testing.T) {
		r := newRand(8)
		for _, s := range []bn.Shape{{N: 4, C: 19, S: 37}, {N: 4, C: 19, S: 37, Layout: bn.ChannelsLast}, {N: 64, C: 9, S: 1}} {
			tc := randCase(r, s, 1e4, true)
			b := tc.layer()
			y, dx := make([]float32, len(tc.x)), make([]float32, len(tc.x))
			st := bn.Stats{Mean: make([]float32, s.C), Var: make([]float32, s.C), InvStd: make([]float32, s.C)}
			dg, db := make([]float32, s.C), make([]float32, s.C)
			if n := testing.AllocsPerRun(20, func() {
				if err := b.Train(y, tc.x, s, &st); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%v: Train allocates %v times per call", tc, n)
			}
			if n := testing.AllocsPerRun(20, func() {
				if err := b.Infer(y, tc.x, s); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%v: Infer allocates %v times per call", tc, n)
			}
			if n := testing.AllocsPerRun(20, func() {
				if err := b.Backward(dx, dg, db, tc.dy, tc.x, s, &st); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%v: Backward allocates %v times per call", tc, n)
			}
		}
	})
}

// TestConcurrent: goroutines with distinct outputs (each its own layer,
// running statistics and output slices; shared inputs) get the bits of
// serial calls.
func TestConcurrent(t *testing.T) {
	const G, iters = 6, 3
	forImpls(t, func(t *testing.T) {
		r := newRand(9)
		var cases []*tcase
		for _, s := range []bn.Shape{{N: 4, C: 19, S: 33}, {N: 8, C: 21, S: 29, Layout: bn.ChannelsLast}, {N: 50, C: 7, S: 1}} {
			cases = append(cases, randCase(r, s, 1e3, true))
		}
		want := make([][][]float32, len(cases))
		var names [][]string
		for i, tc := range cases {
			var n []string
			n, want[i] = allOutputs(t, tc)
			names = append(names, n)
		}
		got := make([][][][]float32, G)
		var wg sync.WaitGroup
		for g := 0; g < G; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for it := 0; it < iters; it++ {
					// Rotate the order so different calls overlap in time.
					for k := range cases {
						i := (k + g) % len(cases)
						_, o := allOutputs(t, cases[i])
						if it == iters-1 {
							if got[g] == nil {
								got[g] = make([][][]float32, len(cases))
							}
							got[g][i] = o
						}
					}
				}
			}()
		}
		wg.Wait()
		for g := range got {
			for i := range cases {
				for j, name := range names[i] {
					expectSameBits(t, fmt.Sprintf("goroutine %d, %v: %s", g, cases[i], name), got[g][i][j], want[i][j])
				}
			}
		}
	})
}

func TestReduceMeanVar(t *testing.T) {
	others := []int{1, 3, 17}
	offsets := []float64{0, 1e4, 1e6}
	if testing.Short() {
		others = []int{3}
		offsets = []float64{1e6}
	}
	shapes := sweepShapes(others)
	forImpls(t, func(t *testing.T) {
		r := newRand(10)
		for _, d := range shapes {
			for _, l := range layouts {
				for _, off := range offsets {
					s := bn.Shape{N: d[0], C: d[1], S: d[2], Layout: l}
					x := normals(r, d[0]*d[1]*d[2], off)
					mean, vr := filled(s.C), filled(s.C)
					if err := reduce.MeanVar(mean, vr, x, s); err != nil {
						t.Fatalf("reduce.MeanVar %v: %v", s, err)
					}
					rm, rv := refMeanVar(x, s)
					rep := newReport(t, "reduce.MeanVar %+v, offset %g", s, off)
					for c := 0; c < s.C; c++ {
						sigma := math.Sqrt(rv[c])
						rep.check("mean", chanWhere(c), mean[c], rm[c], tol*sigma+ulp23*math.Abs(rm[c]))
						rep.check("var", chanWhere(c), vr[c], rv[c], tol*math.Abs(rv[c]))
					}
					rep.done()
					var m2 []float32
					withImpl(t, "generic", func() {
						m2 = filled(s.C)
						if err := reduce.MeanVar(m2, nil, x, s); err != nil {
							t.Fatal(err)
						}
					})
					expectSameBits(t, fmt.Sprintf("reduce.MeanVar %+v, offset %g: mean vs generic", s, off), mean, m2)
				}
			}
		}
	})
}

// ---- bad input ----

// world is a small valid call (N=2, C=3, S=2) whose slices the error cases
// break one at a time.
type world struct {
	b             *bn.BatchNorm
	s             bn.Shape
	x, y, dy, dx  []float32
	dgamma, dbeta []float32
	st            *bn.Stats
	extra         [][]float32 // backing buffers of overlapping slices
	nilBN         bool
}

func newWorld(r *rand.Rand) *world {
	s := bn.Shape{N: 2, C: 3, S: 2}
	b := bn.New(3)
	for c := 0; c < 3; c++ {
		b.Gamma[c], b.Beta[c] = 1.5+float32(c), float32(c)-0.5
		b.RunningMean[c], b.RunningVar[c] = 0.25*float32(c), 2+float32(c)
	}
	return &world{
		b: b, s: s,
		x: normals(r, 12, 0), y: filled(12), dy: normals(r, 12, 0), dx: filled(12),
		dgamma: filled(3), dbeta: filled(3),
		st: &bn.Stats{Mean: filled(3), Var: filled(3), InvStd: filled(3)},
	}
}

func (w *world) slices() [][]float32 {
	v := [][]float32{w.x, w.y, w.dy, w.dx, w.dgamma, w.dbeta}
	if w.b != nil {
		v = append(v, w.b.Gamma, w.b.Beta, w.b.RunningMean, w.b.RunningVar)
	}
	if w.st != nil {
		v = append(v, w.st.Mean, w.st.Var, w.st.InvStd)
	}
	return append(v, w.extra...)
}

func (w *world) snapshot() [][]uint32 {
	var out [][]uint32
	for _, v := range w.slices() {
		b := make([]uint32, len(v))
		for i := range v {
			b[i] = math.Float32bits(v[i])
		}
		out = append(out, b)
	}
	return out
}

func (w *world) train() error {
	b := w.b
	if w.nilBN {
		b = nil
	}
	return b.Train(w.y, w.x, w.s, w.st)
}

func (w *world) infer() error {
	b := w.b
	if w.nilBN {
		b = nil
	}
	return b.Infer(w.y, w.x, w.s)
}

func (w *world) backward() error {
	b := w.b
	if w.nilBN {
		b = nil
	}
	return b.Backward(w.dx, w.dgamma, w.dbeta, w.dy, w.x, w.s, w.st)
}

var wordRE = map[string]*regexp.Regexp{}

// hasWord reports whether msg holds w not glued to other identifier or
// number characters.
func hasWord(msg, w string) bool {
	re, ok := wordRE[w]
	if !ok {
		re = regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(w) + `($|[^A-Za-z0-9_]|\.($|[^0-9]))`)
		wordRE[w] = re
	}
	return re.MatchString(msg)
}

// overlapBuf returns two slices of length n of one buffer, the second
// starting off elements after the first.
func (w *world) overlapBuf(n, off int) (a, b []float32) { return w.overlapBuf2(n, n, off) }

// overlapBuf2 returns slices of lengths na and nb of one buffer, the second
// starting off elements after the first.
func (w *world) overlapBuf2(na, nb, off int) (a, b []float32) {
	buf := filled(max(na, off+nb))
	w.extra = append(w.extra, buf)
	return buf[:na], buf[off : off+nb]
}

type badCase struct {
	name  string
	op    string // train, infer, backward
	prep  func(w *world)
	want  error
	words []string // the text must name these
	exact string   // when set, the whole text
}

func badCases() []badCase {
	neg := func(n, c, s int) func(w *world) {
		return func(w *world) { w.s = bn.Shape{N: n, C: c, S: s} }
	}
	var cs []badCase
	// halfBits squared fits in an int, three times that does not.
	halfBits := 1 << (bits.UintSize/2 - 1)
	for _, op := range []string{"train", "infer", "backward"} {
		cs = append(cs,
			badCase{"len(x) 10", op, func(w *world) { w.x = w.x[:10] }, bn.ErrLength, nil, "bn: len(x) = 10, want N*C*S = 12"},
			badCase{"len(x) 13", op, func(w *world) { w.x = append(w.x, 1) }, bn.ErrLength, []string{"x", "13", "12"}, ""},
			badCase{"x nil", op, func(w *world) { w.x = nil }, bn.ErrLength, []string{"x", "0", "12"}, ""},
			badCase{"Gamma len 2", op, func(w *world) { w.b.Gamma = w.b.Gamma[:2] }, bn.ErrLength, []string{"Gamma", "2", "3"}, ""},
			badCase{"negative N", op, neg(-1, 3, 2), bn.ErrShape, []string{"-1"}, ""},
			badCase{"negative C", op, neg(2, -3, 2), bn.ErrShape, []string{"-3"}, ""},
			badCase{"negative S", op, neg(2, 3, -2), bn.ErrShape, []string{"-2"}, ""},
			badCase{"N*C*S overflows", op, neg(math.MaxInt/2+1, 1<<20, 1), bn.ErrShape, []string{fmt.Sprint(math.MaxInt/2 + 1), fmt.Sprint(1 << 20)}, ""},
			badCase{"N*C*S overflows at 2^63", op, neg(1<<21, 1<<21, 1<<21), bn.ErrShape, []string{fmt.Sprint(1 << 21)}, ""},
			badCase{"N*C*S overflows, max int", op, neg(math.MaxInt, 2, 1), bn.ErrShape, []string{fmt.Sprint(math.MaxInt)}, ""},
			badCase{"N*C*S overflows, N*C fits", op, neg(halfBits, halfBits, 3), bn.ErrShape, []string{fmt.Sprint(halfBits)}, ""},
			badCase{"Layout 2", op, func(w *world) { w.s.Layout = 2 }, bn.ErrLayout, []string{"Layout", "2"}, ""},
			badCase{"Layout -1", op, func(w *world) { w.s.Layout = -1 }, bn.ErrLayout, []string{"Layout", "-1"}, ""},
			badCase{"nil BatchNorm", op, func(w *world) { w.nilBN = true }, bn.ErrNil, nil, ""},
		)
	}
	for _, op := range []string{"train", "infer"} {
		cs = append(cs,
			badCase{"len(y) 11", op, func(w *world) { w.y = w.y[:11] }, bn.ErrLength, []string{"y", "11", "12"}, ""},
			badCase{"Beta len 4", op, func(w *world) { w.b.Beta = append(w.b.Beta, 0) }, bn.ErrLength, []string{"Beta", "4", "3"}, ""},
			badCase{"RunningMean len 2", op, func(w *world) { w.b.RunningMean = w.b.RunningMean[:2] }, bn.ErrLength, []string{"RunningMean", "2", "3"}, ""},
			badCase{"RunningVar len 4", op, func(w *world) { w.b.RunningVar = append(w.b.RunningVar, 1) }, bn.ErrLength, []string{"RunningVar", "4", "3"}, ""},
			badCase{"Eps -1", op, func(w *world) { w.b.Eps = -1 }, bn.ErrEps, []string{"Eps", "-1"}, ""},
			badCase{"Eps -1e-30", op, func(w *world) { w.b.Eps = -1e-30 }, bn.ErrEps, []string{"Eps", "-1e-30"}, ""},
			badCase{"Eps NaN", op, func(w *world) { w.b.Eps = float32(math.NaN()) }, bn.ErrEps, []string{"Eps", "NaN"}, ""},
			badCase{"Eps +Inf", op, func(w *world) { w.b.Eps = float32(math.Inf(1)) }, bn.ErrEps, []string{"Eps", "+Inf"}, ""},
			badCase{"Eps -Inf", op, func(w *world) { w.b.Eps = float32(math.Inf(-1)) }, bn.ErrEps, []string{"Eps", "-Inf"}, ""},
			badCase{"y overlaps x, offset 1", op, func(w *world) { w.x, w.y = w.overlapBuf(12, 1) }, bn.ErrOverlap, []string{"y", "x"}, ""},
			badCase{"x overlaps y, offset 5", op, func(w *world) { w.y, w.x = w.overlapBuf(12, 5) }, bn.ErrOverlap, []string{"y", "x"}, ""},
			badCase{"y overlaps Gamma", op, func(w *world) {
				buf := filled(14)
				w.extra = append(w.extra, buf)
				w.y, w.b.Gamma = buf[:12], buf[11:14]
			}, bn.ErrOverlap, []string{"y", "Gamma"}, ""},
		)
	}
	cs = append(cs,
		badCase{"M = 1", "train", func(w *world) { w.s.N, w.s.S, w.x, w.y = 1, 1, w.x[:3], w.y[:3] }, bn.ErrTooFewValues, []string{"1"}, ""},
		badCase{"M = 0", "train", func(w *world) { w.s.N, w.x, w.y = 0, nil, nil }, bn.ErrTooFewValues, []string{"0"}, ""},
		badCase{"M = 1, C = 0", "train", func(w *world) {
			w.s, w.x, w.y = bn.Shape{N: 1, C: 0, S: 1}, nil, nil
			w.b.Gamma, w.b.Beta, w.b.RunningMean, w.b.RunningVar, w.st = nil, nil, nil, nil, nil
		}, bn.ErrTooFewValues, []string{"1"}, ""},
		badCase{"st.Mean len 2", "train", func(w *world) { w.st.Mean = w.st.Mean[:2] }, bn.ErrLength, []string{"st.Mean", "2", "3"}, ""},
		badCase{"st.Var len 4", "train", func(w *world) { w.st.Var = append(w.st.Var, 0) }, bn.ErrLength, []string{"st.Var", "4", "3"}, ""},
		badCase{"st.InvStd len 1", "train", func(w *world) { w.st.InvStd = w.st.InvStd[:1] }, bn.ErrLength, []string{"st.InvStd", "1", "3"}, ""},
		badCase{"Momentum NaN", "train", func(w *world) { w.b.Momentum = float32(math.NaN()) }, bn.ErrMomentum, []string{"Momentum", "NaN"}, ""},
		badCase{"Momentum -0.1", "train", func(w *world) { w.b.Momentum = -0.1 }, bn.ErrMomentum, []string{"Momentum", "-0.1"}, ""},
		badCase{"Momentum 1.1", "train", func(w *world) { w.b.Momentum = 1.1 }, bn.ErrMomentum, []string{"Momentum", "1.1"}, ""},
		badCase{"Momentum +Inf", "train", func(w *world) { w.b.Momentum = float32(math.Inf(1)) }, bn.ErrMomentum, []string{"Momentum", "+Inf"}, ""},
		badCase{"st.Mean overlaps st.Var", "train", func(w *world) { w.st.Mean, w.st.Var = w.overlapBuf(3, 1) }, bn.ErrOverlap, []string{"st.Mean", "st.Var"}, ""},
		badCase{"st.Mean overlaps RunningMean", "train", func(w *world) {
			w.b.RunningMean, w.st.Mean = w.overlapBuf(3, 1)
			copy(w.b.RunningMean, []float32{0.5, 0.25, -1})
		}, bn.ErrOverlap, []string{"st.Mean", "RunningMean"}, ""},
		badCase{"st.InvStd overlaps RunningVar", "train", func(w *world) {
			w.st.InvStd, w.b.RunningVar = w.overlapBuf(3, 2)
			copy(w.b.RunningVar, []float32{1, 2, 3})
		}, bn.ErrOverlap, []string{"st.InvStd", "RunningVar"}, ""},
		badCase{"y overlaps st.Var", "train", func(w *world) { w.y, w.st.Var = w.overlapBuf2(12, 3, 10) }, bn.ErrOverlap, []string{"y", "st.Var"}, ""},
		badCase{"st.InvStd overlaps x", "train", func(w *world) {
			w.x, w.st.InvStd = w.overlapBuf2(12, 3, 11)
			copy(w.x, normals(newRand(11), 12, 0))
		}, bn.ErrOverlap, []string{"st.InvStd", "x"}, ""},
		badCase{"RunningMean nil", "infer", func(w *world) { w.b.RunningMean = nil }, bn.ErrNoRunningStats, []string{"RunningMean"}, ""},
		badCase{"RunningVar nil", "infer", func(w *world) { w.b.RunningVar = nil }, bn.ErrNoRunningStats, []string{"RunningVar"}, ""},
		badCase{"y overlaps RunningVar", "infer", func(w *world) {
			w.y, w.b.RunningVar = w.overlapBuf2(12, 3, 9)
			copy(w.b.RunningVar, []float32{1, 2, 3})
		}, bn.ErrOverlap, []string{"y", "RunningVar"}, ""},
		badCase{"len(dy) 11", "backward", func(w *world) { w.dy = w.dy[:11] }, bn.ErrLength, []string{"dy", "11", "12"}, ""},
		badCase{"len(dx) 13", "backward", func(w *world) { w.dx = append(w.dx, 0) }, bn.ErrLength, []string{"dx", "13", "12"}, ""},
		badCase{"dgamma len 2", "backward", func(w *world) { w.dgamma = w.dgamma[:2] }, bn.ErrLength, []string{"dgamma", "2", "3"}, ""},
		badCase{"dbeta len 4", "backward", func(w *world) { w.dbeta = append(w.dbeta, 0) }, bn.ErrLength, []string{"dbeta", "4", "3"}, ""},
		badCase{"st.Mean len 2", "backward", func(w *world) { w.st.Mean = w.st.Mean[:2] }, bn.ErrLength, []string{"st.Mean", "2", "3"}, ""},
		badCase{"st.InvStd len 4", "backward", func(w *world) { w.st.InvStd = append(w.st.InvStd, 1) }, bn.ErrLength, []string{"st.InvStd", "4", "3"}, ""},
		badCase{"st nil", "backward", func(w *world) { w.st = nil }, bn.ErrStats, nil, ""},
		badCase{"st.Mean nil", "backward", func(w *world) { w.st.Mean = nil }, bn.ErrStats, []string{"st.Mean"}, ""},
		badCase{"st.InvStd nil", "backward", func(w *world) { w.st.InvStd = nil }, bn.ErrStats, []string{"st.InvStd"}, ""},
		badCase{"M = 1", "backward", func(w *world) { w.s.N, w.s.S, w.x, w.dx, w.dy = 1, 1, w.x[:3], w.dx[:3], w.dy[:3] }, bn.ErrTooFewValues, []string{"1"}, ""},
		badCase{"dx overlaps dy", "backward", func(w *world) {
			w.dy, w.dx = w.overlapBuf(12, 3)
			copy(w.dy, normals(newRand(12), 12, 0))
		}, bn.ErrOverlap, []string{"dx", "dy"}, ""},
		badCase{"x overlaps dx", "backward", func(w *world) {
			w.dx, w.x = w.overlapBuf(12, 1)
			copy(w.x, normals(newRand(13), 12, 0))
		}, bn.ErrOverlap, []string{"dx", "x"}, ""},
		badCase{"dgamma overlaps dbeta", "backward", func(w *world) { w.dgamma, w.dbeta = w.overlapBuf(3, 1) }, bn.ErrOverlap, []string{"dgamma", "dbeta"}, ""},
		badCase{"dgamma overlaps st.Mean", "backward", func(w *world) {
			w.st.Mean, w.dgamma = w.overlapBuf(3, 2)
			copy(w.st.Mean, []float32{0.1, 0.2, 0.3})
		}, bn.ErrOverlap, []string{"dgamma", "st.Mean"}, ""},
		badCase{"dx overlaps Gamma", "backward", func(w *world) {
			w.dx, w.b.Gamma = w.overlapBuf2(12, 3, 10)
			copy(w.b.Gamma, []float32{1, 2, 3})
		}, bn.ErrOverlap, []string{"dx", "Gamma"}, ""},
	)
	return cs
}

// prepStats gives the world valid saved statistics for backward.
func prepStats(t *testing.T, w *world) {
	st := &bn.Stats{Mean: make([]float32, 3), Var: make([]float32, 3), InvStd: make([]float32, 3)}
	b := *w.b
	b.RunningMean, b.RunningVar = nil, nil
	if err := b.Train(make([]float32, 12), w.x, w.s, st); err != nil {
		t.Fatal(err)
	}
	w.st = st
}

func TestBadInput(t *testing.T) {
	forImpls(t, func(t *testing.T) {
		for i, bc := range badCases() {
			w := newWorld(newRand(uint64(100 + i)))
			if bc.op == "backward" {
				prepStats(t, w)
			}
			bc.prep(w)
			before := w.snapshot()
			var err error
			switch bc.op {
			case "train":
				err = w.train()
			case "infer":
				err = w.infer()
			case "backward":
				err = w.backward()
			}
			label := fmt.Sprintf("%s: %s", bc.op, bc.name)
			if err == nil {
				t.Errorf("%s: no error, want %v", label, bc.want)
				continue
			}
			if !errors.Is(err, bc.want) {
				t.Errorf("%s: error %q does not wrap %q", label, err, bc.want)
			}
			msg := err.Error()
			if bc.exact != "" && msg != bc.exact {
				t.Errorf("%s: error text %q, want %q", label, msg, bc.exact)
			}
			if !strings.HasPrefix(msg, "bn: ") {
				t.Errorf("%s: error text %q does not start with \"bn: \"", label, msg)
			}
			for _, word := range bc.words {
				if !hasWord(msg, word) {
					t.Errorf("%s: error text %q does not name %q", label, msg, word)
				}
			}
			after := w.snapshot()
			for k := range before {
				for j := range before[k] {
					if before[k][j] != after[k][j] {
						t.Errorf("%s: error %q, but slice %d changed at %d: %#08x -> %#08x", label, msg, k, j, before[k][j], after[k][j])
						break
					}
				}
			}
		}
	})
}

func TestUseUnknown(t *testing.T) {
	before := bn.Impl()
	for _, name := range []string{"nope", "", "GENERIC", "avx1024"} {
		restore, err := bn.Use(name)
		if err == nil {
			restore()
			t.Errorf("Use(%q): no error", name)
			continue
		}
		if !errors.Is(err, bn.ErrImpl) {
			t.Errorf("Use(%q): error %q does not wrap ErrImpl", name, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("Use(%q): error %q does not name %q", name, err, name)
		}
		if restore != nil {
			t.Errorf("Use(%q) failed but returned a restore func", name)
		}
		if got := bn.Impl(); got != before {
			t.Errorf("after failing Use(%q), Impl() = %q, want %q", name, got, before)
		}
	}
}

func TestInferZeroSize(t *testing.T) {
	forImpls(t, func(t *testing.T) {
		for _, s := range []bn.Shape{{N: 0, C: 3, S: 4}, {N: 2, C: 3, S: 0}, {N: 2, C: 0, S: 4}, {N: 0, C: 3, S: 4, Layout: bn.ChannelsLast}, {N: 0, C: 0, S: 0, Layout: bn.ChannelsLast}} {
			b := bn.New(s.C)
			b.RunningMean = normals(newRand(14), s.C, 0)
			buf := filled(16)
			gamma := clone(b.Gamma)
			rm, rv := clone(b.RunningMean), clone(b.RunningVar)
			if err := b.Infer(buf[:0], make([]float32, 0), s); err != nil {
				t.Errorf("Infer on %+v: %v, want no error", s, err)
			}
			if err := b.Infer(nil, nil, s); err != nil {
				t.Errorf("Infer(nil, nil) on %+v: %v, want no error", s, err)
			}
			expectSameBits(t, fmt.Sprintf("%+v: buffer behind y", s), buf, filled(16))
			expectSameBits(t, fmt.Sprintf("%+v: Gamma", s), b.Gamma, gamma)
			expectSameBits(t, fmt.Sprintf("%+v: RunningMean", s), b.RunningMean, rm)
			expectSameBits(t, fmt.Sprintf("%+v: RunningVar", s), b.RunningVar, rv)
		}
	})
}

// TestReference checks the reference itself on numbers worked by hand, so
// that the other tests do not lean on a wrong reference.
func TestReference(t *testing.T) {
	// One channel 1, 2, 3, 4 and one channel 10, 10, 10, 14 in NCS with N=2, S=2.
	s := bn.Shape{N: 2, C: 2, S: 2}
	x := []float32{1, 2, 10, 10, 3, 4, 10, 14}
	tc := &tcase{s: s, x: x, dy: []float32{1, 0, 0, 0, 0, 0, 0, 1}, gamma: []float32{2, 1}, beta: []float32{0.5, 0},
		rm: []float32{0, 1}, rv: []float32{1, 1}, eps: 0, mom: 0.5}
	r := refTrainOf(tc)
	near := func(what string, got, want float64) {
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("reference %s = %v, want %v", what, got, want)
		}
	}
	near("mean[0]", r.mean[0], 2.5)
	near("var[0]", r.vr[0], 1.25)
	near("mean[1]", r.mean[1], 11)
	near("var[1]", r.vr[1], 3)
	near("invstd[0]", r.invstd[0], 1/math.Sqrt(1.25))
	near("y[0]", r.y[0], (1-2.5)/math.Sqrt(1.25)*2+0.5)
	near("y[7]", r.y[7], 3/math.Sqrt(3))
	near("runningMean[1]", r.rmean[1], 0.5+0.5*11)
	near("runningVar[0]", r.rvar[0], 0.5+0.5*1.25*4/3)
	g := refBackwardOf(tc, r.mean, r.invstd)
	near("dbeta[0]", g.dbeta[0], 1)
	near("dgamma[0]", g.dgamma[0], (1-2.5)/math.Sqrt(1.25))
	xh := (1 - 2.5) / math.Sqrt(1.25)
	near("dx[0]", g.dx[0], 2/math.Sqrt(1.25)/4*(4*1-1-xh*xh))
	// The checker: bounds, and non-finite refs matched by kind only.
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		got      float32
		ref, bnd float64
		ok       bool
	}{
		{1, 1, 0, true}, {1.5, 1, 0.4, false}, {1.5, 1, 0.5, true}, {float32(nan), 1, 10, false},
		{float32(nan), nan, 0, true}, {1, nan, 1e9, false}, {float32(inf), inf, 0, true}, {float32(-inf), inf, 0, false},
		{float32(inf), nan, 0, false}, {float32(-inf), -inf, 0, true}, {float32(inf), 3e38, 1e30, false},
		{0, 1e-60, 1e-65, true}, {0, 2e-45, 0, false}, {1e-45, 2e-45, 0, true},
		{float32(inf), 3.5e38, 1, true}, {math.MaxFloat32, 3.5e38, 1e38, false}, {float32(-inf), -1e76, 0, true},
	} {
		if within(c.got, c.ref, c.bnd) != c.ok {
			t.Errorf("within(%v, %v, %v) = %v", c.got, c.ref, c.bnd, !c.ok)
		}
	}
}
