package bn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/bn"
)

// countingRunner is a framework-style pool: it runs tasks on its own
// goroutines and counts the calls, to show that Runner is used.
type countingRunner struct {
	workers int
	calls   int
}

func (r *countingRunner) Workers() int { return r.workers }
func (r *countingRunner) Run(n int, task func(int)) {
	r.calls++
	done := make(chan struct{})
	next := make(chan int)
	for range r.workers {
		go func() {
			for i := range next {
				task(i)
			}
			done <- struct{}{}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	for range r.workers {
		<-done
	}
}

// TestWorkersGiveSameBits runs Train, Infer and Backward with Workers from
// 1 to 8 and with a caller's Runner, under every implementation, and
// compares every output with the single-goroutine call bit for bit.
func TestWorkersGiveSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	shapes := []bn.Shape{
		{N: 4, C: 37, S: 300}, {N: 3, C: 2, S: 5000}, {N: 64, C: 3, S: 1}, {N: 16, C: 40, S: 20, Layout: bn.ChannelsLast},
	}
	if !testing.Short() {
		shapes = append(shapes, bn.Shape{N: 8, C: 64, S: 3136}, bn.Shape{N: 8, C: 64, S: 3136, Layout: bn.ChannelsLast})
	}
	for _, impl := range bn.Impls() {
		restore, err := bn.Use(impl)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range shapes {
			n := s.N * s.C * s.S
			x, dy := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(1e3 + rng.NormFloat64())
				dy[i] = float32(rng.NormFloat64())
			}
			run := func(b *bn.BatchNorm) [][]float32 {
				y, dx := make([]float32, n), make([]float32, n)
				yi := make([]float32, n)
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
			want := run(bn.New(s.C))
			var layers []*bn.BatchNorm
			for k := 2; k <= 8; k++ {
				b := bn.New(s.C)
				b.Workers = k
				layers = append(layers, b)
			}
			custom := &countingRunner{workers: 3}
			b := bn.New(s.C)
			b.Runner = custom
			layers = append(layers, b)
			for _, b := range layers {
				got := run(b)
				for i := range want {
					if j, ok := bitsEqual(got[i], want[i]); !ok {
						t.Errorf("impl=%s %v Workers=%d Runner=%v: output %d differs at %d: %v, want %v",
							impl, s, b.Workers, b.Runner != nil, i, j, got[i][j], want[i][j])
					}
				}
			}
			if custom.calls == 0 {
				t.Errorf("impl=%s %v: the caller's Runner was never used", impl, s)
			}
		}
		restore()
	}
}
