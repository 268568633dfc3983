package reduce

import "sync"

// workspace is the scratch memory of one call. Workspaces are pooled, so a
// warm call allocates nothing; no call keeps one after it returns.
type workspace struct {
	acc64         []float64
	sum64, sq64   []float64
	mean64, var64 []float64
	inv64, aux64  []float64
	piv, piv2     []float32
	par           []float32
	cfAcc         [3 * lanes]float64
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

func getWorkspace() *workspace  { return workspaces.Get().(*workspace) }
func putWorkspace(w *workspace) { workspaces.Put(w) }

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

func (w *workspace) acc(n int) []float64 { return grow64(&w.acc64, n) }
func (w *workspace) sums(C int) (sum, sq []float64) {
	return grow64(&w.sum64, C), grow64(&w.sq64, C)
}
func (w *workspace) pivots(C int) []float32  { return grow32(&w.piv, C) }
func (w *workspace) pivots2(C int) []float32 { return grow32(&w.piv2, C) }
func (w *workspace) params(n int) []float32  { return grow32(&w.par, n) }
func (w *workspace) moments(C int) (mean, variance, inv []float64) {
	return grow64(&w.mean64, C), grow64(&w.var64, C), grow64(&w.inv64, C)
}
