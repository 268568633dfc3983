package bench

import (
	"math"
	"slices"
	"time"
)

// Result is the outcome of Compare.
type Result struct {
	Time     time.Duration // median over samples of the kernel's time per call (fastest block)
	CopyTime time.Duration // the same for the reference (copy)
	Ratio    float64       // median over the samples of kernel time / reference time
	Samples  int
	Reps     int // kernel calls per sample
	CopyReps int // reference calls per sample
}

// Reps is the number of calls of f that take about target, at least 1.
// It times a few calls of f (f should be warm).
func Reps(f func(), target time.Duration) int {
	const maxReps = 1 << 20
	n := 1
	for {
		t0 := time.Now()
		for range n {
			f()
		}
		d := time.Since(t0)
		if d >= target/4 || n >= maxReps {
			per := d / time.Duration(n)
			if per <= 0 {
				return maxReps
			}
			return int(min(max(int64(target/per), 1), maxReps))
		}
		n *= 4
	}
}

// Compare times kernel against ref interleaved in this process: each
// sample runs ref for about target and kernel for about target (or one
// call a block, if a call takes longer than a block), in alternating
// blocks of about a millisecond (see blocks), takes each side's fastest
// block, and the ratio of their times per call. Machines are shared and
// noisy, so the two sides of each ratio see the same conditions; the
// result is the median over samples.
func Compare(kernel, ref func(), samples int, target time.Duration) Result {
	samples = max(samples, 1)
	kernel()
	ref()
	rk, rc := Reps(kernel, target), Reps(ref, target)
	ratios := make([]float64, samples)
	tk := make([]float64, samples)
	tc := make([]float64, samples)
	rounds, bk, bc := blocks(rk, rc, target)
	// A side's time in a sample is its fastest block: a block that lost
	// the CPU to another process says nothing about either side.
	for i := range samples {
		sk, sc := math.Inf(1), math.Inf(1)
		for j := range rounds {
			if (i+j)%2 == 0 {
				sc = min(sc, timeReps(ref, bc))
				sk = min(sk, timeReps(kernel, bk))
			} else {
				sk = min(sk, timeReps(kernel, bk))
				sc = min(sc, timeReps(ref, bc))
			}
		}
		tk[i], tc[i] = sk, sc
		ratios[i] = tk[i] / tc[i]
	}
	return Result{
		Time:     time.Duration(Median(tk)),
		CopyTime: time.Duration(Median(tc)),
		Ratio:    Median(ratios),
		Samples:  samples,
		Reps:     bk * rounds,
		CopyReps: bc * rounds,
	}
}

// blocks splits a sample of rk kernel calls and rc reference calls, each
// side about target long, into rounds blocks of bk and bc calls.
//
// Each sample alternates blocks of about a millisecond (at least one call)
// of ref and kernel, so that the load of a shared machine falls on both
// sides of the ratio alike. The number of blocks and their length follow
// the reference alone, so that ref is timed the same way beside every
// kernel: a side's time is its fastest block, and the fastest of three
// blocks of four calls is slower than the fastest of ten single calls
// (bench/README.md has the numbers). A kernel slower than a block runs one
// call a block and makes the sample longer.
func blocks(rk, rc int, target time.Duration) (rounds, bk, bc int) {
	rounds = min(max(int(target/time.Millisecond), 1), rc)
	return rounds, max(rk/rounds, 1), rc / rounds
}

// timeReps returns the mean time of one call of f over n calls, in ns.
func timeReps(f func(), n int) float64 {
	t0 := time.Now()
	for range n {
		f()
	}
	return float64(time.Since(t0)) / float64(n)
}

// Median returns the median of v (the mean of the middle two for an even
// count); v is sorted in place.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	h := len(v) / 2
	if len(v)%2 == 1 {
		return v[h]
	}
	return (v[h-1] + v[h]) / 2
}

// GBps is bytes per duration in GB/s (10^9 bytes per second).
func GBps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / d.Seconds() / 1e9
}
