package fallback

// ApplyCF normalizes a channels-first block: for n samples and c channels
// of s values each, the run of channel j of sample i is
// x[i*stride+j*s : i*stride+j*s+s], and with
// hi, lo, a, b := p[j*ParamStrideCF+0 .. +3]
//
//	y = ((x - hi) - lo)*a + b      (float32, product rounded first)
//
// y may be the very same slice as x.
func ApplyCF(y, x []float32, n, c, s, stride int, p []float32) {
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			off := i*stride + j*s
			q := (*[4]float32)(p[j*ParamStrideCF : j*ParamStrideCF+4])
			hi, lo, a, b := q[0], q[1], q[2], q[3]
			xs := x[off : off+s]
			ys := y[off : off+s]
			ys = ys[:len(xs)]
			for k, v := range xs {
				t := v - hi
				t -= lo
				ys[k] = float32(t*a) + b
			}
		}
	}
}

// ApplyCL normalizes rows channels-last rows of C values, ld apart (ld >=
// C): with the planar parameters hi, lo, a, b = p[c], p[C+c], p[2C+c],
// p[3C+c],
//
//	y[r*ld+c] = ((x[r*ld+c] - hi) - lo)*a + b   (product rounded first)
//
// Values between rows (c >= C) are not touched. y may be the very same
// slice as x.
func ApplyCL(y, x []float32, rows, C, ld int, p []float32) {
	hi, lo, a, b := p[:C], p[C:2*C], p[2*C:3*C], p[3*C:4*C]
	for r := 0; r < rows; r++ {
		xs := x[r*ld : r*ld+C]
		ys := y[r*ld : r*ld+C]
		ys, hi, lo, a, b = ys[:len(xs)], hi[:len(xs)], lo[:len(xs)], a[:len(xs)], b[:len(xs)]
		for k, v := range xs {
			t := v - hi[k]
			t -= lo[k]
			ys[k] = float32(t*a[k]) + b[k]
		}
	}
}

// BackwardApplyCF computes dx of a channels-first block with the geometry
// of ApplyCF: with hi, lo, k2, k3, k1 := p[j*ParamStrideCF+0 .. +4],
//
//	t  = ((x - hi) - lo)*k3        (product rounded)
//	dx = (dy*k1 - k2) - t          (product rounded)
//
// (dy is scaled first, so that dx overflows float32 only where its value
// does.)
//
// dx may be the very same slice as dy or x.
func BackwardApplyCF(dx, dy, x []float32, n, c, s, stride int, p []float32) {
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			off := i*stride + j*s
			q := (*[5]float32)(p[j*ParamStrideCF : j*ParamStrideCF+5])
			hi, lo, k2, k3, k1 := q[0], q[1], q[2], q[3], q[4]
			xs := x[off : off+s]
			gs := dy[off : off+s]
			ds := dx[off : off+s]
			gs, ds = gs[:len(xs)], ds[:len(xs)]
			for k, v := range xs {
				t := v - hi
				t -= lo
				t = float32(t * k3)
				u := float32(gs[k]*k1) - k2
				ds[k] = u - t
			}
		}
	}
}

// BackwardApplyCL computes dx of rows channels-last rows, ld apart as in
// ApplyCL: with the planar parameters hi, lo, k2, k3, k1 = p[c], p[C+c],
// p[2C+c], p[3C+c], p[4C+c], the formula of BackwardApplyCF.
func BackwardApplyCL(dx, dy, x []float32, rows, C, ld int, p []float32) {
	hi, lo, k2, k3, k1 := p[:C], p[C:2*C], p[2*C:3*C], p[3*C:4*C], p[4*C:5*C]
	for r := 0; r < rows; r++ {
		xs := x[r*ld : r*ld+C]
		gs := dy[r*ld : r*ld+C]
		ds := dx[r*ld : r*ld+C]
		n := len(xs)
		gs, ds, hi, lo, k2, k3, k1 = gs[:n], ds[:n], hi[:n], lo[:n], k2[:n], k3[:n], k1[:n]
		for k, v := range xs {
			t := v - hi[k]
			t -= lo[k]
			t = float32(t * k3[k])
			u := float32(gs[k]*k1[k]) - k2[k]
			ds[k] = u - t
		}
	}
}

// StatsApplyCF is StatsCF over one run, x, and ApplyCF over another of the
// same length, xa into y, with the parameters p[0:4] of one channel:
//
//	StatsCF(acc, x, 1, len(x), len(x), 1, pivot)
//	ApplyCF(y[:len(x)], xa[:len(x)], 1, 1, len(x), len(x), p)
//
// The SIMD forms run both in one loop (the statistics of one channel group
// while the previous group is normalized), so y must not overlap x; it may
// be the very same slice as xa. len(y), len(xa) >= len(x); len(acc) >=
// 2*Lanes; len(p) >= 4.
func StatsApplyCF(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32) {
	n := len(x)
	if n == 0 {
		return
	}
	StatsCF(acc, x, 1, n, n, 1, pivot)
	ApplyCF(y[:n], xa[:n], 1, 1, n, n, p)
}

// BackwardSumsApplyCF is BackwardCF over one run, dy and x, and
// BackwardApplyCF over another of the same length, dya and xa into dx,
// with the parameters p[0:5] of one channel:
//
//	BackwardCF(acc, dy[:len(x)], x, 1, len(x), len(x), 1, mean)
//	BackwardApplyCF(dx[:len(x)], dya[:len(x)], xa[:len(x)], 1, 1, len(x), len(x), p)
//
// The SIMD forms run both in one loop (the sums of one channel group while
// the previous group's dx is written), so dx must not overlap dy or x; it
// may be the very same slice as dya or xa. len(dy), len(dx), len(dya),
// len(xa) >= len(x); len(acc) >= 3*Lanes; len(p) >= 5.
func BackwardSumsApplyCF(acc []float64, dy, x []float32, mean float32, dx, dya, xa []float32, p []float32) {
	n := len(x)
	if n == 0 {
		return
	}
	BackwardCF(acc, dy[:n], x, 1, n, n, 1, mean)
	BackwardApplyCF(dx[:n], dya[:n], xa[:n], 1, 1, n, n, p)
}

// StatsApplyCFPair is StatsApplyCF on two stretches of n values, the
// first at the start of x, y and xa and the second pair values on; the
// second's lanes are acc[2*Lanes:4*Lanes]:
//
//	StatsApplyCF(acc[:2*Lanes], x[:n], pivot, y, xa, p)
//	StatsApplyCF(acc[2*Lanes:], x[pair:pair+n], pivot, y[pair:], xa[pair:], p)
//
// The SIMD forms walk the two in lockstep and take whole vectors only: n
// and pair multiples of 16, y on a 64-byte boundary. len(x), len(y),
// len(xa) >= pair+n; len(acc) >= 4*Lanes; y must not overlap x.
func StatsApplyCFPair(acc []float64, x []float32, n, pair int, pivot float32, y, xa []float32, p []float32) {
	if n <= 0 {
		return
	}
	StatsApplyCF(acc[:2*Lanes], x[:n], pivot, y, xa, p)
	StatsApplyCF(acc[2*Lanes:], x[pair:pair+n], pivot, y[pair:], xa[pair:], p)
}

// ApplyCFPair is ApplyCF over two blocks of the same geometry: the block
// at the start of y and x, then the block pair values on. The SIMD forms
// walk the two in lockstep (two streams through memory instead of one);
// each value gets the same operations either way.
func ApplyCFPair(y, x []float32, n, c, s, stride, pair int, p []float32) {
	ApplyCF(y, x, n, c, s, stride, p)
	ApplyCF(y[pair:], x[pair:], n, c, s, stride, p)
}

// ApplyCFQuad is ApplyCF over four blocks of the same geometry, pair
// values apart, as ApplyCFPair.
func ApplyCFQuad(y, x []float32, n, c, s, stride, pair int, p []float32) {
	for k := range 4 {
		ApplyCF(y[k*pair:], x[k*pair:], n, c, s, stride, p)
	}
}

// BackwardApplyCFPair is BackwardApplyCF over two blocks, as ApplyCFPair.
func BackwardApplyCFPair(dx, dy, x []float32, n, c, s, stride, pair int, p []float32) {
	BackwardApplyCF(dx, dy, x, n, c, s, stride, p)
	BackwardApplyCF(dx[pair:], dy[pair:], x[pair:], n, c, s, stride, p)
}
