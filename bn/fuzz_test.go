package bn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/bn"
)

// FuzzImplsAgree runs Train, Infer and Backward on a random shape and data
// under every implementation and with 1 or 3 workers, and compares every
// output with the generic, single-goroutine call, bit for bit (any NaN for a
// NaN). The shape covers small and odd sizes in both layouts; the data an
// offset, a scale, and optional non-finite values.
func FuzzImplsAgree(f *testing.F) {
	f.Add(uint8(3), uint8(5), uint16(7), false, uint64(1), 1e4, 1.0, false)
	f.Add(uint8(1), uint8(1), uint16(2), true, uint64(2), 0.0, 1e-3, false)
	f.Add(uint8(7), uint8(33), uint16(49), false, uint64(3), -1e6, 1.0, true)
	f.Add(uint8(2), uint8(70), uint16(1), true, uint64(4), 3.0, 100.0, false)
	f.Add(uint8(9), uint8(2), uint16(1100), false, uint64(5), 1.0, 1.0, true)
	f.Fuzz(func(t *testing.T, n, c uint8, sz uint16, last bool, seed uint64, offset, scale float64, special bool) {
		s := bn.Shape{N: int(n%12) + 1, C: int(c%80) + 1, S: int(sz%1500) + 1}
		if last {
			s.Layout = bn.ChannelsLast
		}
		if s.N*s.S < 2 || math.IsNaN(offset) || math.IsInf(offset, 0) || math.IsNaN(scale) || math.IsInf(scale, 0) {
			return
		}
		offset = math.Mod(offset, 1e7)
		scale = math.Mod(math.Abs(scale), 1e3) + 1e-3
		rng := rand.New(rand.NewPCG(seed, 7))
		size := s.N * s.C * s.S
		x, dy := make([]float32, size), make([]float32, size)
		for i := range x {
			x[i] = float32(offset + scale*rng.NormFloat64())
			dy[i] = float32(rng.NormFloat64())
		}
		if special {
			for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				x[rng.IntN(size)] = v
			}
		}
		run := func(impl string, workers int) [][]float32 {
			restore, err := bn.Use(impl)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			b := bn.New(s.C)
			b.Workers = workers
			for i := range b.Gamma {
				b.Gamma[i] = float32(1 + 0.5*rng.NormFloat64())
				b.Beta[i] = float32(rng.NormFloat64())
			}
			y, yi, dx := make([]float32, size), make([]float32, size), make([]float32, size)
			st := &bn.Stats{Mean: make([]float32, s.C), Var: make([]float32, s.C), InvStd: make([]float32, s.C)}
			dg, db := make([]float32, s.C), make([]float32, s.C)
			if err := b.Train(y, x, s, st); err != nil {
				t.Fatal(err)
			}
			if err := b.Infer(yi, x, s); err != nil {
				t.Fatal(err)
			}
			if err := b.Backward(dx, dg, db, dy, x, s, st); err != nil {
				t.Fatal(err)
			}
			return [][]float32{y, yi, dx, st.Mean, st.Var, st.InvStd, dg, db, b.RunningMean, b.RunningVar}
		}
		state := rng.Uint64()
		reseed := func() { rng = rand.New(rand.NewPCG(state, 9)) }
		reseed()
		want := run("generic", 1)
		for _, impl := range bn.Impls() {
			for _, workers := range []int{1, 3} {
				reseed()
				got := run(impl, workers)
				for k := range want {
					if i, ok := bitsEqual(got[k], want[k]); !ok {
						t.Fatalf("%v impl=%s workers=%d: output %d differs at %d: %v, generic gives %v", s, impl, workers, k, i, got[k][i], want[k][i])
					}
				}
			}
		}
	})
}
