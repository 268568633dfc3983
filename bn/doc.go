// Package bn is batch normalization for float32 batches on CPUs: training
// forward, inference and backward, in channels-first (NC, NCL, NCHW, NCDHW)
// and channels-last (NLC, NHWC, NDHWC) layouts, on AVX-512, AVX2 or pure Go
// kernels chosen at run time, all giving the same bits.
//
// # Semantics (PyTorch's convention)
//
// For each channel c, over its M = N*S values:
//
//	mean   = sum(x)/M
//	var    = sum((x - mean)^2)/M               biased: used to normalize
//	invstd = 1/sqrt(var + eps)                 0 where var + eps is 0
//	y      = (x - mean)*invstd*gamma + beta
//
// Train updates the running statistics, when given, with Momentum as the
// weight of the new value and the unbiased variance:
//
//	RunningMean = (1 - Momentum)*RunningMean + Momentum*mean
//	RunningVar  = (1 - Momentum)*RunningVar  + Momentum*var*M/(M-1)
//
// Infer uses RunningMean and RunningVar instead of the batch's statistics.
// Backward computes, with xhat = (x - mean)*invstd,
//
//	dbeta  = sum(dy)
//	dgamma = sum(dy*xhat)
//	dx     = gamma*invstd/M*(M*dy - dbeta - xhat*dgamma)
//
// # Accuracy
//
// Statistics are one-pass shifted sums with float64 flushes (see package
// reduce for the exact order), exact to a few float32 ulps on any data,
// including a large common offset. y is computed as
// ((x - hi) - lo)*a + beta with the mean carried as the float32 pair
// hi + lo, never as the folded x*a + b, which loses about 0.03 at an offset
// of 1e6. Backward takes st.Mean as the float32 rounding of the batch mean
// and corrects for that rounding with the residual sum(x - st.Mean) of its
// own reduction; st.InvStd is used as given.
//
// # Decisions where the contract is silent
//
//   - Backward is training-mode backward, so it also needs M >= 2.
//   - Two outputs may never overlap, not even as the very same slice; an
//     output may be the very same slice as an input of the same length (y
//     and x; dx and dy or x; a per-channel output and Gamma, say). Per-channel
//     outputs are written after everything they depend on has been read.
//   - In Train each Stats field may be nil (not written); a running
//     statistic that is nil is not updated, the other one still is.
//   - Infer checks its arguments, running statistics included, even for a
//     zero-size batch, and then does nothing.
//   - Extreme but finite data take a float64 path (shared by every
//     implementation, so the bits still agree): a channel whose values are
//     so far apart that the float32 squares overflow (more than about
//     1.8e19), a Train channel whose variance is below 2^-100 while Eps is
//     below 2^-80 (its squares may have underflowed), and a Backward
//     channel whose sums overflow or whose invstd is above 2^50 or below
//     2^-120. With ordinary data and Eps >= 1e-10 none of this runs. A
//     variance too large for float32 (above 3.4e38) is reported as +Inf.
//   - Backward computes dx as (dy*k1 - k2) - t*k3 with k1 = gamma*invstd, so
//     it overflows only where dx itself does.
//   - NaN results are NaN in every implementation, but which NaN (payload,
//     sign) is not specified: x86 returns the first operand's NaN, and Go
//     does not fix the operand order of its float adds.
//
// # Errors
//
// Every bad argument returns an error before anything is written; it wraps
// one of the Err* sentinels (errors.Is) and its text names the argument and
// the numbers, e.g. "bn: len(x) = 10, want N*C*S = 12".
//
// # Implementations and determinism
//
// Impls lists the implementations this CPU runs, fastest first (avx512,
// avx2, generic); Use switches the whole process; SIMDBN_IMPL=name does it
// at start-up. Results are bit-identical across implementations and runs.
// Calls allocate nothing once warm, keep no slice after they return, and
// calls with distinct outputs may run from many goroutines at once.
//
// # Threads
//
// A call runs on the calling goroutine unless BatchNorm.Workers is above 1
// (a process-wide pool of that many goroutines, the caller included, see
// Pool) and the batch has at least SplitMin values (SplitMinBackward for
// Backward), or BatchNorm.Runner is set (a framework's own pool, used for
// every call). Work is cut at bounds fixed by the shape alone and partial
// sums are added in a fixed order, so the bits are the same for every
// worker count. Pool workers poll for about 2 milliseconds after a call
// before they sleep, so that back-to-back calls do not pay for waking
// threads; a call whose helpers are still asleep when the caller has
// claimed every task does not wait for them.
package bn
