package reduce

import "sync"

// workspace is the scratch memory and state of one call. Workspaces are
// pooled, so a warm call allocates nothing; no call keeps one after it
// returns.
type workspace struct {
	call
	task func(int) // w.runPart, bound once

	acc64, part64 []float64
	slabNum64     []float64
	sum64, sq64   []float64
	aux64         []float64
	mean64, var64 []float64
	inv64         []float64
	pivBuf, par32 []float32
	parCols32     []float32
	tmp32         []float32
	lanes32       []float32
	ext           []bool
	slowBuf       []bool
	xmean64       []float64
	xdot64        []float64
	xinv64        []float64
	tot64         []float64
	ones, zeros   []float32 // read only: gamma and beta where the caller has none
}

var workspaces = sync.Pool{New: func() any {
	w := new(workspace)
	w.task = w.runPart
	return w
}}

func getWorkspace() *workspace { return workspaces.Get().(*workspace) }

func putWorkspace(w *workspace) {
	w.call = call{} // keep no slice of the caller's
	workspaces.Put(w)
}

func grow64(b *[]float64, n int) []float64 {
	if cap(*b) < n {
		*b = make([]float64, n)
	}
	return (*b)[:n]
}

func grow32(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	return (*b)[:n]
}

// gammaBeta returns w.gamma and w.beta, or C ones and C zeros in their
// place when they are nil.
func (w *workspace) gammaBeta(C int) (gamma, beta []float32) {
	gamma, beta = w.gamma, w.beta
	if gamma == nil {
		if cap(w.ones) < C {
			w.ones = make([]float32, C)
			for i := range w.ones {
				w.ones[i] = 1
			}
		}
		gamma = w.ones[:C]
	}
	if beta == nil {
		if cap(w.zeros) < C {
			w.zeros = make([]float32, C)
		}
		beta = w.zeros[:C]
	}
	return gamma, beta
}

func (w *workspace) sums(C int) (sum, sq []float64) {
	return grow64(&w.sum64, C), grow64(&w.sq64, C)
}

// flags returns the per-channel extreme flags, all false.
func (w *workspace) flags(C int) []bool {
	if cap(w.ext) < C {
		w.ext = make([]bool, C)
	}
	w.ext = w.ext[:C]
	clear(w.ext)
	return w.ext
}

// unitFlags returns n flags, all false.
func (w *workspace) unitFlags(n int) []bool {
	if cap(w.slowBuf) < n {
		w.slowBuf = make([]bool, n)
	}
	w.slowBuf = w.slowBuf[:n]
	clear(w.slowBuf)
	return w.slowBuf
}

// totals sets up the per-channel totals of a pipelined call.
func (w *workspace) totals(C int) {
	t := grow64(&w.tot64, 3*C)
	w.sum, w.sq, w.aux = t[:C], t[C:2*C], t[2*C:]
	w.piv = grow32(&w.pivBuf, C)
}

func (w *workspace) perChannel(C int) (a, b, c []float64) {
	return grow64(&w.mean64, C), grow64(&w.var64, C), grow64(&w.inv64, C)
}
