package reduce

import (
	"errors"
	"fmt"
	"math/bits"
)

// Errors returned by MeanVar and Moments, for errors.Is.
var (
	ErrShape  = errors.New("invalid shape")
	ErrLength = errors.New("slice length does not match the shape")
)

// MeanVar writes the per-channel mean and biased variance of x into mean
// and variance (each of length C; either may be nil). Every channel needs at
// least one value (M = N*S >= 1). See the package doc for the summation
// order; results are the same bits on every implementation.
func MeanVar(mean, variance, x []float32, s Shape) error {
	if err := check(mean, variance, x, s); err != nil {
		return err
	}
	ws := getWorkspace()
	defer putWorkspace(ws)
	m, v, _ := ws.perChannel(s.C)
	moments(ws, x, s, m, v, nil)
	for c := range s.C {
		if mean != nil {
			mean[c] = float32(m[c])
		}
		if variance != nil {
			variance[c] = float32(v[c])
		}
	}
	return nil
}

// Moments is MeanVar with float64 results, before their rounding to
// float32.
func Moments(mean, variance []float64, x []float32, s Shape) error {
	if err := check(mean, variance, x, s); err != nil {
		return err
	}
	ws := getWorkspace()
	defer putWorkspace(ws)
	if mean == nil {
		mean = grow64(&ws.mean64, s.C)
	}
	if variance == nil {
		variance = grow64(&ws.var64, s.C)
	}
	moments(ws, x, s, mean, variance, nil)
	return nil
}

func check[T float32 | float64](mean, variance []T, x []float32, s Shape) error {
	if s.N < 0 || s.C < 0 || s.S < 0 {
		return fmt.Errorf("reduce: shape %d x %d x %d has a negative size: %w", s.N, s.C, s.S, ErrShape)
	}
	if s.Layout != ChannelsFirst && s.Layout != ChannelsLast {
		return fmt.Errorf("reduce: unknown %v: %w", s.Layout, ErrShape)
	}
	n, ok := product(s.N, s.C, s.S)
	if !ok {
		return fmt.Errorf("reduce: N*C*S = %d*%d*%d overflows int: %w", s.N, s.C, s.S, ErrShape)
	}
	if s.C > 0 && s.N*s.S < 1 {
		return fmt.Errorf("reduce: N*S = %d, want at least 1 value per channel: %w", s.N*s.S, ErrShape)
	}
	if len(x) != n {
		return fmt.Errorf("reduce: len(x) = %d, want N*C*S = %d: %w", len(x), n, ErrLength)
	}
	if mean != nil && len(mean) != s.C {
		return fmt.Errorf("reduce: len(mean) = %d, want C = %d: %w", len(mean), s.C, ErrLength)
	}
	if variance != nil && len(variance) != s.C {
		return fmt.Errorf("reduce: len(variance) = %d, want C = %d: %w", len(variance), s.C, ErrLength)
	}
	return nil
}

// product returns a*b*c for non-negative a, b, c, and false when it
// overflows int.
func product(a, b, c int) (int, bool) {
	hi, ab := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || ab > uint64(maxInt) {
		return 0, false
	}
	hi, abc := bits.Mul64(ab, uint64(c))
	if hi != 0 || abc > uint64(maxInt) {
		return 0, false
	}
	return int(abc), true
}

const maxInt = int(^uint(0) >> 1)

// Product returns N*C*S and whether it fits in an int (all non-negative).
func Product(n, c, s int) (int, bool) { return product(n, c, s) }

// moments fills mean and variance (float64, length C) for every channel.
func moments(w *workspace, x []float32, s Shape, mean, variance []float64, run Runner) {
	if s.C == 0 || s.M() == 0 {
		return
	}
	w.begin(run, s)
	w.x, w.mean, w.variance = x, mean, variance
	w.slabStats()
}
