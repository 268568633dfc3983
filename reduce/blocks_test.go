package reduce

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowBlocksMatchUnblocked checks that the channel-blocked passes of
// Train and Backward give the bits of the unblocked ones, with every
// implementation, several worker counts and in place, on data that takes
// every rare path: a second pass, the float64 path, NaN and Inf.
func TestRowBlocksMatchUnblocked(t *testing.T) {
	defer func(b, m int, bt bool) { blockBytes, minBlockC, blockRows, blockTrain = b, m, true, bt }(blockBytes, minBlockC, blockTrain)
	blockTrain = true
	cases := []struct {
		s          Shape
		blockBytes int
	}{
		{Shape{N: 256, C: 1024, S: 1}, 512 << 10}, // the default sizes
		{Shape{N: 8, C: 512, S: 49, Layout: ChannelsLast}, 512 << 10},
		{Shape{N: 9, C: 70, S: 1}, 2000},                      // blocks of 13 and 8 channels
		{Shape{N: 5, C: 37, S: 3, Layout: ChannelsLast}, 900}, // odd widths, masked tails mid-row
		{Shape{N: 300, C: 600, S: 1}, 96000},                  // three slabs per channel
		{Shape{N: 3, C: 200, S: 2, Layout: ChannelsLast}, 3000},
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for _, tc := range cases {
		s := tc.s
		blockBytes, minBlockC = tc.blockBytes, 1
		blockRows = true
		w := &workspace{}
		w.begin(nil, s)
		if w.rowBlockC() == 0 {
			t.Fatalf("%v: not blocked (test setup)", s)
		}
		n, C := s.Len(), s.C
		x, dy := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(1e4 + rng.NormFloat64())
			dy[i] = float32(rng.NormFloat64())
		}
		rows := s.rows()
		set := func(c, r int, v float32) { x[r*C+c] = v }
		for r := range 3 {
			set(3, r, 1e4+50) // a far pivot: the second pass
		}
		for r := range rows {
			set(C-2, r, float32(rng.NormFloat64()*1e30)) // the float64 path
		}
		set(5, rows/2, float32(math.NaN()))
		set(7, rows-1, float32(math.Inf(-1)))
		dy[(rows/3)*C+9] = float32(math.Inf(1))
		gamma, beta := make([]float32, C), make([]float32, C)
		for c := range gamma {
			gamma[c], beta[c] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		for _, name := range Impls() {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			blockRows = false
			want := runAll(s, x, dy, gamma, beta, nil)
			blockRows = true
			for _, run := range []Runner{nil, limitedRunner{2}, limitedRunner{3}} {
				got := runAll(s, x, dy, gamma, beta, run)
				compareOutputs(t, s, name, got, want)
			}
			// In place: y over x, dx over dy.
			xi, dyi := append([]float32(nil), x...), append([]float32(nil), dy...)
			mean, inv := make([]float32, C), make([]float32, C)
			Train(&TrainArgs{Y: xi, X: xi, Shape: s, Gamma: gamma, Beta: beta, Eps: 1e-5, Momentum: 0.1, Mean: mean, InvStd: inv})
			if i := sameBits(xi, want.y[:n]); i >= 0 {
				t.Errorf("%s %v in place: y[%d] = %v, unblocked gives %v", name, s, i, xi[i], want.y[i])
			}
			Backward(&BackwardArgs{DX: dyi, DY: dyi, X: x, Shape: s, Mean: want.mean, InvStd: want.inv, Gamma: gamma})
			if i := sameBits(dyi, want.dx); i >= 0 {
				t.Errorf("%s %v in place: dx[%d] = %v, unblocked gives %v", name, s, i, dyi[i], want.dx[i])
			}
			restore()
		}
	}
}

func compareOutputs(t *testing.T, s Shape, impl string, got, want outputs) {
	t.Helper()
	for name, pair := range map[string][2][]float32{
		"y": {got.y, want.y}, "mean": {got.mean, want.mean}, "var": {got.vr, want.vr}, "invstd": {got.inv, want.inv},
		"runningMean": {got.rm, want.rm}, "runningVar": {got.rv, want.rv}, "dx": {got.dx, want.dx},
		"dgamma": {got.dg, want.dg}, "dbeta": {got.db, want.db},
	} {
		if i := sameBits(pair[0], pair[1]); i >= 0 {
			t.Errorf("%s %v: %s[%d] = %v blocked, %v unblocked", impl, s, name, i, pair[0][i], pair[1][i])
		}
	}
}
