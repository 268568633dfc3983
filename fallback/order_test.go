package fallback_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/fallback"
)

// The functions below implement the package doc's summation order as
// literally as possible: one lane array, values in order. The tuned kernels
// must give the same bits.

func literalFlushCF(run []float32, r, nruns, group int, visit func(off int, v []float32), flush func()) {
	for off := 0; off < len(run); off += fallback.FlushCF {
		end := min(off+fallback.FlushCF, len(run))
		visit(off, run[off:end])
		if end < len(run) || (r+1)%group == 0 || r == nruns-1 {
			flush()
		}
	}
}

func literalStatsCF(acc []float64, x []float32, nruns, runLen, stride, group int, pivot float32) {
	var s, q [fallback.Lanes]float32
	for r := 0; r < nruns; r++ {
		run := x[r*stride : r*stride+runLen]
		literalFlushCF(run, r, nruns, group, func(off int, seg []float32) {
			for i, v := range seg {
				l := (off + i) % fallback.Lanes
				d := v - pivot
				s[l] += d
				q[l] += float32(d * d)
			}
		}, func() {
			for l := range s {
				acc[l] += float64(s[l])
				acc[fallback.Lanes+l] += float64(q[l])
			}
			s, q = [fallback.Lanes]float32{}, [fallback.Lanes]float32{}
		})
	}
}

func literalBackwardCF(acc []float64, dy, x []float32, nruns, runLen, stride, group int, mean float32) {
	var g, p, rs [fallback.Lanes]float32
	for r := 0; r < nruns; r++ {
		run := x[r*stride : r*stride+runLen]
		runDy := dy[r*stride : r*stride+runLen]
		literalFlushCF(run, r, nruns, group, func(off int, seg []float32) {
			for i, v := range seg {
				l := (off + i) % fallback.Lanes
				d := v - mean
				w := runDy[off+i]
				g[l] += w
				p[l] += float32(w * d)
				rs[l] += d
			}
		}, func() {
			for l := range g {
				acc[l] += float64(g[l])
				acc[fallback.Lanes+l] += float64(p[l])
				acc[2*fallback.Lanes+l] += float64(rs[l])
			}
			g, p, rs = [fallback.Lanes]float32{}, [fallback.Lanes]float32{}, [fallback.Lanes]float32{}
		})
	}
}

func literalStatsCL(acc []float64, x []float32, rows, C, ld int, pivot []float32) {
	P := fallback.Phases
	s := make([]float32, P*C)
	q := make([]float32, P*C)
	for r := 0; r < rows; r++ {
		u := r % P
		for c := range C {
			d := x[r*ld+c] - pivot[c]
			s[u*C+c] += d
			q[u*C+c] += float32(d * d)
		}
		if (r+1)%fallback.FlushRowsCL == 0 || r == rows-1 {
			for i := range s {
				acc[i] += float64(s[i])
				acc[P*C+i] += float64(q[i])
				s[i], q[i] = 0, 0
			}
		}
	}
}

func literalBackwardCL(acc []float64, dy, x []float32, rows, C, ld int, mean []float32) {
	P := fallback.Phases
	g := make([]float32, P*C)
	p := make([]float32, P*C)
	rs := make([]float32, P*C)
	for r := 0; r < rows; r++ {
		u := r % P
		for c := range C {
			d := x[r*ld+c] - mean[c]
			w := dy[r*ld+c]
			g[u*C+c] += w
			p[u*C+c] += float32(w * d)
			rs[u*C+c] += d
		}
		if (r+1)%fallback.FlushRowsCL == 0 || r == rows-1 {
			for i := range g {
				acc[i] += float64(g[i])
				acc[P*C+i] += float64(p[i])
				acc[2*P*C+i] += float64(rs[i])
				g[i], p[i], rs[i] = 0, 0, 0
			}
		}
	}
}

func randData(rng *rand.Rand, n int, offset float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(offset + rng.NormFloat64())
	}
	if n > 5 && rng.IntN(4) == 0 {
		x[rng.IntN(n)] = float32(math.Inf(1 - 2*rng.IntN(2)))
	}
	if n > 5 && rng.IntN(4) == 0 {
		x[rng.IntN(n)] = float32(math.NaN())
	}
	return x
}

func sameBits64(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s: lane %d = %v, literal order gives %v", what, i, got[i], want[i])
		}
	}
}

func TestReductionsFollowDocumentedOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, runLen := range []int{1, 2, 3, 4, 5, 7, 31, 32, 33, 63, 64, 65, 100, 1023, 1024, 1025, 2100, 3136} {
		for _, nruns := range []int{1, 2, 3, 7} {
			for _, group := range []int{1, 2, 3} {
				stride := runLen + rng.IntN(9)
				n := (nruns-1)*stride + runLen
				x := randData(rng, n, []float64{0, 1e4, 1e6}[rng.IntN(3)])
				dy := randData(rng, n, 0)
				pivot := x[0] + 0.5
				got, want := make([]float64, 2*fallback.Lanes), make([]float64, 2*fallback.Lanes)
				fallback.StatsCF(got, x, nruns, runLen, stride, group, pivot)
				literalStatsCF(want, x, nruns, runLen, stride, group, pivot)
				sameBits64(t, "StatsCF", got, want)
				got, want = make([]float64, 3*fallback.Lanes), make([]float64, 3*fallback.Lanes)
				fallback.BackwardCF(got, dy, x, nruns, runLen, stride, group, pivot)
				literalBackwardCF(want, dy, x, nruns, runLen, stride, group, pivot)
				sameBits64(t, "BackwardCF", got, want)
			}
		}
	}
	for _, C := range []int{1, 2, 3, 5, 16, 17, 33, 64, 65, 100, 513} {
		for _, rows := range []int{1, 2, 3, 4, 5, 7, 127, 128, 129, 300} {
			// Rows ld apart: a block of the channels of wider rows.
			ld := C + []int{0, 0, 1, 7}[rng.IntN(4)]
			n := (rows-1)*ld + C
			x := randData(rng, n, []float64{0, 1e4, 1e6}[rng.IntN(3)])
			dy := randData(rng, n, 0)
			piv := make([]float32, C)
			for c := range piv {
				piv[c] = x[c] - 0.25
			}
			P := fallback.Phases
			got, want := make([]float64, 2*P*C), make([]float64, 2*P*C)
			fallback.StatsCL(got, x, rows, C, ld, piv, make([]float32, fallback.TmpCL(2, C)))
			literalStatsCL(want, x, rows, C, ld, piv)
			sameBits64(t, "StatsCL", got, want)
			got, want = make([]float64, 3*P*C), make([]float64, 3*P*C)
			fallback.BackwardCL(got, dy, x, rows, C, ld, piv, make([]float32, fallback.TmpCL(3, C)))
			literalBackwardCL(want, dy, x, rows, C, ld, piv)
			sameBits64(t, "BackwardCL", got, want)
		}
	}
}

// TestSumLanesIsTheDocumentedTree checks SumLanes against the halving tree
// written as a loop: lane l += lane l+w for w = 16, 8, 4, 2, 1.
func TestSumLanesIsTheDocumentedTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100 {
		a := make([]float64, fallback.Lanes)
		for i := range a {
			a[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(30)-15))
		}
		t2 := append([]float64(nil), a...)
		for w := fallback.Lanes / 2; w >= 1; w /= 2 {
			for l := 0; l < w; l++ {
				t2[l] += t2[l+w]
			}
		}
		if got := fallback.SumLanes(a); math.Float64bits(got) != math.Float64bits(t2[0]) {
			t.Fatalf("SumLanes = %v, halving tree gives %v", got, t2[0])
		}
	}
}

// TestCarryMatchesChans walks slabs a block of runs at a time with
// StatsCFCarry and BackwardCFCarry, every block size from 1 run to the
// whole slab, and checks each channel's sums against one StatsCFChans or
// BackwardCFChans call over the slab, bit for bit.
func TestCarryMatchesChans(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	L := fallback.Lanes
	for _, runLen := range []int{1, 3, 31, 32, 33, 49, 100, 196, 513, 1024} {
		for _, nruns := range []int{1, 2, 7, 20, 41} {
			for _, group := range []int{1, 2, 3, max(1, fallback.FlushCF/runLen)} {
				nch := 1 + rng.IntN(4)
				chStride := runLen + rng.IntN(3)
				stride := nch*chStride + rng.IntN(5)
				n := (nruns-1)*stride + (nch-1)*chStride + runLen
				x := randData(rng, n, []float64{0, 1e4}[rng.IntN(2)])
				dy := randData(rng, n, 0)
				cv := make([]float32, nch)
				for j := range cv {
					cv[j] = x[j*chStride] + 0.5
				}
				wantS, wantB := make([]float64, 2*nch), make([]float64, 3*nch)
				fallback.StatsCFChans(wantS, make([]float64, 2*L), x, nch, chStride, nruns, runLen, stride, group, cv)
				fallback.BackwardCFChans(wantB, make([]float64, 3*L), dy, x, nch, chStride, nruns, runLen, stride, group, cv)
				for block := 1; block <= nruns; block++ {
					for _, nq := range []int{2, 3} {
						acc, part, got := make([]float64, nq*L*nch), make([]float32, nq*L*nch), make([]float64, nq*nch)
						for r := 0; r < nruns; r += block {
							nr := min(block, nruns-r)
							end := 0
							if r+nr == nruns {
								end = 1
							}
							o := r * stride
							if nq == 2 {
								fallback.StatsCFCarry(got, acc, part, x[o:], nch, chStride, nr, runLen, stride, group, r%group, end, cv)
							} else {
								fallback.BackwardCFCarry(got, acc, part, dy[o:], x[o:], nch, chStride, nr, runLen, stride, group, r%group, end, cv)
							}
						}
						what := fmt.Sprintf("runLen %d nruns %d group %d nch %d block %d", runLen, nruns, group, nch, block)
						if nq == 2 {
							sameBits64(t, "StatsCFCarry "+what, got, wantS)
						} else {
							sameBits64(t, "BackwardCFCarry "+what, got, wantB)
						}
					}
				}
			}
		}
	}
}
