package reduce

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// ErrImpl is wrapped by the error of Use for an unknown or unsupported
// implementation name.
var ErrImpl = errors.New("unknown or unsupported implementation")

// ntAlign is the alignment the NT kernels need of each output run or row.
const ntAlign = asm.NTAlign

// EnvImpl is the environment variable read once at start-up: when it names
// an implementation this CPU runs (SIMDBN_IMPL=avx2, SIMDBN_IMPL=generic),
// that one is used instead of the fastest. A name this CPU does not run is
// ignored: a process must not fail to start over a tuning switch.
const EnvImpl = "SIMDBN_IMPL"

// kernels is one implementation: a full set of kernels with the signatures
// and the exact results of package fallback.
type kernels struct {
	name            string
	statsCF         func(acc []float64, x []float32, nruns, runLen, stride, group int, pivot float32)
	statsCL         func(acc []float64, x []float32, rows, C, ld int, pivot, tmp []float32)
	backwardCF      func(acc []float64, dy, x []float32, nruns, runLen, stride, group int, mean float32)
	backwardCL      func(acc []float64, dy, x []float32, rows, C, ld int, mean, tmp []float32)
	applyCF         func(y, x []float32, n, c, s, stride int, p []float32)
	applyCL         func(y, x []float32, rows, C, ld int, p []float32)
	backwardApplyCF func(dx, dy, x []float32, n, c, s, stride int, p []float32)
	backwardApplyCL func(dx, dy, x []float32, rows, C, ld int, p []float32)

	// Forms of the channels-last reductions that prefetch one 128-row
	// block ahead, for batches that come from memory: same bits.
	statsCLPrefetch    func(acc []float64, x []float32, rows, C, ld int, pivot, tmp []float32)
	backwardCLPrefetch func(acc []float64, dy, x []float32, rows, C, ld int, mean, tmp []float32)

	// Forms of the channels-last reductions with wider chunks, for
	// batches in cache: same bits.
	statsCLCached    func(acc []float64, x []float32, rows, C, ld int, pivot, tmp []float32)
	backwardCLCached func(acc []float64, dy, x []float32, rows, C, ld int, mean, tmp []float32)

	// Multi-channel forms of the channels-first reductions: one call per
	// slab of a channel group, each channel's lanes reduced in the kernel.
	statsCFChans    func(out, acc []float64, x []float32, nch, chStride, nruns, runLen, stride, group int, pivot []float32)
	backwardCFChans func(out, acc []float64, dy, x []float32, nch, chStride, nruns, runLen, stride, group int, mean []float32)
	// The same given a slab a block of runs at a time, each channel's
	// lanes carried in memory from one call to the next (chansCF).
	statsCFCarry    func(out, acc []float64, part, x []float32, nch, chStride, nruns, runLen, stride, group, phase, end int, pivot []float32)
	backwardCFCarry func(out, acc []float64, part, dy, x []float32, nch, chStride, nruns, runLen, stride, group, phase, end int, mean []float32)
	// Two runs pair values apart in lockstep, each with its own lanes,
	// whole vectors only (fallback.BackwardCFPair).
	backwardCFPair func(acc []float64, dy, x []float32, n, pair int, mean float32)

	// Non-temporal forms of the element-wise kernels: same bits; every run
	// or row of their output starts ntAlign bytes aligned.
	applyCFNT         func(y, x []float32, n, c, s, stride int, p []float32)
	applyCLNT         func(y, x []float32, rows, C, ld int, p []float32)
	backwardApplyCFNT func(dx, dy, x []float32, n, c, s, stride int, p []float32)
	backwardApplyCLNT func(dx, dy, x []float32, rows, C, ld int, p []float32)
	// Two channels-first blocks pair values apart in lockstep, whole lines
	// only (fallback.ApplyCFPair, fallback.BackwardApplyCFPair).
	applyCFNTPair         func(y, x []float32, n, c, s, stride, pair int, p []float32)
	backwardApplyCFNTPair func(dx, dy, x []float32, n, c, s, stride, pair int, p []float32)
	// Four blocks pair values apart in lockstep (fallback.ApplyCFQuad).
	applyCFNTQuad func(y, x []float32, n, c, s, stride, pair int, p []float32)

	// The statistics of one channels-first run and the non-temporal
	// normalization of another in one loop (fallback.StatsApplyCF).
	statsApplyCFNT func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32)
	// The same on two stretches pair values apart in lockstep, whole
	// lines only (fallback.StatsApplyCFPair).
	statsApplyCFNTPair func(acc []float64, x []float32, n, pair int, pivot float32, y, xa []float32, p []float32)
	// StatsApplyCF with ordinary stores, for outputs through the cache.
	statsApplyCF func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32)
	// Backward's sums of one channels-first run and dx of another in one
	// loop, ordinary stores (fallback.BackwardSumsApplyCF).
	backwardSumsApplyCF func(acc []float64, dy, x []float32, mean float32, dx, dya, xa []float32, p []float32)

	// Per-channel float64 work of a row-major Train (fallback.TrainParamsRows).
	trainParamsRows func(sum, sq, inv []float64, piv, gamma, beta, hi, lo, a, b []float32, m, eps float64, tiny bool) bool
	// Per-channel float64 work of a row-major Backward (fallback.BackParamsRows).
	backParamsRows func(sdy, dot, res, dgamma []float64, invstd, gamma, lo, k2, k3, k1 []float32, m float64) bool
	// A channels-last slab's phase lanes added into per-channel totals
	// (fallback.AddPhases).
	addPhases func(t, a []float64, stride int)
	// Each channel's inference scale gamma/sqrt(variance + eps)
	// (fallback.InferScale).
	inferScale func(a, gamma, variance []float32, eps float64)
}

var generic = &kernels{
	name:            "generic",
	statsCF:         fallback.StatsCF,
	statsCL:         fallback.StatsCL,
	backwardCF:      fallback.BackwardCF,
	backwardCL:      fallback.BackwardCL,
	applyCF:         fallback.ApplyCF,
	applyCL:         fallback.ApplyCL,
	backwardApplyCF: fallback.BackwardApplyCF,
	backwardApplyCL: fallback.BackwardApplyCL,
	statsCFChans:    fallback.StatsCFChans,
	backwardCFChans: fallback.BackwardCFChans,
	statsCFCarry:    fallback.StatsCFCarry,
	backwardCFCarry: fallback.BackwardCFCarry,
	backwardCFPair:  fallback.BackwardCFPair,

	statsCLPrefetch:    fallback.StatsCL,
	backwardCLPrefetch: fallback.BackwardCL,
	statsCLCached:      fallback.StatsCL,
	backwardCLCached:   fallback.BackwardCL,

	applyCFNT:         fallback.ApplyCF,
	applyCLNT:         fallback.ApplyCL,
	backwardApplyCFNT: fallback.BackwardApplyCF,
	backwardApplyCLNT: fallback.BackwardApplyCL,

	applyCFNTPair:         fallback.ApplyCFPair,
	backwardApplyCFNTPair: fallback.BackwardApplyCFPair,
	applyCFNTQuad:         fallback.ApplyCFQuad,

	trainParamsRows:     fallback.TrainParamsRows,
	backParamsRows:      fallback.BackParamsRows,
	statsApplyCFNT:      fallback.StatsApplyCF,
	statsApplyCFNTPair:  fallback.StatsApplyCFPair,
	statsApplyCF:        fallback.StatsApplyCF,
	backwardSumsApplyCF: fallback.BackwardSumsApplyCF,
	addPhases:           fallback.AddPhases,
	inferScale:          fallback.InferScale,
}

// available lists the implementations this CPU runs, fastest first; generic
// is always last.
var available = buildAvailable()

var active atomic.Pointer[kernels]

func init() {
	active.Store(available[0])
	if name := os.Getenv(EnvImpl); name != "" {
		if k := lookup(name); k != nil {
			active.Store(k)
		}
	}
}

func buildAvailable() []*kernels {
	var list []*kernels
	for _, im := range asm.Impls() {
		if !im.Available {
			continue
		}
		list = append(list, fromAsm(im))
	}
	return append(list, generic)
}

// fromAsm turns an asm tier into a kernel set (asm's tests check that a
// tier has every kernel).
func fromAsm(im asm.Impl) *kernels {
	return &kernels{
		name:                  im.Name,
		statsCF:               im.StatsCF,
		statsCL:               im.StatsCL,
		backwardCF:            im.BackwardCF,
		backwardCL:            im.BackwardCL,
		applyCF:               im.ApplyCF,
		applyCL:               im.ApplyCL,
		backwardApplyCF:       im.BackwardApplyCF,
		backwardApplyCL:       im.BackwardApplyCL,
		statsCFChans:          im.StatsCFChans,
		backwardCFChans:       im.BackwardCFChans,
		statsCFCarry:          im.StatsCFCarry,
		backwardCFCarry:       im.BackwardCFCarry,
		backwardCFPair:        im.BackwardCFPair,
		statsCLPrefetch:       im.StatsCLPrefetch,
		backwardCLPrefetch:    im.BackwardCLPrefetch,
		statsCLCached:         im.StatsCLCached,
		backwardCLCached:      im.BackwardCLCached,
		applyCFNT:             im.ApplyCFNT,
		applyCLNT:             im.ApplyCLNT,
		backwardApplyCFNT:     im.BackwardApplyCFNT,
		backwardApplyCLNT:     im.BackwardApplyCLNT,
		applyCFNTPair:         im.ApplyCFNTPair,
		backwardApplyCFNTPair: im.BackwardApplyCFNTPair,
		applyCFNTQuad:         im.ApplyCFNTQuad,
		trainParamsRows:       im.TrainParamsRows,
		backParamsRows:        im.BackParamsRows,
		statsApplyCFNT:        im.StatsApplyCFNT,
		statsApplyCFNTPair:    im.StatsApplyCFNTPair,
		statsApplyCF:          im.StatsApplyCF,
		backwardSumsApplyCF:   im.BackwardSumsApplyCF,
		addPhases:             im.AddPhases,
		inferScale:            im.InferScale,
	}
}

func lookup(name string) *kernels {
	for _, k := range available {
		if k.name == name {
			return k
		}
	}
	return nil
}

// Impls returns the names of the implementations this CPU runs, fastest
// first: some of "avx512", "avx2", and always "generic" last.
func Impls() []string {
	names := make([]string, len(available))
	for i, k := range available {
		names[i] = k.name
	}
	return names
}

// Impl returns the name of the implementation in use.
func Impl() string { return active.Load().name }

// Use selects the implementation for the whole process and returns a
// function that restores the previous one. It is meant for start-up and for
// tests that do not run in parallel with other users of the package.
func Use(name string) (restore func(), err error) {
	k := lookup(name)
	if k == nil {
		return nil, fmt.Errorf("reduce: Use(%q): %w (this CPU runs %v)", name, ErrImpl, Impls())
	}
	prev := active.Swap(k)
	return func() { active.Store(prev) }, nil
}

func current() *kernels { return active.Load() }
