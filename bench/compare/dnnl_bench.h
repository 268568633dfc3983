// C side of the oneDNN contender and of the glibc memcpy reference.
#ifndef SIMDBN_COMPARE_DNNL_BENCH_H
#define SIMDBN_COMPARE_DNNL_BENCH_H
#include <stddef.h>
#include <stdint.h>

// layout: 0 nchw, 1 nhwc, 2 nChw16c (data given/returned in nchw order).
typedef struct dnnl_ctx dnnl_ctx;

// dnnl_init sets oneDNN (OpenMP runtime) to one thread. It returns 0 on success.
int dnnl_init(void);
dnnl_ctx *dnnl_ctx_new(int64_t N, int64_t C, int64_t H, int64_t W, int layout, float eps);
void dnnl_ctx_free(dnnl_ctx *c);
// error text of the last failed call (static storage)
const char *dnnl_last_error(void);
// implementation names chosen by oneDNN for training forward, inference, backward
const char *dnnl_ctx_impl(dnnl_ctx *c, int op);
// set inputs: x and dy in the ctx's plain order (nchw for layouts 0 and 2, nhwc for 1),
// scale, shift, mean and variance (used by inference and backward) of length C.
void dnnl_ctx_set(dnnl_ctx *c, const float *x, const float *dy, const float *scale,
                  const float *shift, const float *mean, const float *var);
// run one op (0 train, 1 infer, 2 backward) once; returns elapsed ns (measured in C).
double dnnl_ctx_run(dnnl_ctx *c, int op);
// read results back in plain order: y (train or infer, whichever ran last), dx,
// the batch mean and (biased) variance of the last train, dscale, dshift.
void dnnl_ctx_get(dnnl_ctx *c, float *y, float *dx, float *mean, float *var,
                  float *dscale, float *dshift);

// dnnl_ctx_read_out reads the output of op (y for train and infer, dx for
// backward) in its memory order with read_ns and returns the elapsed ns.
double dnnl_ctx_read_out(dnnl_ctx *c, int op);
// read_ns reads n floats at p (AVX2 loads, OR of their bits) and returns
// the elapsed ns (measured in C): the next layer's read of an output.
double read_ns(const float *p, size_t n);

// memcpy_ns copies n bytes with glibc memcpy and returns the elapsed ns (measured in C).
double memcpy_ns(void *dst, const void *src, size_t n);
// cpu_ns is this process's CPU time in ns (all threads).
double cpu_ns(void);
double wall_ns(void);
// thread_cpu_ns is the calling thread's CPU time in ns.
double thread_cpu_ns(void);
#endif
