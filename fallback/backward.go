package fallback

// BackwardCF accumulates the backward reductions of a channels-first block
// into acc, with the same runs, lanes and flushes as StatsCF:
//
//	for every value pair (x, dy) of the block
//		d := x - mean           (float32)
//		Sdy[lane] += dy         -> acc[0:Lanes]
//		P[lane] += dy*d         -> acc[Lanes:2*Lanes]   (product rounded first)
//		R[lane] += d            -> acc[2*Lanes:3*Lanes]
//
// dy and x share the run geometry; len(acc) >= 3*Lanes.
func BackwardCF(acc []float64, dy, x []float32, nruns, runLen, stride, group int, mean float32) {
	acc = acc[:3*Lanes]
	var sdy, p, rs [Lanes]float32
	for r := 0; r < nruns; r++ {
		runX := x[r*stride : r*stride+runLen]
		runDy := dy[r*stride : r*stride+runLen]
		for off := 0; off < runLen; off += FlushCF {
			end := min(off+FlushCF, runLen)
			addBackward(&sdy, &p, &rs, runDy[off:end], runX[off:end], mean)
			if end < runLen || (r+1)%group == 0 || r == nruns-1 {
				flushBackward(acc, &sdy, &p, &rs)
			}
		}
	}
}

// BackwardCFPair is BackwardCF on two runs of n values, the first at the
// start of dy and x and the second pair values on; the second's lanes are
// acc[3*Lanes:6*Lanes]:
//
//	BackwardCF(acc[:3*Lanes], dy, x, 1, n, n, 1, mean)
//	BackwardCF(acc[3*Lanes:], dy[pair:], x[pair:], 1, n, n, 1, mean)
//
// The SIMD forms walk the two in lockstep and take whole vectors only: n
// and pair multiples of 16. len(dy), len(x) >= pair+n; len(acc) >=
// 6*Lanes.
func BackwardCFPair(acc []float64, dy, x []float32, n, pair int, mean float32) {
	if n <= 0 {
		return
	}
	BackwardCF(acc[:3*Lanes], dy, x, 1, n, n, 1, mean)
	BackwardCF(acc[3*Lanes:], dy[pair:], x[pair:], 1, n, n, 1, mean)
}

// addBackward feeds one segment (at most FlushCF value pairs) to the
// float32 lanes sdy, p and rs: pair i goes to lane i % Lanes, in
// increasing i.
func addBackward(sdy, p, rs *[Lanes]float32, segDy, segX []float32, mean float32) {
	segDy = segDy[:len(segX)]
	full := len(segX) / Lanes * Lanes
	// Lane-block outer, values inner, as in addStats.
	for l0 := 0; l0 < Lanes; l0 += 4 {
		g0, g1, g2, g3 := sdy[l0], sdy[l0+1], sdy[l0+2], sdy[l0+3]
		p0, p1, p2, p3 := p[l0], p[l0+1], p[l0+2], p[l0+3]
		r0, r1, r2, r3 := rs[l0], rs[l0+1], rs[l0+2], rs[l0+3]
		for i := l0; i < full; i += Lanes {
			vx := (*[4]float32)(segX[i : i+4])
			vg := (*[4]float32)(segDy[i : i+4])
			d0, d1, d2, d3 := vx[0]-mean, vx[1]-mean, vx[2]-mean, vx[3]-mean
			g0, g1, g2, g3 = g0+vg[0], g1+vg[1], g2+vg[2], g3+vg[3]
			p0 += float32(vg[0] * d0)
			p1 += float32(vg[1] * d1)
			p2 += float32(vg[2] * d2)
			p3 += float32(vg[3] * d3)
			r0, r1, r2, r3 = r0+d0, r1+d1, r2+d2, r3+d3
		}
		sdy[l0], sdy[l0+1], sdy[l0+2], sdy[l0+3] = g0, g1, g2, g3
		p[l0], p[l0+1], p[l0+2], p[l0+3] = p0, p1, p2, p3
		rs[l0], rs[l0+1], rs[l0+2], rs[l0+3] = r0, r1, r2, r3
	}
	tailDy := segDy[full:]
	for l, v := range segX[full:] {
		d := v - mean
		g := tailDy[l]
		sdy[l] += g
		p[l] += float32(g * d)
		rs[l] += d
	}
}

// flushBackward adds the float32 lanes sdy, p and rs to acc as float64
// and clears them.
func flushBackward(acc []float64, sdy, p, rs *[Lanes]float32) {
	acc = acc[:3*Lanes]
	for l := range Lanes {
		acc[l] += float64(sdy[l])
		acc[Lanes+l] += float64(p[l])
		acc[2*Lanes+l] += float64(rs[l])
	}
	*sdy, *p, *rs = [Lanes]float32{}, [Lanes]float32{}, [Lanes]float32{}
}

// BackwardCFChans runs BackwardCF for nch channels as StatsCFChans runs
// StatsCF, with mean[j]: out[3*j], out[3*j+1], out[3*j+2] are channel j's
// sum(dy), sum(dy*(x - mean)) and sum(x - mean). acc is scratch of
// 3*Lanes values.
func BackwardCFChans(out, acc []float64, dy, x []float32, nch, chStride, nruns, runLen, stride, group int, mean []float32) {
	a := acc[:3*Lanes]
	for j := range nch {
		clear(a)
		o := j * chStride
		BackwardCF(a, dy[o:], x[o:], nruns, runLen, stride, group, mean[j])
		out[3*j], out[3*j+1], out[3*j+2] = SumLanes(a[:Lanes]), SumLanes(a[Lanes:2*Lanes]), SumLanes(a[2*Lanes:])
	}
}

// BackwardCFCarry is BackwardCFChans given a slab a block of runs at a
// time, as StatsCFCarry is StatsCFChans: channel j's float32 lanes
// (part[j*3*Lanes:]) and float64 lanes (acc[j*3*Lanes:]), Sdy, P and R
// in turn, carry over from one call to the next, with the same flushes,
// and the call that ends the slab writes out[3*j:3*j+3].
// It requires runLen <= FlushCF and 0 <= phase < group.
func BackwardCFCarry(out, acc []float64, part []float32, dy, x []float32, nch, chStride, nruns, runLen, stride, group, phase, end int, mean []float32) {
	for j := range nch {
		a := acc[j*3*Lanes : (j+1)*3*Lanes]
		sdy := (*[Lanes]float32)(part[j*3*Lanes:])
		p := (*[Lanes]float32)(part[j*3*Lanes+Lanes:])
		rs := (*[Lanes]float32)(part[j*3*Lanes+2*Lanes:])
		for r := 0; r < nruns; r++ {
			o := j*chStride + r*stride
			addBackward(sdy, p, rs, dy[o:o+runLen], x[o:o+runLen], mean[j])
			if (phase+r+1)%group == 0 || (end != 0 && r == nruns-1) {
				flushBackward(a, sdy, p, rs)
			}
		}
		if end != 0 {
			out[3*j], out[3*j+1], out[3*j+2] = SumLanes(a[:Lanes]), SumLanes(a[Lanes:2*Lanes]), SumLanes(a[2*Lanes:])
		}
	}
}

// BackwardCL sets acc to the backward reductions of rows channels-last
// rows (ld apart, as in StatsCL), with the phases, flushes and zero start
// of StatsCL:
//
//	d := x[r*ld+c] - mean[c]; g := dy[r*ld+c]
//	Sdy[u][c] += g     -> acc[u*C+c]
//	P[u][c]   += g*d   -> acc[Phases*C+u*C+c]     (product rounded first)
//	R[u][c]   += d     -> acc[2*Phases*C+u*C+c]
//
// with u = r % Phases; len(acc) >= 3*Phases*C, and tmp is scratch of
// TmpCL(3, C) values.
func BackwardCL(acc []float64, dy, x []float32, rows, C, ld int, mean, tmp []float32) {
	if rows <= 0 || C <= 0 {
		return
	}
	clear(acc[:3*Phases*C])
	if C > wideC {
		backwardRows(acc, dy, x, rows, C, ld, mean, tmp)
		return
	}
	accS := acc[:Phases*C]
	accP := acc[Phases*C : 2*Phases*C]
	accR := acc[2*Phases*C : 3*Phases*C]
	x = x[:(rows-1)*ld+C]
	dy = dy[:(rows-1)*ld+C]
	for r0 := 0; r0 < rows; r0 += FlushRowsCL {
		r1 := min(r0+FlushRowsCL, rows)
		// Channel outer, rows inner, as in StatsCL.
		for c := range C {
			m := mean[c]
			var g0, g1, g2, g3, p0, p1, p2, p3, s0, s1, s2, s3 float32
			r := r0
			for ; r+4 <= r1; r += 4 {
				i := r*ld + c
				d0, d1, d2, d3 := x[i]-m, x[i+ld]-m, x[i+2*ld]-m, x[i+3*ld]-m
				w0, w1, w2, w3 := dy[i], dy[i+ld], dy[i+2*ld], dy[i+3*ld]
				g0, g1, g2, g3 = g0+w0, g1+w1, g2+w2, g3+w3
				p0 += float32(w0 * d0)
				p1 += float32(w1 * d1)
				p2 += float32(w2 * d2)
				p3 += float32(w3 * d3)
				s0, s1, s2, s3 = s0+d0, s1+d1, s2+d2, s3+d3
			}
			g := [Phases]float32{g0, g1, g2, g3}
			p := [Phases]float32{p0, p1, p2, p3}
			rs := [Phases]float32{s0, s1, s2, s3}
			// r0 is a multiple of Phases, so the tail's phases are 0, 1, 2.
			for u := 0; r < r1; r, u = r+1, u+1 {
				d := x[r*ld+c] - m
				w := dy[r*ld+c]
				g[u] += w
				p[u] += float32(w * d)
				rs[u] += d
			}
			for u := range Phases {
				accS[u*C+c] += float64(g[u])
				accP[u*C+c] += float64(p[u])
				accR[u*C+c] += float64(rs[u])
			}
		}
	}
}

// backwardRows is BackwardCL for wide rows: the same sums, rows walked in
// memory order.
func backwardRows(acc []float64, dy, x []float32, rows, C, ld int, mean, tmp []float32) {
	buf := tmp[:3*Phases*C]
	clear(buf)
	n := Phases * C
	gs, ps, rs := buf[:n], buf[n:2*n], buf[2*n:]
	m := mean[:C]
	for r0 := 0; r0 < rows; r0 += FlushRowsCL {
		r1 := min(r0+FlushRowsCL, rows)
		for r := r0; r < r1; r++ {
			u := r % Phases
			gu, pu, ru := gs[u*C:(u+1)*C], ps[u*C:(u+1)*C], rs[u*C:(u+1)*C]
			rowX, rowDy := x[r*ld:r*ld+C], dy[r*ld:r*ld+C]
			gu, pu, ru, rowX, rowDy = gu[:len(m)], pu[:len(m)], ru[:len(m)], rowX[:len(m)], rowDy[:len(m)]
			for c, v := range rowX {
				d := v - m[c]
				g := rowDy[c]
				gu[c] += g
				pu[c] += float32(g * d)
				ru[c] += d
			}
		}
		for i := range gs {
			acc[i] += float64(gs[i])
			acc[n+i] += float64(ps[i])
			acc[2*n+i] += float64(rs[i])
		}
		clear(buf)
	}
}
