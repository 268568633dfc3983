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
			segX, segDy := runX[off:end], runDy[off:end]
			i := 0
			for ; i+Lanes <= len(segX); i += Lanes {
				vx := (*[Lanes]float32)(segX[i : i+Lanes])
				vdy := (*[Lanes]float32)(segDy[i : i+Lanes])
				for l := range Lanes {
					d := vx[l] - mean
					g := vdy[l]
					sdy[l] += g
					p[l] += float32(g * d)
					rs[l] += d
				}
			}
			tailDy := segDy[i:]
			for l, v := range segX[i:] {
				d := v - mean
				g := tailDy[l]
				sdy[l] += g
				p[l] += float32(g * d)
				rs[l] += d
			}
			if end < runLen || (r+1)%group == 0 || r == nruns-1 {
				for l := range Lanes {
					acc[l] += float64(sdy[l])
					acc[Lanes+l] += float64(p[l])
					acc[2*Lanes+l] += float64(rs[l])
				}
				sdy, p, rs = [Lanes]float32{}, [Lanes]float32{}, [Lanes]float32{}
			}
		}
	}
}

// BackwardCL accumulates the backward reductions of rows channels-last rows
// into acc, with the phases and flushes of StatsCL:
//
//	d := x[r*C+c] - mean[c]; g := dy[r*C+c]
//	Sdy[u][c] += g     -> acc[u*C+c]
//	P[u][c]   += g*d   -> acc[Phases*C+u*C+c]     (product rounded first)
//	R[u][c]   += d     -> acc[2*Phases*C+u*C+c]
//
// with u = r % Phases; len(acc) >= 3*Phases*C.
func BackwardCL(acc []float64, dy, x []float32, rows, C int, mean []float32) {
	const tile = 16
	accS := acc[:Phases*C]
	accP := acc[Phases*C : 2*Phases*C]
	accR := acc[2*Phases*C : 3*Phases*C]
	for r0 := 0; r0 < rows; r0 += FlushRowsCL {
		r1 := min(r0+FlushRowsCL, rows)
		for c0 := 0; c0 < C; c0 += tile {
			w := min(tile, C-c0)
			m := mean[c0 : c0+w]
			var sdy, p, rs [Phases][tile]float32
			for r := r0; r < r1; r++ {
				u := r % Phases
				su, pu, ru := &sdy[u], &p[u], &rs[u]
				rowX := x[r*C+c0 : r*C+c0+w]
				rowDy := dy[r*C+c0 : r*C+c0+w]
				rowDy = rowDy[:len(m)]
				for j, v := range rowX[:len(m)] {
					d := v - m[j]
					g := rowDy[j]
					su[j] += g
					pu[j] += float32(g * d)
					ru[j] += d
				}
			}
			for u := range Phases {
				as := accS[u*C+c0 : u*C+c0+w]
				ap := accP[u*C+c0 : u*C+c0+w]
				ar := accR[u*C+c0 : u*C+c0+w]
				for j := range as {
					as[j] += float64(sdy[u][j])
					ap[j] += float64(p[u][j])
					ar[j] += float64(rs[u][j])
				}
			}
		}
	}
}
