package asm

// Impl is one instruction-set tier of kernels. A nil function means the
// tier has no kernel of its own for it (package reduce then uses the
// fallback one); a finished tier has none nil.
type Impl struct {
	Name      string   // "avx512", "avx2"
	Available bool     // this CPU and OS run it (GODEBUG cpu.* switches honoured)
	Requires  []string // CPU features its instructions need, as avo's "// Requires:" lines name them

	StatsCF         func(acc []float64, x []float32, nruns, runLen, stride, group int, pivot float32)
	StatsCL         func(acc []float64, x []float32, rows, C int, pivot []float32)
	BackwardCF      func(acc []float64, dy, x []float32, nruns, runLen, stride, group int, mean float32)
	BackwardCL      func(acc []float64, dy, x []float32, rows, C int, mean []float32)
	ApplyCF         func(y, x []float32, n, c, s, stride int, p []float32)
	ApplyCL         func(y, x []float32, rows, C int, p []float32)
	BackwardApplyCF func(dx, dy, x []float32, n, c, s, stride int, p []float32)
	BackwardApplyCL func(dx, dy, x []float32, rows, C int, p []float32)
}

// Impls returns the tiers compiled into this build, fastest first,
// including those this CPU cannot run (Available false). It returns nothing
// under purego, noasm, gccgo or on other architectures.
func Impls() []Impl { return impls() }
