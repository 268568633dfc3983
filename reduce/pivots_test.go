package reduce

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSetPivotsMatchesPivotOf checks the inline common case of setPivots
// against pivotOf, channel by channel, on both layouts, runs of 1 to 5
// values and batches of fewer than three values per channel, with NaNs
// and infinities among the values the pivots are taken from.
func TestSetPivotsMatchesPivotOf(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, l := range []Layout{ChannelsFirst, ChannelsLast} {
		for _, n := range []int{1, 2, 3, 4} {
			for _, sp := range []int{1, 2, 3, 5} {
				s := Shape{N: n, C: 9, S: sp, Layout: l}
				x := make([]float32, s.Len())
				for i := range x {
					x[i] = float32(rng.NormFloat64())
					if rng.IntN(6) == 0 {
						x[i] = special[rng.IntN(len(special))]
					}
				}
				piv := make([]float32, s.C)
				setPivots(piv, x, s, 2, s.C)
				for c := 2; c < s.C; c++ {
					if want := pivotOf(x, s, c); math.Float32bits(piv[c]) != math.Float32bits(want) {
						t.Errorf("%+v: pivot of channel %d = %v, pivotOf gives %v", s, c, piv[c], want)
					}
				}
				if piv[0] != 0 || piv[1] != 0 {
					t.Errorf("%+v: setPivots wrote outside [2, C)", s)
				}
			}
		}
	}
}
