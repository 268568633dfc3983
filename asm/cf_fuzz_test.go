package asm_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/simdbn/simdbn/fallback"
)

// fuzzFloats turns data into n float32: raw bit patterns (any NaN, Inf,
// denormal) when raw is set, else small values around offset; data is
// repeated as needed.
func fuzzFloats(data []byte, n int, raw bool, offset float32) []float32 {
	x := make([]float32, n)
	if len(data) == 0 {
		data = []byte{1, 2, 3, 4, 5, 6, 7}
	}
	var buf [4]byte
	for i := range x {
		for k := range buf {
			buf[k] = data[(4*i+k)%len(data)]
		}
		b := binary.LittleEndian.Uint32(buf[:]) ^ uint32(i)*0x9e3779b9
		if raw {
			x[i] = math.Float32frombits(b)
		} else {
			x[i] = offset + float32(int32(b))/float32(1<<28)
		}
	}
	return x
}

// The fuzz targets compare bits exactly, except that a NaN result only has
// to be a NaN: when both operands of an addition or product are NaNs with
// different payloads, x86 returns the first source operand, and which
// operand the Go compiler makes the first source of a commutative
// operation in fallback changes with the build (it differs under -fuzz
// coverage instrumentation). TestReductionsCF and TestElementwiseCF check
// the payloads too, with several different NaNs, in the normal build.
func sameFuzz64(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Fatalf("%s: acc[%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
}

func sameFuzz32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			t.Fatalf("%s: [%d] = %v (%#x), want %v (%#x)", what, i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
}

func FuzzStatsCF(f *testing.F) {
	f.Add(uint8(1), uint16(1), uint8(0), uint8(1), uint8(0), false, float32(0), []byte{0})
	f.Add(uint8(3), uint16(33), uint8(5), uint8(2), uint8(3), true, float32(1), []byte{0x7f, 0xc0, 0, 0, 0xff, 0x80, 0, 0})
	f.Add(uint8(2), uint16(1025), uint8(1), uint8(1), uint8(15), false, float32(1e6), []byte("offset data"))
	f.Add(uint8(5), uint16(200), uint8(0), uint8(3), uint8(7), true, float32(-2), []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0x80, 0x7f})
	f.Add(uint8(2), uint16(48), uint8(100), uint8(14), uint8(3), false, float32(1e4), []byte("four channels"))
	f.Fuzz(func(t *testing.T, nr uint8, rl uint16, gap, grp, mis uint8, raw bool, pivot float32, data []byte) {
		ims := availableImpls(t)
		nruns, runLen := 1+int(nr%6), 1+int(rl%2200)
		stride, group, m := runLen+int(gap%40), 1+int(grp%4), int(mis%16)
		n := (nruns-1)*stride + runLen
		all := fuzzFloats(data, n+m, raw, pivot)
		x := all[m:]
		dy := fuzzFloats(append([]byte{9}, data...), n, raw, 0)
		want := make([]float64, 2*fallback.Lanes)
		fallback.StatsCF(want, x, nruns, runLen, stride, group, pivot)
		wantB := make([]float64, 3*fallback.Lanes)
		fallback.BackwardCF(wantB, dy, x, nruns, runLen, stride, group, pivot)
		for _, im := range ims {
			got := make([]float64, 2*fallback.Lanes)
			im.StatsCF(got, x, nruns, runLen, stride, group, pivot)
			sameFuzz64(t, im.Name+" StatsCF", got, want)
			gotB := make([]float64, 3*fallback.Lanes)
			im.BackwardCF(gotB, dy, x, nruns, runLen, stride, group, pivot)
			sameFuzz64(t, im.Name+" BackwardCF", gotB, wantB)
		}
		// The Pair form of BackwardCF, on the geometry it takes: runs of
		// whole vectors of 16 (runLen rounded down), two of them stride
		// rounded up apart.
		if pn, pair := runLen&^15, (stride+15)&^15; pn > 0 && pair+pn <= len(x) {
			wantP := make([]float64, 6*fallback.Lanes)
			fallback.BackwardCFPair(wantP, dy, x, pn, pair, pivot)
			for _, im := range ims {
				gotP := make([]float64, 6*fallback.Lanes)
				im.BackwardCFPair(gotP, dy, x, pn, pair, pivot)
				sameFuzz64(t, im.Name+" BackwardCFPair", gotP, wantP)
			}
		}
		// The multi-channel forms: 1 to 4 channels runLen apart (they may
		// overlap the next sample's runs; the kernels only read).
		nch := 1 + int(grp/4)%4
		nc := n + (nch-1)*runLen
		x = fuzzFloats(data, nc+m, raw, pivot)[m:]
		dy = fuzzFloats(append([]byte{9}, data...), nc, raw, 0)
		piv := make([]float32, nch)
		for j := range piv {
			piv[j] = pivot + float32(j)
		}
		wantC, wantD := make([]float64, 2*nch), make([]float64, 3*nch)
		fallback.StatsCFChans(wantC, make([]float64, 2*fallback.Lanes), x, nch, runLen, nruns, runLen, stride, group, piv)
		fallback.BackwardCFChans(wantD, make([]float64, 3*fallback.Lanes), dy, x, nch, runLen, nruns, runLen, stride, group, piv)
		for _, im := range ims {
			gotC, gotD := make([]float64, 2*nch), make([]float64, 3*nch)
			im.StatsCFChans(gotC, make([]float64, 2*fallback.Lanes), x, nch, runLen, nruns, runLen, stride, group, piv)
			sameFuzz64(t, im.Name+" StatsCFChans", gotC, wantC)
			im.BackwardCFChans(gotD, make([]float64, 3*fallback.Lanes), dy, x, nch, runLen, nruns, runLen, stride, group, piv)
			sameFuzz64(t, im.Name+" BackwardCFChans", gotD, wantD)
		}
		// The Carry forms, given the runs blk at a time, must end with the
		// same sums (runs of at most FlushCF values only).
		if runLen > fallback.FlushCF {
			return
		}
		blk := 1 + int(gap/40)%nruns
		for _, im := range ims {
			gotC, gotD := make([]float64, 2*nch), make([]float64, 3*nch)
			acc2, part2 := make([]float64, 2*fallback.Lanes*nch), make([]float32, 2*fallback.Lanes*nch)
			acc3, part3 := make([]float64, 3*fallback.Lanes*nch), make([]float32, 3*fallback.Lanes*nch)
			for r := 0; r < nruns; r += blk {
				nb, end := min(blk, nruns-r), 0
				if r+nb == nruns {
					end = 1
				}
				im.StatsCFCarry(gotC, acc2, part2, x[r*stride:], nch, runLen, nb, runLen, stride, group, r%group, end, piv)
				im.BackwardCFCarry(gotD, acc3, part3, dy[r*stride:], x[r*stride:], nch, runLen, nb, runLen, stride, group, r%group, end, piv)
			}
			sameFuzz64(t, im.Name+" StatsCFCarry", gotC, wantC)
			sameFuzz64(t, im.Name+" BackwardCFCarry", gotD, wantD)
		}
	})
}

func FuzzApplyCF(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint16(1), uint8(0), uint8(0), false, []byte{0})
	f.Add(uint8(2), uint8(3), uint16(49), uint8(3), uint8(5), true, []byte{0x7f, 0xc0, 0, 0, 0xff, 0x80, 0, 0})
	f.Add(uint8(0), uint8(2), uint16(10), uint8(0), uint8(1), false, []byte("x"))
	f.Add(uint8(3), uint8(1), uint16(1000), uint8(9), uint8(15), false, []byte("some bytes"))
	f.Add(uint8(2), uint8(4), uint16(20), uint8(7), uint8(2), false, []byte("short runs, walked by sample"))
	f.Fuzz(func(t *testing.T, nn, cc uint8, ss uint16, gap, mis uint8, raw bool, data []byte) {
		ims := availableImpls(t)
		n, c, s := int(nn%4), int(cc%5), int(ss%1100)
		stride, m := c*s+int(gap%20), int(mis%16)
		size := 0
		if n > 0 {
			size = (n-1)*stride + c*s
		}
		x := fuzzFloats(data, size+m, raw, 3)[m:]
		dy := fuzzFloats(append([]byte{7}, data...), size, raw, 0)
		p := fuzzFloats(append([]byte{3, 1}, data...), c*fallback.ParamStrideCF, raw, 1)
		for _, im := range ims {
			for mode := 0; mode < 3; mode++ {
				want := fuzzFloats([]byte{5}, size, false, 0)
				got := append([]float32(nil), want...)
				wx, gx := x, x
				wdy, gdy := dy, dy
				if mode > 0 { // in place: y is x / dx is dy or x
					want, got = append([]float32(nil), x...), append([]float32(nil), x...)
					wx, gx = want, got
				}
				fallback.ApplyCF(want, wx, n, c, s, stride, p)
				im.ApplyCF(got, gx, n, c, s, stride, p)
				sameFuzz32(t, im.Name+" ApplyCF", got, want)

				want = fuzzFloats([]byte{6}, size, false, 0)
				got = append([]float32(nil), want...)
				wx, gx = x, x
				switch mode {
				case 1:
					want, got = append([]float32(nil), dy...), append([]float32(nil), dy...)
					wdy, gdy = want, got
				case 2:
					want, got = append([]float32(nil), x...), append([]float32(nil), x...)
					wx, gx = want, got
				}
				fallback.BackwardApplyCF(want, wdy, wx, n, c, s, stride, p)
				im.BackwardApplyCF(got, gdy, gx, n, c, s, stride, p)
				sameFuzz32(t, im.Name+" BackwardApplyCF", got, want)
				wdy, gdy = dy, dy
			}
			// The NT forms, out of place, the output at a start of its
			// own (short runs take their sample-by-sample walk).
			ym := int(gap % 16)
			want := fuzzFloats([]byte{8}, size, false, 0)
			got := append(make([]float32, ym, ym+size), want...)[ym:]
			fallback.ApplyCF(want, x, n, c, s, stride, p)
			im.ApplyCFNT(got, x, n, c, s, stride, p)
			sameFuzz32(t, im.Name+" ApplyCFNT", got, want)
			fallback.BackwardApplyCF(want, dy, x, n, c, s, stride, p)
			im.BackwardApplyCFNT(got, dy, x, n, c, s, stride, p)
			sameFuzz32(t, im.Name+" BackwardApplyCFNT", got, want)

			// The Pair forms, on the geometry they take: runs, strides and
			// the distance between the blocks in whole lines, the output
			// aligned.
			if n == 0 || c == 0 {
				continue
			}
			ps := (s/16 + 1) * 16
			pstr := c*ps + 16*int(gap%3)
			pair := n*pstr + 16*int(mis%3)
			psize := pair + (n-1)*pstr + c*ps
			px := fuzzFloats(data, psize, raw, 3)
			pdy := fuzzFloats(append([]byte{9}, data...), psize, raw, 0)
			want = fuzzFloats([]byte{10}, psize, false, 0)
			got = alignedF32(psize)
			copy(got, want)
			fallback.ApplyCFPair(want, px, n, c, ps, pstr, pair, p)
			im.ApplyCFNTPair(got, px, n, c, ps, pstr, pair, p)
			sameFuzz32(t, im.Name+" ApplyCFNTPair", got, want)
			fallback.BackwardApplyCFPair(want, pdy, px, n, c, ps, pstr, pair, p)
			im.BackwardApplyCFNTPair(got, pdy, px, n, c, ps, pstr, pair, p)
			sameFuzz32(t, im.Name+" BackwardApplyCFNTPair", got, want)
			// The Quad form: four blocks pair values apart.
			qsize := 3*pair + (n-1)*pstr + c*ps
			qx := fuzzFloats(data, qsize, raw, 3)
			want = fuzzFloats([]byte{11}, qsize, false, 0)
			got = alignedF32(qsize)
			copy(got, want)
			fallback.ApplyCFQuad(want, qx, n, c, ps, pstr, pair, p)
			im.ApplyCFNTQuad(got, qx, n, c, ps, pstr, pair, p)
			sameFuzz32(t, im.Name+" ApplyCFNTQuad", got, want)
		}
	})
}

// FuzzStatsApplyCF compares every tier's fused statistics-and-normalize
// kernels (non-temporal and ordinary stores), and the Pair form, with fallback on a random length, placement
// and data.
func FuzzStatsApplyCF(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint8(3), false)
	f.Add(uint64(2), uint16(3136), uint8(0), true)
	f.Add(uint64(3), uint16(1025), uint8(15), true)
	f.Add(uint64(4), uint16(2064), uint8(6), false)
	f.Fuzz(func(t *testing.T, seed uint64, n16 uint16, mis8 uint8, special bool) {
		n, mis := int(n16)%5000, int(mis8)%16
		rng := rand.New(rand.NewPCG(seed, 9))
		x, xa := make([]float32, n+mis), make([]float32, n+mis)
		fill(rng, x, 100, special)
		fill(rng, xa, 100, special)
		p := make([]float32, fallback.ParamStrideCF)
		fill(rng, p, 0, false)
		acc0 := randAcc(rng, 2*fallback.Lanes)
		want, wantAcc := make([]float32, n), append([]float64(nil), acc0...)
		fallback.StatsApplyCF(wantAcc, x[mis:], 99.5, want, xa[mis:], p)
		for _, im := range availableImpls(t) {
			y := alignedF32(n)
			gotAcc := append([]float64(nil), acc0...)
			im.StatsApplyCFNT(gotAcc, x[mis:], 99.5, y, xa[mis:], p)
			sameBits64(t, im.Name+" acc", gotAcc, wantAcc)
			sameBits32(t, im.Name+" y", y, want)
			y = make([]float32, n+mis)[mis:]
			gotAcc = append([]float64(nil), acc0...)
			im.StatsApplyCF(gotAcc, x[mis:], 99.5, y, xa[mis:], p)
			sameBits64(t, im.Name+" StatsApplyCF acc", gotAcc, wantAcc)
			sameBits32(t, im.Name+" StatsApplyCF y", y, want)
		}

		// The Pair form, on the geometry it takes: n and pair whole
		// vectors of 16 (the gap between the stretches 0 to 48 values,
		// which must keep its sentinels), y aligned.
		pn := n &^ 15
		pair := pn + 16*(mis%4)
		px, pxa := make([]float32, pair+pn), make([]float32, pair+pn)
		fill(rng, px, 100, special)
		fill(rng, pxa, 100, special)
		acc4 := randAcc(rng, 4*fallback.Lanes)
		pwant, pwantAcc := make([]float32, pair+pn), append([]float64(nil), acc4...)
		for i := range pwant {
			pwant[i] = -3.5
		}
		fallback.StatsApplyCFPair(pwantAcc, px, pn, pair, 99.5, pwant, pxa, p)
		for _, im := range availableImpls(t) {
			y := alignedF32(pair + pn)
			for i := range y {
				y[i] = -3.5
			}
			gotAcc := append([]float64(nil), acc4...)
			im.StatsApplyCFNTPair(gotAcc, px, pn, pair, 99.5, y, pxa, p)
			sameBits64(t, im.Name+" Pair acc", gotAcc, pwantAcc)
			sameBits32(t, im.Name+" Pair y", y, pwant)
		}
	})
}

// FuzzBackwardSumsApplyCF compares every tier's fused Backward sums-and-dx
// kernel with fallback on a random length, placement and data.
func FuzzBackwardSumsApplyCF(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint8(3), false)
	f.Add(uint64(2), uint16(784), uint8(0), true)
	f.Add(uint64(3), uint16(1025), uint8(15), true)
	f.Add(uint64(4), uint16(3136), uint8(6), false)
	f.Fuzz(func(t *testing.T, seed uint64, n16 uint16, mis8 uint8, special bool) {
		n, mis := int(n16)%5000, int(mis8)%16
		rng := rand.New(rand.NewPCG(seed, 10))
		x, dy, xa, dya := make([]float32, n+mis), make([]float32, n+mis), make([]float32, n+mis), make([]float32, n+mis)
		fill(rng, x, 100, special)
		fill(rng, xa, 100, special)
		fill(rng, dy, 0, special)
		fill(rng, dya, 0, special)
		p := make([]float32, fallback.ParamStrideCF)
		fill(rng, p, 0, false)
		acc0 := randAcc(rng, 3*fallback.Lanes)
		want, wantAcc := make([]float32, n), append([]float64(nil), acc0...)
		fallback.BackwardSumsApplyCF(wantAcc, dy[mis:], x[mis:], 99.5, want, dya[mis:], xa[mis:], p)
		for _, im := range availableImpls(t) {
			dx := make([]float32, n+mis)[mis:]
			gotAcc := append([]float64(nil), acc0...)
			im.BackwardSumsApplyCF(gotAcc, dy[mis:], x[mis:], 99.5, dx, dya[mis:], xa[mis:], p)
			sameBits64(t, im.Name+" acc", gotAcc, wantAcc)
			sameBits32(t, im.Name+" dx", dx, want)
		}
	})
}

// alignedF32 returns n float32 starting on a 64-byte boundary, as the NT
// kernels require of their output.
func alignedF32(n int) []float32 {
	b := make([]float32, n+16)
	skip := int((64 - uintptr(unsafe.Pointer(&b[0]))%64) % 64 / 4)
	return b[skip : skip+n]
}
