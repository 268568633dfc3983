package main

/*
#cgo CFLAGS: -O2 -Wall
#cgo LDFLAGS: -ldnnl -lgomp -ldl
#include <stdlib.h>
#include <dlfcn.h>
#include "dnnl_bench.h"
#include "floor.h"
#include "shim/torch_shim.h"

// The libtorch shim is loaded at run time, so this program builds and runs
// (without the PyTorch columns) when the shim or libtorch is missing.
static void *tb_lib;
static int (*p_init)(void);
static const char *(*p_error)(void);
static const char *(*p_config)(void);
static void *(*p_new)(int64_t, int64_t, int64_t, int64_t, int, double, double);
static void (*p_free)(void *);
static int (*p_set)(void *, const float *, const float *, const float *, const float *, const float *, const float *);
static double (*p_run)(void *, int);
static int (*p_get)(void *, float *, float *, float *, float *, float *, float *, float *, float *);
static const float *(*p_out)(void *, int, int64_t *);

static const char *tb_load(const char *path) {
	tb_lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	if (!tb_lib) return dlerror();
	p_init = dlsym(tb_lib, "tb_init");
	p_error = dlsym(tb_lib, "tb_error");
	p_config = dlsym(tb_lib, "tb_config");
	p_new = dlsym(tb_lib, "tb_new");
	p_free = dlsym(tb_lib, "tb_free");
	p_set = dlsym(tb_lib, "tb_set");
	p_run = dlsym(tb_lib, "tb_run");
	p_get = dlsym(tb_lib, "tb_get");
	p_out = dlsym(tb_lib, "tb_out"); // optional: the PyTorch +read column
	if (!p_init || !p_error || !p_config || !p_new || !p_free || !p_set || !p_run || !p_get)
		return "missing symbol in shim";
	return NULL;
}
static int c_tb_init(void) { return p_init(); }
static const char *c_tb_error(void) { return p_error(); }
static const char *c_tb_config(void) { return p_config(); }
static void *c_tb_new(int64_t N, int64_t C, int64_t H, int64_t W, int cl, double eps, double mom) { return p_new(N, C, H, W, cl, eps, mom); }
static void c_tb_free(void *h) { p_free(h); }
static int c_tb_set(void *h, const float *x, const float *dy, const float *w, const float *b, const float *rm, const float *rv) { return p_set(h, x, dy, w, b, rm, rv); }
static double c_tb_run(void *h, int op) { return p_run(h, op); }
static double c_tb_read_out(void *h, int op) {
	int64_t n = 0;
	const float *p = p_out ? p_out(h, op, &n) : NULL;
	return p ? read_ns(p, (size_t)n) : -1;
}
static int c_tb_get(void *h, float *y, float *dx, float *m, float *is, float *rm, float *rv, float *dw, float *db) { return p_get(h, y, dx, m, is, rm, rv, dw, db); }
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

func fp(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

// memcpyNS copies src into dst with glibc memcpy, timed inside C.
func memcpyNS(dst, src []float32) float64 {
	return float64(C.memcpy_ns(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), C.size_t(4*len(src))))
}

func cpuNS() float64    { return float64(C.cpu_ns()) }
func wallNS() float64   { return float64(C.wall_ns()) }
func threadNS() float64 { return float64(C.thread_cpu_ns()) }

// ---- oneDNN ----

const (
	dnnlNCHW     = 0
	dnnlNHWC     = 1
	dnnlNChw16c  = 2
	opTrain      = 0
	opInfer      = 1
	opBackward   = 2
	torchContig  = 0
	torchChanLst = 1
)

func dnnlInit() error {
	switch C.dnnl_init() {
	case 0:
		return nil
	case 2:
		return errors.New("omp_get_max_threads() != 1 after omp_set_num_threads(1)")
	default:
		return fmt.Errorf("dnnl init: %s", C.GoString(C.dnnl_last_error()))
	}
}

type dnnlCtx struct{ p *C.dnnl_ctx }

func newDnnl(N, Cc, H, W, layout int, eps float32) (*dnnlCtx, error) {
	p := C.dnnl_ctx_new(C.int64_t(N), C.int64_t(Cc), C.int64_t(H), C.int64_t(W), C.int(layout), C.float(eps))
	if p == nil {
		return nil, fmt.Errorf("oneDNN: %s", C.GoString(C.dnnl_last_error()))
	}
	return &dnnlCtx{p}, nil
}

// readNS reads s with the C reader read_ns and returns the elapsed ns.
func readNS(s []float32) float64 { return float64(C.read_ns(fp(s), C.size_t(len(s)))) }

// ntFloor is the output size from which the -floor references store
// non-temporally: simdbn's own rule (reduce's ntBytes).
const ntFloor = 8 << 20

func ntFlag(out []float32) C.int {
	if len(out)*4 >= ntFloor {
		return 1
	}
	return 0
}

// writeNS writes s alone (write_ns), around the cache from ntFloor.
func writeNS(s []float32) float64 { return float64(C.write_ns(fp(s), C.size_t(len(s)), ntFlag(s))) }

// onePassNS reads x (and dy, if not nil) and writes out in one loop.
func onePassNS(out, x, dy []float32) float64 {
	return float64(C.one_pass_ns(fp(out), fp(x), fpOrNil(dy), C.size_t(len(x)), ntFlag(out)))
}

// twoPassNS runs the plain-C two-pass schedule of Train (dy nil) or
// Backward on N samples of C channels of S values, channels first or
// (cl) last; acc holds 4*C floats. Channels first with S = 1 is rows of
// C channels, and runs as such.
func twoPassNS(out, x, dy []float32, N, Cc, S int, cl bool, acc []float32) float64 {
	if cl || S == 1 {
		return float64(C.two_pass_cl_ns(fp(out), fp(x), fpOrNil(dy), C.size_t(N*S), C.size_t(Cc), fp(acc), ntFlag(out)))
	}
	return float64(C.two_pass_cf_ns(fp(out), fp(x), fpOrNil(dy), C.size_t(N), C.size_t(Cc), C.size_t(S), ntFlag(out)))
}

func fpOrNil(s []float32) *C.float {
	if s == nil {
		return nil
	}
	return fp(s)
}

// readOut reads the output of op (y, or dx for backward) with read_ns.
func (d *dnnlCtx) readOut(op int) float64 { return float64(C.dnnl_ctx_read_out(d.p, C.int(op))) }

func (d *dnnlCtx) free()              { C.dnnl_ctx_free(d.p) }
func (d *dnnlCtx) impl(op int) string { return C.GoString(C.dnnl_ctx_impl(d.p, C.int(op))) }
func (d *dnnlCtx) set(x, dy, scale, shift, mean, variance []float32) {
	C.dnnl_ctx_set(d.p, fp(x), fp(dy), fp(scale), fp(shift), fp(mean), fp(variance))
}
func (d *dnnlCtx) run(op int) float64 {
	t := float64(C.dnnl_ctx_run(d.p, C.int(op)))
	if t < 0 {
		panic("oneDNN: " + C.GoString(C.dnnl_last_error()))
	}
	return t
}
func (d *dnnlCtx) get(y, dx, mean, variance, dscale, dshift []float32) {
	C.dnnl_ctx_get(d.p, fp(y), fp(dx), fp(mean), fp(variance), fp(dscale), fp(dshift))
}

// ---- libtorch (through the shim) ----

var torchLoaded bool

func torchLoad(path string) (threads int, config string, err error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	if msg := C.tb_load(cp); msg != nil {
		return 0, "", errors.New(C.GoString(msg))
	}
	n := int(C.c_tb_init())
	if n < 0 {
		return 0, "", errors.New(C.GoString(C.c_tb_error()))
	}
	torchLoaded = true
	return n, C.GoString(C.c_tb_config()), nil
}

type torchCtx struct{ p unsafe.Pointer }

func newTorch(N, Cc, H, W, cl int, eps, momentum float32) (*torchCtx, error) {
	p := C.c_tb_new(C.int64_t(N), C.int64_t(Cc), C.int64_t(H), C.int64_t(W), C.int(cl), C.double(eps), C.double(momentum))
	if p == nil {
		return nil, errors.New("libtorch: " + C.GoString(C.c_tb_error()))
	}
	return &torchCtx{p}, nil
}

func (t *torchCtx) free() { C.c_tb_free(t.p) }
func (t *torchCtx) set(x, dy, w, b, rm, rv []float32) {
	if C.c_tb_set(t.p, fp(x), fp(dy), fp(w), fp(b), fp(rm), fp(rv)) != 0 {
		panic("libtorch: " + C.GoString(C.c_tb_error()))
	}
}
func (t *torchCtx) run(op int) float64 {
	r := float64(C.c_tb_run(t.p, C.int(op)))
	if r < 0 {
		panic("libtorch: " + C.GoString(C.c_tb_error()))
	}
	return r
}

// readOut reads the output of the last call of op with read_ns; it panics
// when the shim has no tb_out.
func (t *torchCtx) readOut(op int) float64 {
	r := float64(C.c_tb_read_out(t.p, C.int(op)))
	if r < 0 {
		panic("libtorch shim: no output to read (tb_out missing?)")
	}
	return r
}

func (t *torchCtx) get(y, dx, mean, invstd, rm, rv, dw, db []float32) int {
	r := int(C.c_tb_get(t.p, fp(y), fp(dx), fp(mean), fp(invstd), fp(rm), fp(rv), fp(dw), fp(db)))
	if r < 0 {
		panic("libtorch: " + C.GoString(C.c_tb_error()))
	}
	return r
}
