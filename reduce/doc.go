// Package reduce computes channel-wise statistics of float32 batches, and
// is the engine behind package bn: it chooses the kernels (AVX-512, AVX2 or
// pure Go), cuts each call into kernel calls, and combines their results in
// a fixed order, so that every implementation, and every number of
// goroutines, gives the same bits.
//
// MeanVar and Moments are the public statistics: per-channel mean and
// biased variance of a batch in either layout, usable without the rest of
// bn (layer, group and instance normalization are the same statistics over
// other groupings: see "Other normalizations" below).
//
// # The statistics, exactly
//
// For each channel c with values v_0 .. v_{M-1} in channel order (sample by
// sample, position by position):
//
//  1. Pivot p: the median of the first three values if all three are finite;
//     otherwise the first finite one of them (the median when there are
//     three); 0 when none of them is finite.
//  2. Shifted sums, in float32 lanes flushed into float64 lanes exactly as
//     package fallback documents (channels first: 32 lanes by position in
//     the run, flushed every 1024 values of a run or every 1024/S runs;
//     channels last: 4 lanes by row, flushed every 128 rows), with
//     d = v - p, S += d, Q += d*d.
//  3. Slabs: the kernel calls cover slabs, fixed by the shape alone.
//     Channels first: slabs of floor(65536/S) whole runs (rounded down to a
//     multiple of the flush group 1024/S when S <= 1024), or, for S > 65536,
//     pieces of 65536 values of one run. Channels last (and channels first
//     with S == 1, which has the same memory order): slabs of
//     128*max(1, 65536/(128*C)) rows. Each slab's float64 lanes start at 0
//     and are reduced to one number: channels first by halving (lane l +=
//     lane l+w for w = 16, 8, 4, 2, 1), channels last as (p0 + p1) + (p2 +
//     p3). The slab numbers are added to the channel's totals in slab order,
//     in float64.
//  4. mean = p + S/M and var = max(0, Q/M - (S/M)^2), in float64.
//  5. If (mean - p)^2 > 8*var (the pivot was more than 2.8 standard
//     deviations off), steps 2 to 4 run again with p = float32(mean).
//  6. If S or Q is not finite although every value is finite (values more
//     than about 1.8e19 apart), mean and var come from a two-pass float64
//     loop instead; so does a channel of Train whose var is below 2^-100
//     while Eps is below 2^-80 (its squares may have underflowed). Such
//     channels are normalized in float64 too.
//
// The backward sums (sum(dy), sum(dy*(x - mean)), sum(x - mean), with the
// saved float32 mean as the shift) follow the same lanes, flushes and slabs.
//
// # Threads
//
// A Runner (Serial, Pool, or a framework's own) runs the units of a call:
// channel groups when there are at least two per worker, otherwise slabs
// (channels first: of 64 channels at a time), ranges of 256 channels for
// the per-channel work of row-major batches (on the calling goroutine up to
// serialChans channels: it costs less than moving the channels' lines
// between cores), channel blocks of a row-major Backward (see Memory
// traffic; unblocked, its rows split, when its x and dy come to at most
// rowSplitBytes per worker), and element-wise chunks (Infer of a
// channels-first batch whose x and y come to at most an L2 per worker runs
// as channel groups, each computing its own channels' parameters:
// inferGroups). Slab results are stored per slab and added in slab order
// after all have run, so the bits do not depend on the Runner (with several
// workers, each row-major slab's worker reduces its phase lanes to the
// slab's numbers itself, so that the goroutine that adds the slabs up reads
// fewer of another core's bytes).
// Pool gives worker w of k the w-th k-th of the units first (the same part
// of a batch on every call, so it stays in that core's cache), then lets
// it steal; its idle workers poll an atomic sequence number for a while
// before they sleep, so that a warm Run reaches them in about one
// core-to-core round trip. Channel groups and blocks write their own
// channels' float32 outputs (statistics, running statistics, gradients),
// so that the caller does not read per-channel values another core wrote.
//
// # Memory traffic
//
// Channels first, Train and Backward process groups of channels whose data
// fits a share of the cache (blockBytes): the statistics of a group are
// read from memory, and its normalization re-reads it from cache. On large
// tensors with runs of pipeMinRun values or more the passes are
// pipelined: the normalization of group g runs interleaved with the
// statistics of group g+1, so that reads and writes stream together
// (shorter runs stay unpipelined, where the reductions take many channels
// per kernel call), and Train's groups are larger (pipeGroupBytes, at most
// 32 channels), so that each sample's part of a group is one long stretch
// of memory; the normalization re-reads them from the last-level cache.
// On cores with 2 MB of L2 or more (as CPUID reports it), the pipelined
// groups are smaller and re-read from L2 instead: half the L2 for Train
// (a sixteenth when its output goes through the cache, and fills L2 too),
// an eighth for Backward's x and dy; there Backward does not pipeline
// channels whose x and dy are more than half the L2 in a batch that the
// last-level cache holds (backUnpiped): two of them do not fit the L2,
// and run back to back each channel's apply re-reads it from L2.
// Train pairs each channel run it normalizes with a run of the next
// group it sums, in one kernel call (StatsApplyCF, with non-temporal
// stores or, when y goes through the cache, ordinary ones): in one loop,
// the core's loads and stores go to memory together, which two calls one
// after the other do not achieve. On runs of whole 64-byte lines it walks
// two samples a whole number of slabs apart in each call
// (StatsApplyCFPair: two streams each way, which one core moves faster
// than one), each sample's runs in lanes of its own and the slab totals
// added in slab order; Backward's pipelined groups with non-temporal
// stores pair the same samples in their apply and their sums
// (BackwardApplyCFPair, BackwardCFPair). With dx through the cache,
// Backward pairs each channel run whose dx it writes with a run of the
// next group it sums, in one kernel call (BackwardSumsApplyCF), as Train
// does; there the apply reads x and dy back from L1 and L2 while the sums
// stream from further out. With non-temporal stores, Train fuses runs of
// fuseMinRun values or more only, and the pipelined apply calls cover
// whole samples of at least pipeApplyElems values together: every call
// of a non-temporal kernel ends with an SFENCE, which costs more than a
// short call gains.
// Backward of a row-major batch with few, wide rows runs
// the same way on blocks of channels over all rows (a block's x and dy fit
// the cache share), the kernels walking the block's part of each row,
// except on cores with 2 MB of L2 or more when x and dy fit the L2 and
// the rows are 1024 channels, or 512 channels and x and dy fill half the
// L2 or more (unblockedBytes, unblockedRows); so
// does Backward of a batch whose x and dy exceed the last-level cache,
// in blocks of about 512 channels whose x and dy fit it (llcBlockC), so
// that the apply re-reads each block from that cache, not from memory.
// Channels-first slabs of a tensor of 4 MiB or more are read in address
// order, one flush unit of every channel of the slab before the next
// (each channel keeping its own float64 lanes), rather than channel by
// channel: runs of one channel lie C*S values apart, and the hardware
// prefetchers restart at each. Runs shorter than 128 values, in batches of
// more than 8 samples, are walked 8 samples at a time instead: every
// channel of the call, then the next 8 samples (carryCF; each channel's
// float32 and float64 lanes wait in memory between the calls). Channel
// groups and the slabs of batches under 4 MiB do so only with more
// samples than a flush group; with fewer, one Chans call per slab keeps
// each channel's lanes in registers. In tensors of 16 MiB or more those
// channel groups hold at least 8 KB of each sample. Row-major slabs of a batch of 8 MiB or more,
// with 64 to 256 channels, are reduced by the Prefetch forms of the
// channels-last kernels (Backward's from a quarter of the last-level
// cache, if that is more), which fetch each line 128 rows before they read
// it (on AVX-512 the chunk walk reads every row of 64 or more channels in
// two passes, which the hardware prefetchers follow poorly). Row-major
// slabs of a batch under 4 MiB, usually in cache, are reduced by the
// Cached forms, whose AVX-512 chunks read 7 or 8 lines of a row per visit
// instead of 4 (rows a multiple of 4 KB apart put a chunk's lines of every
// row in the same few L1 sets); Backward's channel blocks use them only
// for such rows. Outputs of 8 MiB and more that alias no input are
// written with non-temporal stores (channels first: runs that all start
// on a 64-byte boundary; runs of asm.ShortRunMinCF to asm.ShortRunMaxCF-1
// values, which the non-temporal kernels walk sample by sample, each
// sample's runs as one stretch; and, for Backward and Train's fused
// kernel, unaligned runs of 1024 values or more. The head of a run, or of
// a sample's stretch, up to the output's next 64-byte line is stored the
// ordinary way). Those non-temporal element-wise calls walk two stretches
// of memory at once, which one core streams faster than one: channels
// first, whole-batch calls on runs of whole lines take samples i and
// i + N/2 in one loop (pairing); channels last, every call walks the two
// halves of its rows in lockstep. Where it stores the ordinary way
// (smaller outputs, or in place), the channels-first normalization of
// Train and Infer walks runs of asm.ShortRunMinCF to asm.ShortRunMaxCF-1
// values sample by sample too, each whole vector then filling one line.
// None of this changes
// the arithmetic. Rows of more than 1024 channels are normalized in
// column blocks of 512 channels, so that a block's parameters stay in L1.
//
// # Other normalizations
//
// Layer normalization of an [R, D] matrix, group normalization with G
// groups and instance normalization are statistics over contiguous
// stretches: the channels-first case with N = 1, C = R (or N*G, or N*C) and
// S = D (or C/G*S, or S). They can call Moments with such a Shape and get
// the same order and accuracy.
package reduce
