package reduce

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPrefetchCLMatchesPlain checks that the row-major slabs reduced by
// the Prefetch kernels (prefetchCLBytes, here lowered to 0) give the bits
// of the plain kernels, with every implementation and 1 to 3 workers, on
// shapes of several slabs with full, masked and tiny rows, NaN, Inf and a
// channel on Train's float64 path.
func TestPrefetchCLMatchesPlain(t *testing.T) {
	defer func(b, c int) { prefetchCLBytes, prefetchCLMinC = b, c }(prefetchCLBytes, prefetchCLMinC)
	prefetchCLMinC = 1
	shapes := []Shape{
		{N: 2500, C: 64, S: 1},                       // three slabs of 1024 rows
		{N: 7, C: 200, S: 100, Layout: ChannelsLast}, // masked tails, 256-row slabs
		{N: 5000, C: 3, S: 1},
		{N: 3, C: 256, S: 300, Layout: ChannelsLast}, // prefetchCLMaxC
	}
	rng := rand.New(rand.NewPCG(51, 52))
	for _, s := range shapes {
		n, C := s.Len(), s.C
		x, dy := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(1e4 + rng.NormFloat64())
			dy[i] = float32(rng.NormFloat64())
		}
		rows := s.rows()
		for r := range rows {
			x[r*C+C-1] = float32(rng.NormFloat64() * 1e30) // Train's float64 path
		}
		x[(rows/2)*C] = float32(math.NaN())
		dy[(rows-1)*C+C/2] = float32(math.Inf(1))
		gamma, beta := make([]float32, C), make([]float32, C)
		for c := range gamma {
			gamma[c], beta[c] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		prefetchCLBytes = math.MaxInt
		restore, err := Use("generic")
		if err != nil {
			t.Fatal(err)
		}
		want := runAll(s, x, dy, gamma, beta, nil)
		restore()
		prefetchCLBytes = 0
		w := &workspace{}
		w.begin(nil, s)
		if !w.prefetchCL || w.rowBlockC() != 0 {
			t.Fatalf("%v: prefetchCL %v, blockC %d (test setup)", s, w.prefetchCL, w.rowBlockC())
		}
		for _, name := range Impls() {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, run := range []Runner{nil, limitedRunner{2}, limitedRunner{3}} {
				got := runAll(s, x, dy, gamma, beta, run)
				compareOutputs(t, s, name, got, want)
				if i := sameBits64(got.f64, want.f64); i >= 0 {
					t.Errorf("%s %v: float64 statistics [%d] = %v, plain kernels give %v", name, s, i, got.f64[i], want.f64[i])
				}
				if i := sameBits(got.mv, want.mv); i >= 0 {
					t.Errorf("%s %v: MeanVar [%d] = %v, plain kernels give %v", name, s, i, got.mv[i], want.mv[i])
				}
			}
			restore()
		}
	}
}
