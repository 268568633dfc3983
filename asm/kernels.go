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

	// The element-wise kernels again, with non-temporal stores for full
	// vectors: same bits, but the output bypasses the cache. Every run
	// (channels first) or row (channels last) of the output must start
	// NTAlign bytes aligned.
	ApplyCFNT         func(y, x []float32, n, c, s, stride int, p []float32)
	ApplyCLNT         func(y, x []float32, rows, C int, p []float32)
	BackwardApplyCFNT func(dx, dy, x []float32, n, c, s, stride int, p []float32)
	BackwardApplyCLNT func(dx, dy, x []float32, rows, C int, p []float32)
}

// NTAlign is the output alignment, in bytes, that the NT kernels of every
// tier require (the widest vector's).
const NTAlign = 64

// Impls returns the tiers compiled into this build, fastest first,
// including those this CPU cannot run (Available false). It returns nothing
// under purego, noasm, gccgo or on other architectures.
func Impls() []Impl { return impls() }
