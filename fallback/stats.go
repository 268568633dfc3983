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
			seg := run[off:end]
			i := 0
			for ; i+Lanes <= len(seg); i += Lanes {
				v := (*[Lanes]float32)(seg[i : i+Lanes])
				for l := range Lanes {
					d := v[l] - pivot
					s[l] += d
					q[l] += float32(d * d)
				}
			}
			for l, v := range seg[i:] {
				d := v - pivot
				s[l] += d
				q[l] += float32(d * d)
			}
			if end < runLen || (r+1)%group == 0 || r == nruns-1 {
				for l := range Lanes {
					acc[l] += float64(s[l])
					acc[Lanes+l] += float64(q[l])
				}
				s, q = [Lanes]float32{}, [Lanes]float32{}
			}
		}
	}
}

// StatsCL accumulates the shifted sums of rows channels-last rows of C
// values into acc:
//
//	for r in 0..rows-1, for every channel c
//		d := x[r*C+c] - pivot[c]
//		S[r%Phases][c] += d
//		Q[r%Phases][c] += d*d   (product rounded first)
//	flushing every FlushRowsCL rows and after the last row into
//	acc[u*C+c] (S) and acc[Phases*C+u*C+c] (Q).
//
// len(x) >= rows*C, len(pivot) >= C, len(acc) >= 2*Phases*C.
func StatsCL(acc []float64, x []float32, rows, C int, pivot []float32) {
	const tile = 16
	accS := acc[:Phases*C]
	accQ := acc[Phases*C : 2*Phases*C]
	for r0 := 0; r0 < rows; r0 += FlushRowsCL {
		r1 := min(r0+FlushRowsCL, rows)
		for c0 := 0; c0 < C; c0 += tile {
			w := min(tile, C-c0)
			p := pivot[c0 : c0+w]
			var s, q [Phases][tile]float32
			for r := r0; r < r1; r++ {
				u := r % Phases
				su, qu := &s[u], &q[u]
				row := x[r*C+c0 : r*C+c0+w]
				for j, v := range row[:len(p)] {
					d := v - p[j]
					su[j] += d
					qu[j] += float32(d * d)
				}
			}
			for u := range Phases {
				as := accS[u*C+c0 : u*C+c0+w]
				aq := accQ[u*C+c0 : u*C+c0+w]
				for j := range as {
					as[j] += float64(s[u][j])
					aq[j] += float64(q[u][j])
				}
			}
		}
	}
}
