// extern "C" face of the libtorch contender; built into build/libtorchshim.so
// by run.sh and loaded by the Go program with dlopen.
#ifndef SIMDBN_COMPARE_TORCH_SHIM_H
#define SIMDBN_COMPARE_TORCH_SHIM_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// tb_init: at::set_num_threads(1), glibc malloc kept from returning large
// blocks to the OS; returns at::get_num_threads() (or -1 on error).
int tb_init(void);
const char *tb_error(void);
const char *tb_config(void);
// cl: 0 contiguous (NCHW), 1 channels_last (NHWC).
void *tb_new(int64_t N, int64_t C, int64_t H, int64_t W, int cl, double eps, double momentum);
void tb_free(void *h);
// x, dy in memory order of the tensor (nchw or nhwc), per-channel vectors of length C.
// Also runs one training call so that backward has saved statistics.
int tb_set(void *h, const float *x, const float *dy, const float *w, const float *b,
           const float *rm, const float *rv);
// op 0 train, 1 infer, 2 backward; returns elapsed ns, or -1 on error.
double tb_run(void *h, int op);
// results in memory order of the layout; output strides flags: bit0 y kept the layout, bit1 dx did.
int tb_get(void *h, float *y, float *dx, float *mean, float *invstd, float *rm, float *rv,
           float *dw, float *db);
// tb_out: the output of the last call of op (y for 0 and 1, dx for 2), in
// its memory order, and its length in *n; NULL when there is none.
const float *tb_out(void *h, int op, int64_t *n);
#ifdef __cplusplus
}
#endif
#endif
