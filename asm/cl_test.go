package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// clTiers returns the available tiers; it skips when there is none.
func clTiers(t testing.TB) []asm.Impl {
	t.Helper()
	var ims []asm.Impl
	for _, im := range asm.Impls() {
		if !im.Available {
			t.Logf("tier %s not available on this machine", im.Name)
			continue
		}
		if im.StatsCL == nil || im.BackwardCL == nil || im.ApplyCL == nil || im.BackwardApplyCL == nil {
			t.Fatalf("tier %s lacks a channels-last kernel", im.Name)
		}
		ims = append(ims, im)
	}
	if len(ims) == 0 {
		t.Skip("no assembly tier available in this build or on this machine")
	}
	return ims
}

// clShape is one test case of the channels-last kernels.
type clShape struct {
	rows, C int
	gap     int     // values between rows: rows are ld = C + gap apart
	mis     int     // start misalignment of every slice, in elements
	offset  float32 // data offset
	special bool    // NaN and Inf in one channel
}

func (s clShape) String() string {
	return fmt.Sprintf("rows=%d/C=%d/ld=%d/mis=%d/off=%g/special=%v", s.rows, s.C, s.ld(), s.mis, s.offset, s.special)
}

// ld is the row stride, and n the length of a slice of the shape (the
// last row ends the slice).
func (s clShape) ld() int { return s.C + s.gap }
func (s clShape) n() int  { return max(0, (s.rows-1)*s.ld()+s.C) }

const clPad = 16 // sentinel elements before and after every slice

// clBuf returns a slice of n float32 starting mis elements into a fresh
// buffer that has clPad sentinel elements after it, and the whole buffer.
func clBuf(n, mis int) (s, all []float32) {
	all = make([]float32, mis+n+clPad)
	for i := range all {
		all[i] = math.Float32frombits(0x7fbadbad)
	}
	return all[mis : mis+n : mis+n], all
}

// clFill fills x (rows ld apart) with values around offset; with special, channel ch gets
// one NaN and one Inf (random sign). Two different NaNs never meet in a sum
// this way: which of two NaN operands an x86 add returns depends on the
// operand order the Go compiler picks for the fallback, which is not part of
// the documented order (the SIMD kernels keep the accumulator first).
func clFill(rng *rand.Rand, x []float32, C, ld int, offset float32, special bool, ch int) {
	for i := range x {
		x[i] = offset + float32(rng.NormFloat64())*(1+float32(rng.IntN(4)))
	}
	if rows := (len(x) + ld - C) / ld; special && rows > 0 {
		x[rng.IntN(rows)*ld+ch] = float32(math.NaN())
		x[rng.IntN(rows)*ld+ch] = float32(math.Inf(1 - 2*rng.IntN(2)))
	}
}

// clTmp is the scratch of a reduction, full of garbage: a kernel must not
// depend on what it holds.
func clTmp(rng *rand.Rand, nq, C int) []float32 {
	t := make([]float32, fallback.TmpCL(nq, C))
	for i := range t {
		t[i] = float32(rng.NormFloat64()) * 1e6
	}
	return t
}

func clParams(rng *rand.Rand, n int, offset float32) []float32 {
	p := make([]float32, n)
	for i := range p {
		p[i] = offset*float32(i%2) + float32(rng.NormFloat64())
	}
	return p
}

// Bits must match exactly, except that a NaN matches any NaN: when two NaNs
// meet, x86 returns the first operand's, and Go does not fix the operand
// order of its float adds, so the NaN payload is not part of the contract.
func clEq32(t testing.TB, what string, got, want []float32) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: len %d, want %d", what, len(got), len(want))
		return false
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Errorf("%s: [%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			return false
		}
	}
	return true
}

func clEq64(t testing.TB, what string, got, want []float64) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: len %d, want %d", what, len(got), len(want))
		return false
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Errorf("%s: [%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
			return false
		}
	}
	return true
}

// clReduceForm is one form of the channels-last reductions of a tier.
type clReduceForm struct {
	name  string // "", "Prefetch" or "Cached"
	stats func(acc []float64, x []float32, rows, C, ld int, pivot, tmp []float32)
	back  func(acc []float64, dy, x []float32, rows, C, ld int, mean, tmp []float32)
}

// clReduceForms lists the plain reductions of im and their Prefetch and
// Cached forms.
func clReduceForms(im asm.Impl) []clReduceForm {
	return []clReduceForm{
		{"", im.StatsCL, im.BackwardCL},
		{"Prefetch", im.StatsCLPrefetch, im.BackwardCLPrefetch},
		{"Cached", im.StatsCLCached, im.BackwardCLCached},
	}
}

// clCheckReduce runs StatsCL and BackwardCL of im, and their Prefetch and
// Cached forms, against fallback.
func clCheckReduce(t testing.TB, im asm.Impl, s clShape, rng *rand.Rand) bool {
	t.Helper()
	n, ld := s.n(), s.ld()
	x, _ := clBuf(n, s.mis)
	dy, _ := clBuf(n, (s.mis+5)%16)
	ch := rng.IntN(s.C)
	clFill(rng, x, s.C, ld, s.offset, s.special, ch)
	clFill(rng, dy, s.C, ld, 0, s.special && s.C > 1, (ch+1)%s.C)
	cv, _ := clBuf(s.C, (s.mis+3)%16)
	for c := range cv {
		cv[c] = s.offset + float32(rng.NormFloat64())
	}
	if s.special && s.C > 1 {
		// Keep x - mean away from 0 where dy has its Inf (Inf*0 is NaN too).
		c := (ch + 1) % s.C
		for r := range s.rows {
			x[r*ld+c] = cv[c] + 1 + float32(math.Abs(rng.NormFloat64()))
		}
	}
	ok := true
	for _, k := range []int{2, 3} {
		m := k * fallback.Phases * s.C
		init := make([]float64, m+8)
		for i := range init {
			init[i] = rng.NormFloat64() * 10
		}
		want := append([]float64(nil), init...)
		if k == 2 {
			fallback.StatsCL(want[:m], x, s.rows, s.C, ld, cv, make([]float32, fallback.TmpCL(2, s.C)))
		} else {
			fallback.BackwardCL(want[:m], dy, x, s.rows, s.C, ld, cv, make([]float32, fallback.TmpCL(3, s.C)))
		}
		// The plain kernel and its Prefetch and Cached forms give the
		// same bits.
		for _, f := range clReduceForms(im) {
			got := append([]float64(nil), init...)
			if k == 2 {
				f.stats(got[:m:m], x, s.rows, s.C, ld, cv, clTmp(rng, 2, s.C))
				ok = clEq64(t, im.Name+" StatsCL"+f.name+" "+s.String(), got, want) && ok
			} else {
				f.back(got[:m:m], dy, x, s.rows, s.C, ld, cv, clTmp(rng, 3, s.C))
				ok = clEq64(t, im.Name+" BackwardCL"+f.name+" "+s.String(), got, want) && ok
			}
		}
	}
	return ok
}

// clCheckElem runs ApplyCL and BackwardApplyCL of im against fallback,
// out of place and in place. With rows ld > C apart, the values between
// rows must keep their contents.
func clCheckElem(t testing.TB, im asm.Impl, s clShape, rng *rand.Rand) bool {
	t.Helper()
	n, ld := s.n(), s.ld()
	x, _ := clBuf(n, s.mis)
	dy, _ := clBuf(n, (s.mis+7)%16)
	ch := rng.IntN(s.C)
	clFill(rng, x, s.C, ld, s.offset, s.special, ch)
	clFill(rng, dy, s.C, ld, 0, s.special && s.C > 1, (ch+1)%s.C)
	pa, _ := clBuf(4*s.C, (s.mis+1)%16)
	copy(pa, clParams(rng, 4*s.C, s.offset))
	pb, _ := clBuf(5*s.C, (s.mis+2)%16)
	copy(pb, clParams(rng, 5*s.C, s.offset))
	ok := true
	name := im.Name + " " + s.String()

	// ApplyCL, out of place.
	y, yall := clBuf(n, (s.mis+9)%16)
	want := append([]float32(nil), y...) // the values between rows stay
	fallback.ApplyCL(want, x, s.rows, s.C, ld, pa)
	xall := append([]float32(nil), x...)
	im.ApplyCL(y, x, s.rows, s.C, ld, pa)
	ok = clEq32(t, "ApplyCL "+name, y, want) && ok
	ok = clEq32(t, "ApplyCL x unchanged "+name, x, xall) && ok
	ok = clSentinels(t, "ApplyCL y "+name, yall, (s.mis+9)%16, n) && ok
	// In place: y is x.
	xi, xiall := clBuf(n, s.mis)
	copy(xi, x)
	want = append(want[:0], x...)
	fallback.ApplyCL(want, want, s.rows, s.C, ld, pa)
	im.ApplyCL(xi, xi, s.rows, s.C, ld, pa)
	ok = clEq32(t, "ApplyCL in place "+name, xi, want) && ok
	ok = clSentinels(t, "ApplyCL in place "+name, xiall, s.mis, n) && ok

	// BackwardApplyCL, out of place.
	dx, dxall := clBuf(n, (s.mis+11)%16)
	want = append(want[:0], dx...)
	fallback.BackwardApplyCL(want, dy, x, s.rows, s.C, ld, pb)
	im.BackwardApplyCL(dx, dy, x, s.rows, s.C, ld, pb)
	ok = clEq32(t, "BackwardApplyCL "+name, dx, want) && ok
	ok = clSentinels(t, "BackwardApplyCL dx "+name, dxall, (s.mis+11)%16, n) && ok
	// dx is dy.
	g, gall := clBuf(n, (s.mis+7)%16)
	copy(g, dy)
	want = append(want[:0], dy...)
	fallback.BackwardApplyCL(want, want, x, s.rows, s.C, ld, pb)
	im.BackwardApplyCL(g, g, x, s.rows, s.C, ld, pb)
	ok = clEq32(t, "BackwardApplyCL dx=dy "+name, g, want) && ok
	ok = clSentinels(t, "BackwardApplyCL dx=dy "+name, gall, (s.mis+7)%16, n) && ok
	// dx is x.
	copy(xi, x)
	want = append(want[:0], x...)
	fallback.BackwardApplyCL(want, dy, want, s.rows, s.C, ld, pb)
	im.BackwardApplyCL(xi, dy, xi, s.rows, s.C, ld, pb)
	ok = clEq32(t, "BackwardApplyCL dx=x "+name, xi, want) && ok
	ok = clSentinels(t, "BackwardApplyCL dx=x "+name, xiall, s.mis, n) && ok

	// The NT forms (rows walked as two halves in lockstep), on the
	// geometry they take: rows of whole lines, the output aligned.
	if s.C%16 != 0 || ld%16 != 0 || n == 0 {
		return ok
	}
	yn := alignedF32(n + clPad)
	for i := range yn {
		yn[i] = math.Float32frombits(0x7fbadbad)
	}
	want = append(want[:0], yn[:n]...)
	fallback.ApplyCL(want, x, s.rows, s.C, ld, pa)
	im.ApplyCLNT(yn[:n], x, s.rows, s.C, ld, pa)
	ok = clEq32(t, "ApplyCLNT "+name, yn[:n], want) && ok
	ok = clSentinels(t, "ApplyCLNT "+name, yn, 0, n) && ok
	fallback.BackwardApplyCL(want, dy, x, s.rows, s.C, ld, pb)
	im.BackwardApplyCLNT(yn[:n], dy, x, s.rows, s.C, ld, pb)
	ok = clEq32(t, "BackwardApplyCLNT "+name, yn[:n], want) && ok
	ok = clSentinels(t, "BackwardApplyCLNT "+name, yn, 0, n) && ok
	// In place.
	copy(yn, x)
	want = append(want[:0], x...)
	fallback.ApplyCL(want, want, s.rows, s.C, ld, pa)
	im.ApplyCLNT(yn[:n], yn[:n], s.rows, s.C, ld, pa)
	ok = clEq32(t, "ApplyCLNT in place "+name, yn[:n], want) && ok
	copy(yn, dy)
	want = append(want[:0], dy...)
	fallback.BackwardApplyCL(want, want, x, s.rows, s.C, ld, pb)
	im.BackwardApplyCLNT(yn[:n], yn[:n], x, s.rows, s.C, ld, pb)
	ok = clEq32(t, "BackwardApplyCLNT dx=dy "+name, yn[:n], want) && ok
	return ok
}

// clSentinels checks that the buffer around the slice [mis, mis+n) is
// untouched.
func clSentinels(t testing.TB, what string, all []float32, mis, n int) bool {
	t.Helper()
	for i, v := range all {
		if (i < mis || i >= mis+n) && math.Float32bits(v) != 0x7fbadbad {
			t.Errorf("%s: wrote outside the slice at %d (slice [%d, %d))", what, i, mis, mis+n)
			return false
		}
	}
	return true
}

func clRowsList() []int {
	var rs []int
	for r := 1; r <= 40; r++ {
		rs = append(rs, r)
	}
	return append(rs, 127, 128, 129, 300, 1000)
}

func clCList() []int {
	var cs []int
	for c := 1; c <= 70; c++ {
		cs = append(cs, c)
	}
	// Wider C takes every chunk width in turn: 227 = 7+4+2+1 vectors and
	// 3 channels (the Cached backward's chunks), 255 = 8+4+2+1 and 15.
	return append(cs, 100, 227, 255, 257, 1000)
}

// TestCLShapes crosses every C with every row count; the misalignment,
// offset and NaN/Inf channel vary from case to case.
func TestCLShapes(t *testing.T) {
	offsets := []float32{0, 1, 1e3, 1e6, -1e5}
	gaps := []int{0, 0, 1, 0, 3, 16, 0, 7, 0, 64, 0, 2, 0}
	for _, im := range clTiers(t) {
		t.Run(im.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			fails := 0
			i := 0
			for _, C := range clCList() {
				for _, rows := range clRowsList() {
					if rows*C > 300000 && rows != 1000 {
						continue
					}
					i++
					s := clShape{rows: rows, C: C, gap: gaps[i%len(gaps)], mis: i % 16, offset: offsets[i%len(offsets)], special: i%3 == 0}
					if !clCheckReduce(t, im, s, rng) || !clCheckElem(t, im, s, rng) {
						if fails++; fails > 5 {
							t.Fatal("too many failures")
						}
					}
				}
			}
		})
	}
}

// TestCLMisalign tries every start misalignment on a few shapes.
func TestCLMisalign(t *testing.T) {
	shapes := [][2]int{{1, 1}, {5, 3}, {7, 17}, {33, 16}, {130, 31}, {9, 64}, {4, 100}, {131, 257}, {3, 1000}}
	for _, im := range clTiers(t) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, sh := range shapes {
			for mis := 0; mis < 16; mis++ {
				for _, special := range []bool{false, true} {
					s := clShape{rows: sh[0], C: sh[1], gap: mis % 3 * 5, mis: mis, offset: 1e6, special: special}
					if !clCheckReduce(t, im, s, rng) || !clCheckElem(t, im, s, rng) {
						t.FailNow()
					}
				}
			}
		}
	}
}

// TestCLZeroRows checks that rows = 0 touches nothing.
func TestCLZeroRows(t *testing.T) {
	for _, im := range clTiers(t) {
		acc := []float64{1, 2, 3}
		im.StatsCL(acc[:0], nil, 0, 3, 3, []float32{1, 2, 3}, nil)
		im.BackwardCL(acc[:0], nil, nil, 0, 3, 5, []float32{1, 2, 3}, nil)
		im.ApplyCL(nil, nil, 0, 3, 3, make([]float32, 12))
		im.BackwardApplyCL(nil, nil, nil, 0, 3, 4, make([]float32, 15))
		if acc[0] != 1 || acc[1] != 2 || acc[2] != 3 {
			t.Errorf("%s: acc changed", im.Name)
		}
	}
}
