package reduce

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCLFormsMatchPlain checks that the row-major slabs reduced by the
// Prefetch kernels (prefetchCLBytes and backPrefetchCLBytes, here lowered
// to 0) and by the Cached
// kernels (cachedCLBytes, here raised past every shape) give the bits of
// the plain kernels, with every implementation and 1 to 3 workers, on
// shapes of several slabs with full, masked and narrow rows, and one that
// runs channel-blocked with rows 4 KB apart (where Backward's blocks take
// the Cached kernel too), on data that takes every rare path (rareBatch).
func TestCLFormsMatchPlain(t *testing.T) {
	defer func(b, bb, c, d, k int) {
		prefetchCLBytes, backPrefetchCLBytes, prefetchCLMinC, prefetchCLMaxC, cachedCLBytes = b, bb, c, d, k
	}(prefetchCLBytes, backPrefetchCLBytes, prefetchCLMinC, prefetchCLMaxC, cachedCLBytes)
	prefetchCLMinC, prefetchCLMaxC = 1, math.MaxInt
	shapes := []Shape{
		{N: 2500, C: 64, S: 1},                       // three slabs of 1024 rows
		{N: 7, C: 200, S: 100, Layout: ChannelsLast}, // masked tails, 256-row slabs
		{N: 3000, C: 13, S: 1},                       // narrow chunks
		{N: 3, C: 256, S: 300, Layout: ChannelsLast}, // 900 rows
		{N: 300, C: 1024, S: 1},                      // channel blocks, 4 KB rows
	}
	forms := []struct {
		name                string
		prefetch, cached    int // prefetchCLBytes, cachedCLBytes
		wantPre, wantCached bool
	}{
		{"Prefetch", 0, 0, true, false},
		{"Cached", math.MaxInt, math.MaxInt, false, true},
	}
	rng := rand.New(rand.NewPCG(51, 52))
	for _, s := range shapes {
		x, dy, gamma, beta := rareBatch(rng, s)
		prefetchCLBytes, backPrefetchCLBytes, cachedCLBytes = math.MaxInt, math.MaxInt, 0
		restore, err := Use("generic")
		if err != nil {
			t.Fatal(err)
		}
		want := runAll(s, x, dy, gamma, beta, nil)
		restore()
		for _, f := range forms {
			prefetchCLBytes, backPrefetchCLBytes, cachedCLBytes = f.prefetch, f.prefetch, f.cached
			w := &workspace{}
			w.begin(nil, s)
			if w.prefetchCL != f.wantPre || w.cachedCL != f.wantCached || (w.rowBlockC() != 0) != (s.C == 1024) {
				t.Fatalf("%v %s: prefetchCL %v, cachedCL %v, blockC %d (test setup)", s, f.name, w.prefetchCL, w.cachedCL, w.rowBlockC())
			}
			for _, name := range Impls() {
				restore, err := Use(name)
				if err != nil {
					t.Fatal(err)
				}
				for _, run := range []Runner{nil, limitedRunner{2}, limitedRunner{3}} {
					got := runAll(s, x, dy, gamma, beta, run)
					what := name + " " + f.name
					compareOutputs(t, s, what, got, want)
					if i := sameBits64(got.f64, want.f64); i >= 0 {
						t.Errorf("%s %v: float64 statistics [%d] = %v, plain kernels give %v", what, s, i, got.f64[i], want.f64[i])
					}
					if i := sameBits(got.mv, want.mv); i >= 0 {
						t.Errorf("%s %v: MeanVar [%d] = %v, plain kernels give %v", what, s, i, got.mv[i], want.mv[i])
					}
				}
				restore()
			}
		}
	}
}
