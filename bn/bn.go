package bn

import (
	"github.com/simdbn/simdbn/reduce"
)

// Layout says where the channel axis of a batch lies.
type Layout = reduce.Layout

const (
	// ChannelsFirst (the zero value): element (n, c, s) at (n*C + c)*S + s,
	// as in NC, NCL, NCHW, NCDHW.
	ChannelsFirst = reduce.ChannelsFirst
	// ChannelsLast: element (n, c, s) at (n*S + s)*C + c, as in NLC, NHWC,
	// NDHWC.
	ChannelsLast = reduce.ChannelsLast
)

// Shape names a batch: N samples of C channels of S positions (S = H*W for
// images, D*H*W for volumes, L for sequences, 1 for a plain [N, C] batch),
// in one contiguous slice of N*C*S float32 values.
type Shape = reduce.Shape

// BatchNorm holds the parameters and running statistics of one batch
// normalization layer. Its methods only read it, except that Train updates
// RunningMean and RunningVar.
type BatchNorm struct {
	Gamma, Beta             []float32 // len C; nil means all ones / all zeros
	RunningMean, RunningVar []float32 // len C; Train skips the update when nil, Infer needs them
	Eps                     float32   // finite, >= 0
	Momentum                float32   // in [0, 1]: the weight of the new value

	// Workers, when above 1, spreads each call over that many goroutines
	// of a process-wide pool (Pool(Workers)), if the batch has at least
	// SplitMin values (SplitMinBackward for Backward); 0 or 1, or a
	// smaller batch, keeps the call on the calling goroutine. Results are
	// the same bits for every count.
	Workers int
	// Runner, when not nil, runs each call's tasks instead of Workers: a
	// framework plugs in its own pool here.
	Runner Runner
}

// Runner spreads the tasks of one call over goroutines: Workers says how
// many may run at once, Run(n, task) calls task(0..n-1) and returns when all
// have returned. Implement it to use a framework's own pool.
type Runner = reduce.Runner

// Pool returns the process-wide Runner with the given number of
// goroutines (the caller's included), started on first use; a warm Pool
// starts no goroutine per call and allocates nothing.
func Pool(workers int) Runner { return reduce.Pool(workers) }

// SplitMin and SplitMinBackward are the smallest batches, in values
// (N*C*S), that the Workers option spreads over its pool: Train and Infer
// of fewer values, and Backward of fewer than SplitMinBackward, run on the
// calling goroutine, where handing the call to other cores costs more than
// it saves. A caller's Runner is used for every call, whatever its size.
//
// Measured on this project's 2-vCPU VM (2026-12-07, every operand its own
// allocation, a steady loop of calls, one goroutine against two, one to
// three runs a shape, a cross-core round trip of 0.42-0.49 us): at 64K
// values or fewer (8x64x7x7 to 128x512) two goroutines took 1.1 to 2.9
// times as long as one, in every op and layout; at 100K (8x256x7x7,
// 2x64x28x28 and two more) Backward gained 1.24-1.96x and Train and
// Infer 0.74-1.75x; at 125K (10x256x7x7) Train lost (0.82x channels
// first, 0.92x channels last) while Infer and Backward gained
// 1.09-1.53x; from 128K to 160K (32x64x8x8, 12x256x7x7, 128x1024 and
// three more) channels-first Train was level (0.98-1.11x) and the rest
// gained 1.02-1.79x.
const (
	SplitMin         = 128 << 10
	SplitMinBackward = 96 << 10
)

// runner returns the Runner of a call on a batch of n values: the
// caller's Runner, the pool of Workers when the batch has at least min
// values, or the calling goroutine.
func (b *BatchNorm) runner(n, min int) Runner {
	if b.Runner != nil {
		return b.Runner
	}
	if n < min || b.Workers <= 1 {
		return reduce.Serial
	}
	return poolOf(b.Workers)
}

// poolOf is reduce.Pool (a test counts its calls).
var poolOf = reduce.Pool

// New returns a layer of the given number of channels with PyTorch's
// defaults: Gamma 1, Beta 0, RunningMean 0, RunningVar 1, Eps 1e-5,
// Momentum 0.1.
func New(channels int) *BatchNorm {
	channels = max(channels, 0)
	b := &BatchNorm{
		Gamma:       make([]float32, channels),
		Beta:        make([]float32, channels),
		RunningMean: make([]float32, channels),
		RunningVar:  make([]float32, channels),
		Eps:         1e-5,
		Momentum:    0.1,
	}
	for c := range channels {
		b.Gamma[c] = 1
		b.RunningVar[c] = 1
	}
	return b
}

// Stats is what Train saves for Backward: the batch's mean and invstd.
// Var, when not nil, also receives the biased batch variance. In Train each
// field may be nil (not written) or of length C; Backward needs Mean and
// InvStd.
type Stats struct{ Mean, Var, InvStd []float32 }

// Train normalizes x into y with the batch's statistics, fills st when it
// is not nil, and updates the running statistics when they are not nil.
// y may be the very same slice as x.
func (b *BatchNorm) Train(y, x []float32, s Shape, st *Stats) error {
	if err := b.checkTrain(y, x, s, st); err != nil {
		return err
	}
	a := reduce.TrainArgs{
		Y: y, X: x, Shape: s,
		Gamma: b.Gamma, Beta: b.Beta, Eps: b.Eps, Momentum: b.Momentum,
		RunningMean: b.RunningMean, RunningVar: b.RunningVar,
		Run: b.runner(len(x), SplitMin),
	}
	if st != nil {
		a.Mean, a.Var, a.InvStd = st.Mean, st.Var, st.InvStd
	}
	reduce.Train(&a)
	return nil
}

// Infer normalizes x into y with the running statistics. y may be the very
// same slice as x. A zero-size batch is no error: there is nothing to do.
func (b *BatchNorm) Infer(y, x []float32, s Shape) error {
	if err := b.checkInfer(y, x, s); err != nil {
		return err
	}
	reduce.Infer(&reduce.InferArgs{
		Y: y, X: x, Shape: s,
		Gamma: b.Gamma, Beta: b.Beta, Mean: b.RunningMean, Variance: b.RunningVar,
		Eps: b.Eps, Run: b.runner(len(x), SplitMin),
	})
	return nil
}

// Backward computes the training-mode gradients from the saved statistics
// st of the same batch x: dx always, dgamma and dbeta when not nil. dx may
// be the very same slice as dy or x.
func (b *BatchNorm) Backward(dx, dgamma, dbeta, dy, x []float32, s Shape, st *Stats) error {
	if err := b.checkBackward(dx, dgamma, dbeta, dy, x, s, st); err != nil {
		return err
	}
	reduce.Backward(&reduce.BackwardArgs{
		DX: dx, DY: dy, X: x, Shape: s,
		Mean: st.Mean, InvStd: st.InvStd, Gamma: b.Gamma, Eps: b.Eps,
		DGamma: dgamma, DBeta: dbeta,
		Run: b.runner(len(x), SplitMinBackward),
	})
	return nil
}

// Impls returns the implementations this CPU runs, fastest first: some of
// "avx512", "avx2", and always "generic".
func Impls() []string { return reduce.Impls() }

// Impl returns the name of the implementation in use.
func Impl() string { return reduce.Impl() }

// Use selects an implementation for the whole process and returns a
// function that restores the previous one. All implementations give the
// same bits; Use("generic") avoids the assembly. The environment variable
// SIMDBN_IMPL does the same at start-up.
func Use(name string) (restore func(), err error) {
	for _, n := range reduce.Impls() {
		if n == name {
			return reduce.Use(name)
		}
	}
	return nil, errorf(ErrImpl, "Use(%q): unknown or unsupported implementation, this CPU runs %v", name, reduce.Impls())
}
