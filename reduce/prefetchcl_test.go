package reduce

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPrefetchCLMatchesPlain checks that the row-major slabs reduced by
// the Prefetch kernels (prefetchCLBytes, here lowered to 0) give the bits
// of the plain kernels, with every implementation and 1 to 3 workers, on
// shapes of several slabs with full, masked and narrow rows, on data that
// takes every rare path (rareBatch).
func TestPrefetchCLMatchesPlain(t *testing.T) {
	defer func(b, c int) { prefetchCLBytes, prefetchCLMinC = b, c }(prefetchCLBytes, prefetchCLMinC)
	prefetchCLMinC = 1
	shapes := []Shape{
		{N: 2500, C: 64, S: 1},                       // three slabs of 1024 rows
		{N: 7, C: 200, S: 100, Layout: ChannelsLast}, // masked tails, 256-row slabs
		{N: 3000, C: 13, S: 1},                       // narrow chunks
		{N: 3, C: 256, S: 300, Layout: ChannelsLast}, // prefetchCLMaxC
	}
	rng := rand.New(rand.NewPCG(51, 52))
	for _, s := range shapes {
		x, dy, gamma, beta := rareBatch(rng, s)
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
