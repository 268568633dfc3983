package reduce

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestColumnBlocksSameBits checks that the element-wise passes of
// row-major batches give the same bits in column blocks (columnBlocks) as
// in whole rows, with every implementation, ordinary and non-temporal
// stores, one to three workers, and an extreme channel (whose rows take
// applyRowsExtreme instead). It counts the kernel calls that cover part
// of a row, so that the blocked path cannot go untested.
func TestColumnBlocksSameBits(t *testing.T) {
	defer func(b, m, nt int) { colBlockC, colBlockMinC, ntBytes = b, m, nt }(colBlockC, colBlockMinC, ntBytes)
	shapes := []Shape{
		{N: 40, C: 100, S: 7, Layout: ChannelsLast}, // blocks of 48, 48 and 4
		{N: 9, C: 160, S: 13, Layout: ChannelsLast}, // NT: rows of 640 bytes
		{N: 300, C: 100, S: 1},                      // channels first with S = 1: rows too
	}
	for _, name := range Impls() {
		restore, err := Use(name)
		if err != nil {
			t.Fatal(err)
		}
		k := active.Load()
		apply, applyNT, back, backNT := k.applyCL, k.applyCLNT, k.backwardApplyCL, k.backwardApplyCLNT
		var partial atomic.Int64 // the workers make the calls
		var width int
		count := func(C int) {
			if C < width {
				partial.Add(1)
			}
		}
		k.applyCL = func(y, x []float32, rows, C, ld int, p []float32) { count(C); apply(y, x, rows, C, ld, p) }
		k.applyCLNT = func(y, x []float32, rows, C, ld int, p []float32) { count(C); applyNT(y, x, rows, C, ld, p) }
		k.backwardApplyCL = func(dx, dy, x []float32, rows, C, ld int, p []float32) {
			count(C)
			back(dx, dy, x, rows, C, ld, p)
		}
		k.backwardApplyCLNT = func(dx, dy, x []float32, rows, C, ld int, p []float32) {
			count(C)
			backNT(dx, dy, x, rows, C, ld, p)
		}
		for si, s := range shapes {
			width = s.C
			rng := rand.New(rand.NewPCG(5, uint64(si)))
			n := s.Len()
			x, dy := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(1e3 + rng.NormFloat64()*math.Pow(10, float64(rng.IntN(9)-4)))
				dy[i] = float32(rng.NormFloat64())
			}
			if si == 0 {
				for r := range s.rows() { // channel 5: extreme, the float64 path
					x[r*s.C+5] = float32(1e30 * float64(r%2*2-1))
				}
			}
			gamma, beta := make([]float32, s.C), make([]float32, s.C)
			for c := range gamma {
				gamma[c], beta[c] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			for _, nt := range []int{maxInt, 0} {
				ntBytes = nt
				colBlockMinC = maxInt
				want := runAll(s, x, dy, gamma, beta, nil)
				colBlockC, colBlockMinC = 48, 0
				for _, run := range []Runner{Serial, limitedRunner{2}, limitedRunner{3}} {
					before := partial.Load()
					got := runAll(s, x, dy, gamma, beta, run)
					if partial.Load() == before {
						t.Errorf("%s %v, ntBytes %d, %d workers: no kernel call covered a column block", name, s, nt, run.Workers())
					}
					for what, pair := range map[string][2][]float32{"y": {got.y, want.y}, "dx": {got.dx, want.dx}} {
						if i := sameBits(pair[0], pair[1]); i >= 0 {
							t.Errorf("%s %v, ntBytes %d, %d workers: %s[%d] = %v in column blocks, %v in whole rows",
								name, s, nt, run.Workers(), what, i, pair[0][i], pair[1][i])
						}
					}
				}
			}
		}
		k.applyCL, k.applyCLNT, k.backwardApplyCL, k.backwardApplyCLNT = apply, applyNT, back, backNT
		restore()
	}
}
