package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/fallback"
)

// scaleValues draws n channels' gamma and running variance, with special
// values when special is set: zero, negative and tiny variances, NaNs,
// infinities, signed zeros and subnormals in either.
func scaleValues(rng *rand.Rand, n int, special bool) (gamma, variance []float32) {
	gamma, variance = make([]float32, n), make([]float32, n)
	for i := range n {
		gamma[i] = float32(rng.NormFloat64())
		variance[i] = float32(math.Exp(rng.NormFloat64() * 6))
	}
	if special && n > 0 {
		sp := []float32{0, float32(math.Copysign(0, -1)), -1, -1e-30, 1e-45, 1e-40, 3e38,
			float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002),
			math.Float32frombits(0x7f800003)} // the last a signalling NaN
		for range 1 + n/3 {
			i := rng.IntN(n)
			if rng.IntN(3) == 0 {
				gamma[i] = sp[rng.IntN(len(sp))]
			} else {
				variance[i] = sp[rng.IntN(len(sp))]
			}
		}
	}
	return gamma, variance
}

// scaleEps are the eps values the tests use: 0 (so that a zero variance
// gives d == 0), the usual ones, and one that is not a float32.
var scaleEps = []float64{0, 1e-5, 1e-3, 0.1}

// TestInferScale compares every tier's InferScale with fallback's, bit for
// bit (any NaN matching any NaN), for 0 to 70 channels (every tail length
// of both vector widths), on plain and special values and several eps;
// gamma and variance must be left alone and a written only up to its
// length.
func TestInferScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, im := range availableImpls(t) {
		for n := 0; n <= 70; n++ {
			for _, eps := range scaleEps {
				for _, special := range []bool{false, true} {
					gamma, variance := scaleValues(rng, n, special)
					g0, v0 := append([]float32(nil), gamma...), append([]float32(nil), variance...)
					want := make([]float32, n)
					fallback.InferScale(want, gamma, variance, eps)
					got := make([]float32, n+3)
					for i := range got {
						got[i] = 7
					}
					im.InferScale(got[:n], gamma, variance, eps)
					what := fmt.Sprintf("%s n=%d eps=%v special=%v", im.Name, n, eps, special)
					if !sameBits32(t, what, got[:n], want) ||
						!sameBits32(t, what+" (past a)", got[n:], []float32{7, 7, 7}) ||
						!sameBits32(t, what+" (gamma changed)", gamma, g0) ||
						!sameBits32(t, what+" (variance changed)", variance, v0) {
						return
					}
				}
			}
		}
	}
}

// TestInferScaleSpecials pins fallback's formula on the values where the
// kernels could differ from it: d == 0 gives 0 (and so does -0), a
// negative d a NaN, an infinite one 0, and a product of an infinite gamma
// with a zero inv a NaN; then compares every tier on them.
func TestInferScaleSpecials(t *testing.T) {
	inf := float32(math.Inf(1))
	gamma := []float32{2, 2, 2, 2, inf, 2, 0.5}
	variance := []float32{0, float32(math.Copysign(0, -1)), -1, inf, 0, 4, 1e-45}
	want := []float32{0, 0, float32(math.NaN()), 0, float32(math.NaN()), 1, float32(0.5 / math.Sqrt(float64(float32(1e-45))))}
	got := make([]float32, len(gamma))
	fallback.InferScale(got, gamma, variance, 0)
	if !sameBits32(t, "fallback", got, want) {
		return
	}
	for _, im := range availableImpls(t) {
		im.InferScale(got, gamma, variance, 0)
		sameBits32(t, im.Name, got, want)
	}
}

// FuzzInferScale compares every tier with fallback on random channel
// counts, eps and values.
func FuzzInferScale(f *testing.F) {
	f.Add(uint64(1), uint8(9), 1e-5, false)
	f.Add(uint64(2), uint8(33), 0.0, true)
	f.Add(uint64(3), uint8(0), 1e-3, true)
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, eps float64, special bool) {
		rng := rand.New(rand.NewPCG(seed, 35))
		gamma, variance := scaleValues(rng, int(n), special)
		want := make([]float32, n)
		fallback.InferScale(want, gamma, variance, eps)
		for _, im := range availableImpls(t) {
			got := make([]float32, n)
			im.InferScale(got, gamma, variance, eps)
			sameBits32(t, im.Name, got, want)
		}
	})
}
