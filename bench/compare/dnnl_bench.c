#include "dnnl_bench.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);

static char errbuf[256];
const char *dnnl_last_error(void) { return errbuf; }

#define CHECK(call)                                                              \
    do {                                                                         \
        dnnl_status_t s_ = (call);                                               \
        if (s_ != dnnl_success) {                                                \
            snprintf(errbuf, sizeof errbuf, "%s failed: status %d", #call, (int)s_); \
            goto fail;                                                           \
        }                                                                        \
    } while (0)

double wall_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

double cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

double thread_cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

double memcpy_ns(void *dst, const void *src, size_t n) {
    double t0 = wall_ns();
    memcpy(dst, src, n);
    __asm__ volatile("" ::: "memory");
    return wall_ns() - t0;
}

static dnnl_engine_t engine;
static dnnl_stream_t stream;

int dnnl_init(void) {
    omp_set_num_threads(1);
    // No primitive cache: with H = W = 1 the nchw and nhwc descriptors name
    // the same memory, and a cached nchw primitive (ncsp_bnorm) would then be
    // handed out for nhwc too. Each layout gets the implementation its tag gets.
    CHECK(dnnl_set_primitive_cache_capacity(0));
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    return omp_get_max_threads() == 1 ? 0 : 2;
fail:
    return 1;
}

struct dnnl_ctx {
    int layout;
    int64_t N, C, H, W;
    dnnl_memory_desc_t plain_md, data_md, c_md;
    dnnl_primitive_desc_t pd[3];
    dnnl_primitive_t prim[3];
    // data memories in the primitive's layout
    dnnl_memory_t x, y, dy, dx;
    // plain (user-order) memories for reorders with layout 2
    dnnl_memory_t px, py, pdy, pdx;
    dnnl_memory_t scale, shift, mean, var, rmean, rvar, dscale, dshift;
    char impl[3][64];
};

static int mem(dnnl_memory_t *m, const dnnl_memory_desc_t *md) {
    return dnnl_memory_create(m, md, engine, DNNL_MEMORY_ALLOCATE) == dnnl_success ? 0 : 1;
}

static void *ptr(dnnl_memory_t m) {
    void *p = NULL;
    dnnl_memory_get_data_handle(m, &p);
    return p;
}

static int reorder(dnnl_memory_t src, dnnl_memory_t dst) {
    const dnnl_memory_desc_t *smd, *dmd;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    CHECK(dnnl_memory_get_memory_desc(src, &smd));
    CHECK(dnnl_memory_get_memory_desc(dst, &dmd));
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, smd, engine, dmd, engine, NULL));
    CHECK(dnnl_primitive_create(&r, rpd));
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
    CHECK(dnnl_primitive_execute(r, stream, 2, a));
    CHECK(dnnl_stream_wait(stream));
    dnnl_primitive_destroy(r);
    dnnl_primitive_desc_destroy(rpd);
    return 0;
fail:
    return 1;
}

static void impl_name(dnnl_primitive_desc_t pd, char *out) {
    const char *s = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) == dnnl_success && s)
        snprintf(out, 64, "%s", s);
    else
        snprintf(out, 64, "?");
}

dnnl_ctx *dnnl_ctx_new(int64_t N, int64_t C, int64_t H, int64_t W, int layout, float eps) {
    dnnl_ctx *c = calloc(1, sizeof *c);
    c->layout = layout;
    c->N = N; c->C = C; c->H = H; c->W = W;
    dnnl_dims_t dims = {N, C, H, W};
    dnnl_dims_t cdims = {C};
    dnnl_format_tag_t tag = layout == 1 ? dnnl_nhwc : layout == 2 ? dnnl_nChw16c : dnnl_nchw;
    CHECK(dnnl_memory_desc_init_by_tag(&c->plain_md, 4, dims, dnnl_f32, layout == 1 ? dnnl_nhwc : dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&c->data_md, 4, dims, dnnl_f32, tag));
    CHECK(dnnl_memory_desc_init_by_tag(&c->c_md, 1, cdims, dnnl_f32, dnnl_x));
    unsigned ss = dnnl_use_scale | dnnl_use_shift;
    dnnl_batch_normalization_desc_t d;
    CHECK(dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_training, &c->data_md, eps, ss));
    CHECK(dnnl_primitive_desc_create(&c->pd[0], &d, NULL, engine, NULL));
    CHECK(dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_inference, &c->data_md, eps, ss | dnnl_use_global_stats));
    CHECK(dnnl_primitive_desc_create(&c->pd[1], &d, NULL, engine, NULL));
    CHECK(dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, &c->data_md, &c->data_md, eps, ss));
    CHECK(dnnl_primitive_desc_create(&c->pd[2], &d, NULL, engine, c->pd[0]));
    for (int i = 0; i < 3; i++) {
        CHECK(dnnl_primitive_create(&c->prim[i], c->pd[i]));
        impl_name(c->pd[i], c->impl[i]);
    }
    if (mem(&c->x, &c->data_md) || mem(&c->y, &c->data_md) || mem(&c->dy, &c->data_md) ||
        mem(&c->dx, &c->data_md) || mem(&c->scale, &c->c_md) || mem(&c->shift, &c->c_md) ||
        mem(&c->mean, &c->c_md) || mem(&c->var, &c->c_md) || mem(&c->rmean, &c->c_md) ||
        mem(&c->rvar, &c->c_md) || mem(&c->dscale, &c->c_md) || mem(&c->dshift, &c->c_md)) {
        snprintf(errbuf, sizeof errbuf, "dnnl_memory_create failed");
        goto fail;
    }
    if (layout == 2) {
        if (mem(&c->px, &c->plain_md) || mem(&c->py, &c->plain_md) || mem(&c->pdy, &c->plain_md) ||
            mem(&c->pdx, &c->plain_md)) {
            snprintf(errbuf, sizeof errbuf, "dnnl_memory_create failed");
            goto fail;
        }
    }
    return c;
fail:
    dnnl_ctx_free(c);
    return NULL;
}

void dnnl_ctx_free(dnnl_ctx *c) {
    if (!c) return;
    for (int i = 0; i < 3; i++) {
        if (c->prim[i]) dnnl_primitive_destroy(c->prim[i]);
        if (c->pd[i]) dnnl_primitive_desc_destroy(c->pd[i]);
    }
    dnnl_memory_t *ms[] = {&c->x, &c->y, &c->dy, &c->dx, &c->px, &c->py, &c->pdy, &c->pdx,
                           &c->scale, &c->shift, &c->mean, &c->var, &c->rmean, &c->rvar,
                           &c->dscale, &c->dshift};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        if (*ms[i]) dnnl_memory_destroy(*ms[i]);
    free(c);
}

const char *dnnl_ctx_impl(dnnl_ctx *c, int op) { return c->impl[op]; }

void dnnl_ctx_set(dnnl_ctx *c, const float *x, const float *dy, const float *scale,
                  const float *shift, const float *mean, const float *var) {
    size_t n = (size_t)(c->N * c->C * c->H * c->W) * sizeof(float), cn = (size_t)c->C * sizeof(float);
    if (c->layout == 2) {
        memcpy(ptr(c->px), x, n);
        memcpy(ptr(c->pdy), dy, n);
        reorder(c->px, c->x);
        reorder(c->pdy, c->dy);
    } else {
        memcpy(ptr(c->x), x, n);
        memcpy(ptr(c->dy), dy, n);
    }
    memcpy(ptr(c->scale), scale, cn);
    memcpy(ptr(c->shift), shift, cn);
    memcpy(ptr(c->rmean), mean, cn);
    memcpy(ptr(c->rvar), var, cn);
    // Backward runs on the statistics of the last training call; start from these.
    memcpy(ptr(c->mean), mean, cn);
    memcpy(ptr(c->var), var, cn);
}

double dnnl_ctx_run(dnnl_ctx *c, int op) {
    dnnl_exec_arg_t a[10];
    int n = 0;
    switch (op) {
    case 0:
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, c->x};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, c->y};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCALE, c->scale};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SHIFT, c->shift};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_MEAN, c->mean};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_VARIANCE, c->var};
        break;
    case 1:
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, c->x};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, c->y};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCALE, c->scale};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SHIFT, c->shift};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_MEAN, c->rmean};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_VARIANCE, c->rvar};
        break;
    default:
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, c->x};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_MEAN, c->mean};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_VARIANCE, c->var};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, c->dy};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCALE, c->scale};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SHIFT, c->shift};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC, c->dx};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SCALE, c->dscale};
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SHIFT, c->dshift};
        break;
    }
    double t0 = wall_ns();
    dnnl_status_t s = dnnl_primitive_execute(c->prim[op], stream, n, a);
    dnnl_stream_wait(stream);
    double t = wall_ns() - t0;
    if (s != dnnl_success) {
        snprintf(errbuf, sizeof errbuf, "execute op %d: status %d", op, (int)s);
        return -1;
    }
    return t;
}

void dnnl_ctx_get(dnnl_ctx *c, float *y, float *dx, float *mean, float *var,
                  float *dscale, float *dshift) {
    size_t n = (size_t)(c->N * c->C * c->H * c->W) * sizeof(float), cn = (size_t)c->C * sizeof(float);
    if (c->layout == 2) {
        reorder(c->y, c->py);
        reorder(c->dx, c->pdx);
        memcpy(y, ptr(c->py), n);
        memcpy(dx, ptr(c->pdx), n);
    } else {
        memcpy(y, ptr(c->y), n);
        memcpy(dx, ptr(c->dx), n);
    }
    memcpy(mean, ptr(c->mean), cn);
    memcpy(var, ptr(c->var), cn);
    memcpy(dscale, ptr(c->dscale), cn);
    memcpy(dshift, ptr(c->dshift), cn);
}

// read_ns reads the n floats at p as the next layer would read an output
// (AVX2 loads, an OR of their bits kept so that none is skipped) and
// returns the elapsed ns, measured in C. The same reader serves every
// contender, so that only where the output was left (in cache, or in
// memory after non-temporal stores) differs.
static volatile uint32_t read_sink;
__attribute__((target("avx2"))) double read_ns(const float *p, size_t n) {
    double t0 = wall_ns();
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_or_si256(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
        a1 = _mm256_or_si256(a1, _mm256_loadu_si256((const __m256i *)(p + i + 8)));
        a2 = _mm256_or_si256(a2, _mm256_loadu_si256((const __m256i *)(p + i + 16)));
        a3 = _mm256_or_si256(a3, _mm256_loadu_si256((const __m256i *)(p + i + 24)));
    }
    a0 = _mm256_or_si256(_mm256_or_si256(a0, a1), _mm256_or_si256(a2, a3));
    uint32_t r = 0, w[8];
    _mm256_storeu_si256((__m256i *)w, a0);
    for (int k = 0; k < 8; k++) r |= w[k];
    for (; i < n; i++) {
        uint32_t v;
        memcpy(&v, p + i, 4);
        r |= v;
    }
    read_sink = r;
    return wall_ns() - t0;
}

double dnnl_ctx_read_out(dnnl_ctx *c, int op) {
    dnnl_memory_t m = op == 2 ? c->dx : c->y;
    return read_ns(ptr(m), dnnl_memory_desc_get_size(&c->data_md) / sizeof(float));
}
