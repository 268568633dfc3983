//go:build linux

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/simdbn/simdbn/asm"
	"github.com/simdbn/simdbn/fallback"
)

// clGuard is a read-write region with a PROT_NONE page right before and
// right after it.
type clGuard struct {
	mem  []byte // the whole mapping
	data []byte // the accessible part
}

func newCLGuard(t testing.TB, nbytes int) *clGuard {
	t.Helper()
	ps := unix.Getpagesize()
	n := (nbytes + ps - 1) / ps * ps
	mem, err := unix.Mmap(-1, 0, n+2*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	if err := unix.Mprotect(mem[:ps], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mprotect(mem[ps+n:], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	return &clGuard{mem: mem, data: mem[ps : ps+n]}
}

// f32 returns n float32 that end exactly at the trailing guard page (atEnd)
// or start exactly after the leading one.
func (g *clGuard) f32(n int, atEnd bool) []float32 {
	off := 0
	if atEnd {
		off = len(g.data) - 4*n
	}
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&g.data[off])), n)
}

func (g *clGuard) f64(n int, atEnd bool) []float64 {
	off := 0
	if atEnd {
		off = len(g.data) - 8*n
	}
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(&g.data[off])), n)
}

// clNoFault runs f and turns a memory fault into a test error.
func clNoFault(t *testing.T, what string, f func()) (ok bool) {
	t.Helper()
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if e := recover(); e != nil {
			t.Errorf("%s: fault: %v", what, e)
			ok = false
		}
	}()
	f()
	return true
}

// TestCLGuardPages places every slice of every channels-last kernel so that
// it ends exactly at a no-access page, or starts right after one.
func TestCLGuardPages(t *testing.T) {
	const maxC, maxRows = 255, 40
	// Every C up to 40, around the kernels' wide threshold (64), and C
	// that end in every chunk width of the Cached forms (7 and 8 vectors).
	var cs []int
	for C := 1; C <= 40; C++ {
		cs = append(cs, C)
	}
	cs = append(cs, 63, 64, 65, 71, 80, 96, 129, 200, 227, 255)
	for _, im := range clTiers(t) {
		const maxLd = 2 * maxC
		gx := newCLGuard(t, 4*maxLd*maxRows)
		gdy := newCLGuard(t, 4*maxLd*maxRows)
		gy := newCLGuard(t, 4*maxLd*maxRows)
		gp := newCLGuard(t, 4*5*maxC)
		gacc := newCLGuard(t, 8*3*fallback.Phases*maxC)
		gt := newCLGuard(t, 4*fallback.TmpCL(3, maxC))
		rng := rand.New(rand.NewPCG(5, 6))
		rowsList := []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31, 33, 40}
		fails := 0
		for _, C := range cs {
			for _, rows := range rowsList {
				for _, gc := range [][2]int{{0, 1}, {0, 0}, {1 + C%7, 1}, {C, 0}} {
					// Rows ld = C + gap apart (a block of wider rows);
					// the slices end at the last row's last channel.
					gap, atEnd := gc[0], gc[1] == 1
					ld := C + gap
					n := (rows-1)*ld + C
					name := fmt.Sprintf("%s rows=%d C=%d ld=%d atEnd=%v", im.Name, rows, C, ld, atEnd)
					x, dy, y := gx.f32(n, atEnd), gdy.f32(n, atEnd), gy.f32(n, atEnd)
					for i := range x {
						x[i] = float32(rng.NormFloat64()) + 3
						dy[i] = float32(rng.NormFloat64())
					}
					cv := gp.f32(C, atEnd)
					for c := range cv {
						cv[c] = 3
					}
					ok := true
					// Reductions, plain, Cached, and with prefetches
					// (which name lines past the slices but never
					// fault).
					for _, k := range []int{2, 3} {
						for _, f := range clReduceForms(im) {
							stats, back := f.stats, f.back
							m := k * fallback.Phases * C
							acc := gacc.f64(m, atEnd)
							clear(acc)
							want := make([]float64, m)
							ok = clNoFault(t, name, func() {
								if k == 2 {
									stats(acc, x, rows, C, ld, cv, gt.f32(fallback.TmpCL(2, C), atEnd))
									fallback.StatsCL(want, x, rows, C, ld, cv, make([]float32, fallback.TmpCL(2, C)))
								} else {
									back(acc, dy, x, rows, C, ld, cv, gt.f32(fallback.TmpCL(3, C), atEnd))
									fallback.BackwardCL(want, dy, x, rows, C, ld, cv, make([]float32, fallback.TmpCL(3, C)))
								}
							}) && clEq64(t, fmt.Sprint("reduction ", k, " form ", f.name, " ", name), acc, want) && ok
						}
					}
					// Element-wise.
					for _, np := range []int{4, 5} {
						p := gp.f32(np*C, atEnd)
						for i := range p {
							p[i] = float32(rng.NormFloat64())
						}
						want := append([]float32(nil), y...) // values between rows stay
						ok = clNoFault(t, name, func() {
							if np == 4 {
								im.ApplyCL(y, x, rows, C, ld, p)
								fallback.ApplyCL(want, x, rows, C, ld, p)
							} else {
								im.BackwardApplyCL(y, dy, x, rows, C, ld, p)
								fallback.BackwardApplyCL(want, dy, x, rows, C, ld, p)
							}
						}) && clEq32(t, fmt.Sprint("elementwise ", np, " ", name), y, want) && ok
					}
					if !ok {
						if fails++; fails > 5 {
							t.Fatal("too many failures")
						}
					}
				}
			}
		}
	}
}

var clSink float32

// TestCLGuardPagesFault checks that the guard page and SetPanicOnFault do
// catch a read one element past a slice, in Go and in a kernel, so
// TestCLGuardPages would notice one.
func TestCLGuardPagesFault(t *testing.T) {
	g := newCLGuard(t, 4096)
	x := g.f32(7, true)
	faults := func(f func()) (faulted bool) {
		old := debug.SetPanicOnFault(true)
		defer debug.SetPanicOnFault(old)
		defer func() { faulted = recover() != nil }()
		f()
		return false
	}
	if !faults(func() { clSink = *(*float32)(unsafe.Add(unsafe.Pointer(&x[6]), 4)) }) {
		t.Fatal("reading past the guard did not fault")
	}
	for _, im := range asm.Impls() {
		if !im.Available || im.StatsCL == nil {
			continue
		}
		acc := make([]float64, 2*fallback.Phases*7)
		// Two rows of 7 channels where x holds one.
		if !faults(func() { im.StatsCL(acc, x, 2, 7, 7, make([]float32, 7), make([]float32, fallback.TmpCL(2, 7))) }) {
			t.Fatalf("%s: StatsCL reading past the guard did not fault", im.Name)
		}
	}
}
