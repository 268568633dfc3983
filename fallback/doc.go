// Package fallback holds the pure-Go kernels of simdbn. They run on every
// platform, and they are the exact reference for the generated AVX2 and
// AVX-512 kernels in package asm: every kernel there has the same signature
// and must produce the same bits as its namesake here.
//
// Callers normally go through package reduce, which chooses an
// implementation, cuts the work into the calls described below and combines
// their float64 results. The kernels check nothing: the caller guarantees
// the lengths stated in each doc comment.
//
// # Arithmetic
//
// Every kernel uses float32 operations with round-to-nearest-even, one
// rounding per operation, in the order written in its doc comment. There is
// no fused multiply-add anywhere: an explicit float32(...) conversion around
// each product keeps the Go compiler from fusing it with the following add
// (it may fuse across statements otherwise, on amd64 v3 and on arm64). The
// SIMD kernels reproduce this with separate multiply and add instructions.
//
// # Summation order of the reductions
//
// The reductions (StatsCF, StatsCL, BackwardCF, BackwardCL) accumulate
// float32 values in a fixed set of float32 lanes, and flush those lanes into
// float64 lanes at fixed points. Flushing means: for every lane l,
// acc64[l] += float64(acc32[l]), then acc32[l] = 0. The float64 lanes are
// the kernel's output; the caller reduces them (see package reduce).
//
// Channels first (StatsCF, BackwardCF): a call covers nruns runs of runLen
// contiguous values, run r starting at x[r*stride]. The value at offset s
// of a run goes to float32 lane s % Lanes (Lanes = 32), in increasing s and
// then increasing r; each lane accumulates in that order. A run is cut into
// segments of FlushCF (1024) values; the lanes are flushed after every
// segment that does not end its run, and after the last segment of run r
// when (r+1) % group == 0 or r == nruns-1. (reduce passes group = 1 when
// runLen > FlushCF and group = FlushCF/runLen otherwise, so no float32 lane
// ever takes more than FlushCF/Lanes = 32 additions between flushes.)
//
// StatsCFChans and BackwardCFChans do the same for several channels in one
// call, each channel from float64 lanes set to 0, and reduce each
// channel's lanes to one number by the fixed halving tree of SumLanes.
// BackwardCFPair is BackwardCF on two runs, each with its own lanes,
// which its SIMD forms walk in lockstep.
// StatsCFCarry and BackwardCFCarry give the same numbers with the runs
// handed over a block at a time, each channel's float32 and float64 lanes
// kept by the caller between the calls: the order of the additions does
// not depend on the blocks.
//
// Channels last (StatsCL, BackwardCL): a call covers rows rows of C values,
// ld apart; value (r, c) is x[r*ld+c] (ld = C for a whole batch, ld > C for
// a block of its channels). Channel c has Phases (4) float32 lanes; row r
// goes to lane r % Phases of its channel, rows in increasing order. The
// lanes are flushed after every FlushRowsCL (128) rows counted from the
// start of the call, and after the last row. The float64 lanes are laid out
// phase-major: acc64[k*Phases*C + u*C + c] for quantity k, phase u,
// channel c, and start at 0 in every call (whatever acc held before).
//
// Lanes of a masked or partial vector that hold no value take no part: a
// SIMD kernel must leave their accumulators unchanged (adding +0 to a lane
// is allowed, since a lane sum can never be -0).
//
// # Element-wise kernels
//
// ApplyCF/ApplyCL compute y = ((x - hi) - lo)*a + b, and BackwardApplyCF/
// BackwardApplyCL compute dx = (dy*k1 - k2) - ((x - hi) - lo)*k3, with
// per-channel constants. Each element is computed independently, so the
// output may be the very same slice as an input. StatsApplyCF is StatsCF
// over one run and ApplyCF over another, which its SIMD forms run in one
// loop; StatsApplyCFPair is StatsApplyCF on two stretches of memory, each
// with its own lanes, which its SIMD forms walk in lockstep.
// BackwardSumsApplyCF is the same for Backward: BackwardCF over one run
// and BackwardApplyCF over another.
//
// # Per-channel kernels
//
// TrainParamsRows and BackParamsRows turn a row-major Train's or
// Backward's float64 sums into each channel's statistics, gradients and
// kernel constants, in float64, one channel at a time: no sums across
// channels, so a SIMD kernel only has to do the same correctly rounded
// operations lane by lane. AddPhases adds the Phases float64 lanes of a
// channels-last reduction into per-channel totals, and InferScale computes
// Infer's per-channel scale gamma/sqrt(variance + eps), one channel at a
// time too.
package fallback

// The constants of the summation order; package asm and reduce use the same
// values.
const (
	// Lanes is the number of float32 lanes of a channels-first reduction.
	Lanes = 32
	// FlushCF is the segment length, in values, after which the
	// channels-first lanes are flushed into float64.
	FlushCF = 1024
	// Phases is the number of float32 lanes per channel of a channels-last
	// reduction (row r goes to lane r % Phases).
	Phases = 4
	// FlushRowsCL is the number of rows after which the channels-last lanes
	// are flushed into float64.
	FlushRowsCL = 128
	// ParamStrideCF is the number of float32 parameters per channel in the
	// parameter slice of the channels-first element-wise kernels.
	ParamStrideCF = 8
)
