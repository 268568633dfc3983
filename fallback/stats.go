package fallback

// StatsCF accumulates the shifted sums of a channels-first block into acc:
//
//	for every value v of the block (order: see the package doc)
//		d := v - pivot          (float32)
//		S[lane] += d            (float32)
//		Q[lane] += d*d          (float32, product rounded first)
//	flushing S into acc[0:Lanes] and Q into acc[Lanes:2*Lanes] (float64).
//
// Run r is x[r*stride : r*stride+runLen]; len(acc) >= 2*Lanes; nruns,
// runLen, group >= 1.
func StatsCF(acc []float64, x []float32, nruns, runLen, stride, group int, pivot float32) {
	acc = acc[:2*Lanes]
	var s, q [Lanes]float32
	for r := 0; r < nruns; r++ {
		run := x[r*stride : r*stride+runLen]
		for off := 0; off < runLen; off += FlushCF {
			end := min(off+FlushCF, runLen)
			addStats(&s, &q, run[off:end], pivot)
			if end < runLen || (r+1)%group == 0 || r == nruns-1 {
				flushStats(acc, &s, &q)
			}
		}
	}
}

// addStats feeds one segment (at most FlushCF values) to the float32
// lanes s and q: value i goes to lane i % Lanes, in increasing i.
func addStats(s, q *[Lanes]float32, seg []float32, pivot float32) {
	full := len(seg) / Lanes * Lanes
	// Lane-block outer, values inner: the same per-lane order, with four
	// lanes' sums kept in registers.
	for l0 := 0; l0 < Lanes; l0 += 4 {
		s0, s1, s2, s3 := s[l0], s[l0+1], s[l0+2], s[l0+3]
		q0, q1, q2, q3 := q[l0], q[l0+1], q[l0+2], q[l0+3]
		for i := l0; i < full; i += Lanes {
			v := (*[4]float32)(seg[i : i+4])
			d0, d1, d2, d3 := v[0]-pivot, v[1]-pivot, v[2]-pivot, v[3]-pivot
			s0, s1, s2, s3 = s0+d0, s1+d1, s2+d2, s3+d3
			q0 += float32(d0 * d0)
			q1 += float32(d1 * d1)
			q2 += float32(d2 * d2)
			q3 += float32(d3 * d3)
		}
		s[l0], s[l0+1], s[l0+2], s[l0+3] = s0, s1, s2, s3
		q[l0], q[l0+1], q[l0+2], q[l0+3] = q0, q1, q2, q3
	}
	for l, v := range seg[full:] {
		d := v - pivot
		s[l] += d
		q[l] += float32(d * d)
	}
}

// flushStats adds the float32 lanes s and q to acc (S then Q) as float64
// and clears them.
func flushStats(acc []float64, s, q *[Lanes]float32) {
	acc = acc[:2*Lanes]
	for l := range Lanes {
		acc[l] += float64(s[l])
		acc[Lanes+l] += float64(q[l])
	}
	*s, *q = [Lanes]float32{}, [Lanes]float32{}
}

// StatsCFChans runs StatsCF for nch channels, channel j's block starting
// at x[j*chStride] with pivot[j], each from float64 lanes set to 0, and
// reduces each quantity's lanes with SumLanes: out[2*j] is channel j's
// shifted sum, out[2*j+1] its sum of squares. acc is scratch of 2*Lanes
// values.
func StatsCFChans(out, acc []float64, x []float32, nch, chStride, nruns, runLen, stride, group int, pivot []float32) {
	a := acc[:2*Lanes]
	for j := range nch {
		clear(a)
		StatsCF(a, x[j*chStride:], nruns, runLen, stride, group, pivot[j])
		out[2*j], out[2*j+1] = SumLanes(a[:Lanes]), SumLanes(a[Lanes:])
	}
}

// StatsCFCarry is StatsCFChans given a slab a block of runs at a time, so
// that a caller can walk a few samples of many channels at once: channel
// j's float32 lanes (part[j*2*Lanes:], S then Q) and float64 lanes
// (acc[j*2*Lanes:], S then Q) carry over from one call to the next, and the
// call that ends the slab (end != 0) reduces them with SumLanes into
// out[2*j] and out[2*j+1], as StatsCFChans does; other calls leave out
// alone. Run r of the call is run phase+r of its flush group: the lanes are
// flushed after it when (phase+r+1) % group == 0, and after the call's
// last run when end != 0 (the block ends the slab). With the lanes zeroed
// before the first block, every lane gets the same values as in one
// StatsCF call over the slab. It requires runLen <= FlushCF (one segment
// per run) and 0 <= phase < group.
func StatsCFCarry(out, acc []float64, part []float32, x []float32, nch, chStride, nruns, runLen, stride, group, phase, end int, pivot []float32) {
	for j := range nch {
		a := acc[j*2*Lanes : (j+1)*2*Lanes]
		s := (*[Lanes]float32)(part[j*2*Lanes:])
		q := (*[Lanes]float32)(part[j*2*Lanes+Lanes:])
		for r := 0; r < nruns; r++ {
			o := j*chStride + r*stride
			addStats(s, q, x[o:o+runLen], pivot[j])
			if (phase+r+1)%group == 0 || (end != 0 && r == nruns-1) {
				flushStats(a, s, q)
			}
		}
		if end != 0 {
			out[2*j], out[2*j+1] = SumLanes(a[:Lanes]), SumLanes(a[Lanes:])
		}
	}
}

// SumLanes adds the Lanes float64 lanes of a channels-first reduction in a
// fixed tree, halving: lane l += lane l+w for w = 16, 8, 4, 2, 1, and
// returns lane 0.
func SumLanes(a []float64) float64 {
	v := (*[Lanes]float64)(a)
	h0, h1, h2, h3 := v[0]+v[16], v[1]+v[17], v[2]+v[18], v[3]+v[19]
	h4, h5, h6, h7 := v[4]+v[20], v[5]+v[21], v[6]+v[22], v[7]+v[23]
	h8, h9, h10, h11 := v[8]+v[24], v[9]+v[25], v[10]+v[26], v[11]+v[27]
	h12, h13, h14, h15 := v[12]+v[28], v[13]+v[29], v[14]+v[30], v[15]+v[31]
	q0, q1, q2, q3 := h0+h8, h1+h9, h2+h10, h3+h11
	q4, q5, q6, q7 := h4+h12, h5+h13, h6+h14, h7+h15
	e0, e1, e2, e3 := q0+q4, q1+q5, q2+q6, q3+q7
	return (e0 + e2) + (e1 + e3)
}

// StatsCL sets acc to the shifted sums of rows channels-last rows of C
// values, ld apart (ld >= C; ld > C when the call covers a block of the
// channels of wider rows):
//
//	acc[:2*Phases*C] = 0
//	for r in 0..rows-1, for every channel c
//		d := x[r*ld+c] - pivot[c]
//		S[r%Phases][c] += d
//		Q[r%Phases][c] += d*d   (product rounded first)
//	flushing every FlushRowsCL rows and after the last row into
//	acc[u*C+c] (S) and acc[Phases*C+u*C+c] (Q).
//
// The SIMD kernels store the first flush instead of adding it to zeros,
// which gives the same bits (a float32 lane sum that starts at +0 is never
// -0), so that neither they nor their callers clear acc first. With rows
// or C below 1, acc is left as it is. len(x) >= (rows-1)*ld+C,
// len(pivot) >= C, len(acc) >= 2*Phases*C, and tmp is scratch of
// TmpCL(2, C) values whose contents do not matter.
func StatsCL(acc []float64, x []float32, rows, C, ld int, pivot, tmp []float32) {
	if rows <= 0 || C <= 0 {
		return
	}
	clear(acc[:2*Phases*C])
	if C > wideC {
		statsRows(acc, x, rows, C, ld, pivot, tmp)
		return
	}
	accS := acc[:Phases*C]
	accQ := acc[Phases*C : 2*Phases*C]
	x = x[:(rows-1)*ld+C]
	for r0 := 0; r0 < rows; r0 += FlushRowsCL {
		r1 := min(r0+FlushRowsCL, rows)
		// Channel outer, rows inner: each channel's four phase sums stay
		// in registers; the block's rows stay in cache across channels.
		for c := range C {
			p := pivot[c]
			var s0, s1, s2, s3, q0, q1, q2, q3 float32
			r := r0
			for ; r+4 <= r1; r += 4 {
				i := r*ld + c
				d0 := x[i] - p
				d1 := x[i+ld] - p
				d2 := x[i+2*ld] - p
				d3 := x[i+3*ld] - p
				s0, s1, s2, s3 = s0+d0, s1+d1, s2+d2, s3+d3
				q0 += float32(d0 * d0)
				q1 += float32(d1 * d1)
				q2 += float32(d2 * d2)
				q3 += float32(d3 * d3)
			}
			// r0 is a multiple of Phases, so the tail's phases are 0, 1, 2.
			if r < r1 {
				d := x[r*ld+c] - p
				s0 += d
				q0 += float32(d * d)
			}
			if r+1 < r1 {
				d := x[(r+1)*ld+c] - p
				s1 += d
				q1 += float32(d * d)
			}
			if r+2 < r1 {
				d := x[(r+2)*ld+c] - p
				s2 += d
				q2 += float32(d * d)
			}
			accS[c] += float64(s0)
			accS[C+c] += float64(s1)
			accS[2*C+c] += float64(s2)
			accS[3*C+c] += float64(s3)
			accQ[c] += float64(q0)
			accQ[C+c] += float64(q1)
			accQ[2*C+c] += float64(q2)
			accQ[3*C+c] += float64(q3)
		}
	}
}

// wideC is the channel count above which the channels-last reductions walk
// rows in memory order with their float32 sums in tmp; up to it they walk
// channel by channel with the sums in registers. Measured: generic
// statistics of 8x512x7x7 channels last went from 16x to 9x copy, backward
// of 32x64x56x56 from 22x to 18x.
const wideC = 16

// TmpCL is the length of the scratch slice of StatsCL (nq = 2) and
// BackwardCL (nq = 3) for C channels: nq*Phases*C rounded up to whole
// 16-lane vectors per (quantity, phase), which is what the SIMD kernels
// need.
func TmpCL(nq, C int) int { return nq * Phases * ((C + 15) / 16 * 16) }

// statsRows is StatsCL for wide rows: the same sums, rows walked in memory
// order.
func statsRows(acc []float64, x []float32, rows, C, ld int, pivot, tmp []float32) {
	buf := tmp[:2*Phases*C]
	clear(buf)
	sums, sqs := buf[:Phases*C], buf[Phases*C:]
	piv := pivot[:C]
	for r0 := 0; r0 < rows; r0 += FlushRowsCL {
		r1 := min(r0+FlushRowsCL, rows)
		for r := r0; r < r1; r++ {
			u := r % Phases
			su, qu := sums[u*C:(u+1)*C], sqs[u*C:(u+1)*C]
			row := x[r*ld : r*ld+C]
			su, qu, row = su[:len(piv)], qu[:len(piv)], row[:len(piv)]
			for c, v := range row {
				d := v - piv[c]
				su[c] += d
				qu[c] += float32(d * d)
			}
		}
		for i := range sums {
			acc[i] += float64(sums[i])
			acc[Phases*C+i] += float64(sqs[i])
		}
		clear(buf)
	}
}

// AddPhases adds the Phases float64 lanes of the channels-last sums of
// len(t) channels, phase u of channel i at a[u*stride+i], into t:
//
//	t[i] += (a[i] + a[stride+i]) + (a[2*stride+i] + a[3*stride+i])
//
// This is the order in which a channels-last channel's sums are totalled:
// the phases of one slab in this tree, the slabs in order, from 0. It
// requires stride >= len(t) (or no channels) and len(a) >= 3*stride +
// len(t).
func AddPhases(t, a []float64, stride int) {
	n := len(t)
	if n == 0 {
		return
	}
	p0, p1 := a[:n], a[stride:stride+n]
	p2, p3 := a[2*stride:2*stride+n], a[3*stride:3*stride+n]
	for i := range t {
		t[i] += (p0[i] + p1[i]) + (p2[i] + p3[i])
	}
}
