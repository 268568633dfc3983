package bn

import (
	"testing"

	"github.com/simdbn/simdbn/reduce"
)

// TestSplitMin checks which calls the Workers option hands to its pool:
// Train and Infer from SplitMin values on, Backward from SplitMinBackward,
// none with Workers 1, and a caller's Runner for every call.
func TestSplitMin(t *testing.T) {
	defer func(f func(int) Runner) { poolOf = f }(poolOf)
	var pooled int
	poolOf = func(k int) Runner {
		pooled++
		return reduce.Pool(k)
	}
	calls := map[string]func(b *BatchNorm, n int) error{
		"Train": func(b *BatchNorm, n int) error {
			return b.Train(make([]float32, n), make([]float32, n), Shape{N: 1, C: 1, S: n}, nil)
		},
		"Infer": func(b *BatchNorm, n int) error {
			return b.Infer(make([]float32, n), make([]float32, n), Shape{N: 1, C: 1, S: n})
		},
		"Backward": func(b *BatchNorm, n int) error {
			st := &Stats{Mean: []float32{0}, InvStd: []float32{1}}
			return b.Backward(make([]float32, n), nil, nil, make([]float32, n), make([]float32, n), Shape{N: 1, C: 1, S: n}, st)
		},
	}
	least := map[string]int{"Train": SplitMin, "Infer": SplitMin, "Backward": SplitMinBackward}
	for name, call := range calls {
		for _, workers := range []int{1, 2} {
			for _, n := range []int{least[name] - 1, least[name]} {
				b := New(1)
				b.Workers = workers
				pooled = 0
				if err := call(b, n); err != nil {
					t.Fatal(err)
				}
				want := 0
				if workers > 1 && n >= least[name] {
					want = 1
				}
				if pooled != want {
					t.Errorf("%s of %d values, Workers %d: the pool was taken %d times, want %d", name, n, workers, pooled, want)
				}
			}
		}
		custom := &countRunner{}
		b := New(1)
		b.Workers, b.Runner = 2, custom
		pooled = 0
		if err := call(b, 4); err != nil {
			t.Fatal(err)
		}
		if pooled != 0 || custom.calls == 0 {
			t.Errorf("%s of 4 values with a Runner: the pool was taken %d times and the Runner %d", name, pooled, custom.calls)
		}
	}
}

// countRunner runs every task on the calling goroutine and counts its Run
// calls.
type countRunner struct{ calls int }

func (r *countRunner) Workers() int { return 2 }
func (r *countRunner) Run(n int, task func(int)) {
	r.calls++
	for i := range n {
		task(i)
	}
}
