//go:build linux && amd64

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"testing"
	"unsafe"

	"github.com/simdbn/simdbn/fallback"
	"golang.org/x/sys/unix"
)

// guarded is a read-write region with a PROT_NONE page right before and
// right after it.
type guarded struct {
	all, mem []byte
}

func newGuarded(t testing.TB, nbytes int) *guarded {
	t.Helper()
	page := os.Getpagesize()
	n := (nbytes + page - 1) / page * page
	all, err := unix.Mmap(-1, 0, n+2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	if err := unix.Mprotect(all[:page], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mprotect(all[page+n:], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	g := &guarded{all: all, mem: all[page : page+n]}
	t.Cleanup(g.free)
	return g
}

// free unmaps g before the test ends, for tests that make many (each
// mapping costs the process three of its limited memory maps).
func (g *guarded) free() {
	if g.all != nil {
		unix.Munmap(g.all)
		g.all, g.mem = nil, nil
	}
}

// f32 returns n float32 that end exactly at the trailing guard page (atEnd)
// or start exactly after the leading one.
func (g *guarded) f32(n int, atEnd bool) []float32 {
	if n == 0 {
		return []float32{}
	}
	off := 0
	if atEnd {
		off = len(g.mem) - 4*n
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&g.mem[off])), n)
}

func (g *guarded) f64(n int, atEnd bool) []float64 {
	off := 0
	if atEnd {
		off = len(g.mem) - 8*n
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(&g.mem[off])), n)
}

// noFault runs f and turns a memory fault into a test error.
func noFault(t *testing.T, what string, f func()) (ok bool) {
	t.Helper()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
			ok = false
		}
	}()
	f()
	return true
}

func TestGuardPagesCF(t *testing.T) {
	ims := availableImpls(t)
	rng := rand.New(rand.NewPCG(5, 6))
	const maxLen = 100
	gx := newGuarded(t, 4*(3*(maxLen+16)))
	gdy := newGuarded(t, 4*(3*(maxLen+16)))
	gy := newGuarded(t, 4*(3*(maxLen+16)))
	gacc := newGuarded(t, 8*3*fallback.Lanes)
	gp := newGuarded(t, 4*3*fallback.ParamStrideCF)

	for _, im := range ims {
		requireCF(t, im)
		for _, atEnd := range []bool{true, false} {
			for runLen := 1; runLen <= maxLen; runLen++ {
				for a := 0; a < 16; a++ {
					nruns := 1 + a%3
					stride := runLen + a
					n := (nruns-1)*stride + runLen
					x, dy := gx.f32(n, atEnd), gdy.f32(n, !atEnd)
					fill(rng, x, 1, false)
					fill(rng, dy, 0, false)
					what := fmt.Sprintf("%s atEnd=%v nruns=%d runLen=%d stride=%d", im.Name, atEnd, nruns, runLen, stride)

					acc := gacc.f64(2*fallback.Lanes, atEnd)
					clear(acc)
					want := make([]float64, 2*fallback.Lanes)
					fallback.StatsCF(want, x, nruns, runLen, stride, 2, 0.5)
					if !noFault(t, "StatsCF "+what, func() { im.StatsCF(acc, x, nruns, runLen, stride, 2, 0.5) }) ||
						!sameBits64(t, "StatsCF "+what, acc, want) {
						return
					}
					acc = gacc.f64(3*fallback.Lanes, atEnd)
					clear(acc)
					want = make([]float64, 3*fallback.Lanes)
					fallback.BackwardCF(want, dy, x, nruns, runLen, stride, 2, 0.5)
					if !noFault(t, "BackwardCF "+what, func() { im.BackwardCF(acc, dy, x, nruns, runLen, stride, 2, 0.5) }) ||
						!sameBits64(t, "BackwardCF "+what, acc, want) {
						return
					}

					// Multi-channel reductions: the same runs as nch
					// channels runLen apart, when the stride holds them.
					if nch := 1 + a%4; nch*runLen <= stride || nruns == 1 {
						out := gacc.f64(3*nch, atEnd)
						scratch := make([]float64, 3*fallback.Lanes)
						cv := []float32{0.5, 0.25, 1, 2}[:nch]
						ok := true
						for _, nq := range []int{2, 3} {
							m := (nruns-1)*stride + (nch-1)*runLen + runLen
							xs, dys := gx.f32(m, atEnd), gdy.f32(m, !atEnd)
							fill(rng, xs, 1, false)
							fill(rng, dys, 0, false)
							w := make([]float64, nq*nch)
							o := out[len(out)-nq*nch:]
							if !atEnd {
								o = out[:nq*nch]
							}
							what := fmt.Sprintf("%s nq=%d nch=%d", what, nq, nch)
							if nq == 2 {
								fallback.StatsCFChans(w, scratch, xs, nch, runLen, nruns, runLen, stride, 2, cv)
								ok = noFault(t, "StatsCFChans "+what, func() {
									im.StatsCFChans(o, gacc.f64(2*fallback.Lanes, !atEnd), xs, nch, runLen, nruns, runLen, stride, 2, cv)
								}) && sameBits64(t, "StatsCFChans "+what, o, w) && ok
							} else {
								fallback.BackwardCFChans(w, scratch, dys, xs, nch, runLen, nruns, runLen, stride, 2, cv)
								ok = noFault(t, "BackwardCFChans "+what, func() {
									im.BackwardCFChans(o, gacc.f64(3*fallback.Lanes, !atEnd), dys, xs, nch, runLen, nruns, runLen, stride, 2, cv)
								}) && sameBits64(t, "BackwardCFChans "+what, o, w) && ok
							}
						}
						if !ok {
							return
						}
					}

					// Element-wise: nruns samples of c channels of s = runLen/c values.
					c := 1 + a%3
					s := runLen
					en := 1 + (a/3)%2
					estride := c*s + a%4
					size := (en-1)*estride + c*s
					x, dy = gx.f32(size, atEnd), gdy.f32(size, !atEnd)
					fill(rng, x, 1, false)
					fill(rng, dy, 0, false)
					y := gy.f32(size, atEnd)
					clear(y)
					np := 4
					p := gp.f32((c-1)*fallback.ParamStrideCF+np, atEnd)
					for i := range p {
						p[i] = float32(i%5) + 0.25
					}
					what = fmt.Sprintf("%s atEnd=%v n=%d c=%d s=%d stride=%d", im.Name, atEnd, en, c, s, estride)
					wy := make([]float32, size)
					fallback.ApplyCF(wy, x, en, c, s, estride, p)
					if !noFault(t, "ApplyCF "+what, func() { im.ApplyCF(y, x, en, c, s, estride, p) }) ||
						!sameBits32(t, "ApplyCF "+what, y, wy) {
						return
					}
					np = 5
					p = gp.f32((c-1)*fallback.ParamStrideCF+np, atEnd)
					for i := range p {
						p[i] = float32(i%5) + 0.25
					}
					clear(y)
					clear(wy)
					fallback.BackwardApplyCF(wy, dy, x, en, c, s, estride, p)
					if !noFault(t, "BackwardApplyCF "+what, func() { im.BackwardApplyCF(y, dy, x, en, c, s, estride, p) }) ||
						!sameBits32(t, "BackwardApplyCF "+what, y, wy) {
						return
					}
				}
			}
		}
	}
}

var sink float32

// TestGuardPagesFault checks that the guard pages and SetPanicOnFault catch
// a stray read, so that TestGuardPagesCF would notice one.
func TestGuardPagesFault(t *testing.T) {
	g := newGuarded(t, 64)
	x := g.f32(1, true)
	faulted := false
	func() {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() { faulted = recover() != nil }()
		p := unsafe.Add(unsafe.Pointer(&x[0]), 4)
		sink = *(*float32)(p)
	}()
	if !faulted {
		t.Fatal("reading past the guarded slice did not fault")
	}
}
