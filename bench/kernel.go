package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/simdbn/simdbn/bn"
	"github.com/simdbn/simdbn/reduce"
)

// Impls returns the implementations to measure: bn.Impls() (fastest
// first, generic last) followed by NaiveImpl.
func Impls() []string { return append(slices.Clone(bn.Impls()), NaiveImpl) }

// Buffers are the tensors every Kernel slices its operands from, allocated
// once at the largest size so that nothing is allocated per case. X and DY
// hold N(0,1) values from a fixed seed; Y and DX are outputs.
type Buffers struct {
	X, Y, DY, DX []float32
}

// NewBuffers allocates and fills buffers of n elements each.
func NewBuffers(n int) *Buffers {
	b := &Buffers{
		X:  make([]float32, n),
		Y:  make([]float32, n),
		DY: make([]float32, n),
		DX: make([]float32, n),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b.X {
		b.X[i] = float32(r.NormFloat64())
	}
	for i := range b.DY {
		b.DY[i] = float32(r.NormFloat64())
	}
	// Touch the outputs so that no page fault lands in a timed loop.
	for i := range b.Y {
		b.Y[i], b.DX[i] = 1, 1
	}
	return b
}

// Copy returns the reference operation for a tensor of n elements:
// copy(Y[:n], X[:n]).
func (b *Buffers) Copy(n int) func() {
	dst, src := b.Y[:n], b.X[:n]
	return func() { copy(dst, src) }
}

// SetWorkers sets the layer's worker option (BatchNorm.Workers) to n
// goroutines and returns the count in effect (at least 1; 1 keeps each call
// on the calling goroutine).
func SetWorkers(b *bn.BatchNorm, n int) int {
	n = max(n, 1)
	b.Workers = n
	return n
}

// Kernel is one measured case: an op on one shape and layout by one
// implementation, with its operands ready. NewKernel selects the
// implementation for the whole process (bn.Use); Close restores the
// previous one.
type Kernel struct {
	Op      Op
	Dims    Dims
	Layout  bn.Layout
	Impl    string
	Bytes   int64 // bytes charged per call (see the package documentation)
	Workers int   // goroutines in effect (1 for naive-f64, stats, stats2 and batches below bn.SplitMin)

	run     func() error
	restore func()
}

// NewKernel prepares op on the first d.Len() elements of buf. For backward
// it first runs Train to get the saved statistics. It makes one call, so
// that errors show here and the call is warm.
func NewKernel(buf *Buffers, op Op, d Dims, l bn.Layout, impl string, goroutines int) (*Kernel, error) {
	n := d.Len()
	if n > len(buf.X) {
		return nil, fmt.Errorf("shape %s needs %d elements, buffers hold %d", d.Name, n, len(buf.X))
	}
	k := &Kernel{Op: op, Dims: d, Layout: l, Impl: impl, Bytes: op.BytesPerElem() * int64(n)}
	if impl != NaiveImpl {
		restore, err := bn.Use(impl)
		if err != nil {
			return nil, err
		}
		k.restore = restore
	}
	x, y, dy, dx := buf.X[:n], buf.Y[:n], buf.DY[:n], buf.DX[:n]
	s := d.Shape(l)
	layer := bn.New(d.C)
	k.Workers = SetWorkers(layer, goroutines)
	least := bn.SplitMin
	if op == Backward {
		least = bn.SplitMinBackward
	}
	if impl == NaiveImpl || op == Stats || op == Stats2 || n < least {
		// The handwritten loops and reduce.MeanVar run on the calling
		// goroutine, and so does a layer's call on a batch below its split
		// size.
		k.Workers = 1
	}
	st := &bn.Stats{Mean: make([]float32, d.C), InvStd: make([]float32, d.C)}
	dgamma, dbeta := make([]float32, d.C), make([]float32, d.C)
	acc := make([]float64, NaiveScratch(d.C))

	naive := impl == NaiveImpl
	switch op {
	case Train:
		if naive {
			k.run = func() error { NaiveTrain(layer, y, x, s, st, acc); return nil }
		} else {
			k.run = func() error { return layer.Train(y, x, s, st) }
		}
	case Infer:
		if naive {
			k.run = func() error { NaiveInfer(layer, y, x, s, acc); return nil }
		} else {
			k.run = func() error { return layer.Infer(y, x, s) }
		}
	case Backward:
		if err := layer.Train(y, x, s, st); err != nil {
			k.Close()
			return nil, err
		}
		if naive {
			k.run = func() error { NaiveBackward(layer, dx, dgamma, dbeta, dy, x, s, st, acc); return nil }
		} else {
			k.run = func() error { return layer.Backward(dx, dgamma, dbeta, dy, x, s, st) }
		}
	case Stats:
		mean, variance := make([]float32, d.C), make([]float32, d.C)
		m64, v64 := make([]float64, d.C), make([]float64, d.C)
		if naive {
			k.run = func() error { NaiveStats(m64, v64, x, s); return nil }
		} else {
			k.run = func() error { return reduce.MeanVar(mean, variance, x, s) }
		}
	case Stats2:
		mean, variance := make([]float32, d.C), make([]float32, d.C)
		m64, v64 := make([]float64, d.C), make([]float64, d.C)
		if naive {
			k.run = func() error { NaiveStats(m64, v64, x, s); NaiveStats(m64, v64, dy, s); return nil }
		} else {
			k.run = func() error {
				if err := reduce.MeanVar(mean, variance, x, s); err != nil {
					return err
				}
				return reduce.MeanVar(mean, variance, dy, s)
			}
		}
	default:
		k.Close()
		return nil, fmt.Errorf("unknown op %q", op)
	}
	if err := k.run(); err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// Run makes one call of the op.
func (k *Kernel) Run() error { return k.run() }

// Close restores the implementation that was in use before NewKernel.
func (k *Kernel) Close() {
	if k.restore != nil {
		k.restore()
		k.restore = nil
	}
}
