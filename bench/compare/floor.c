// Plain-C references for the -floor columns: the memory traffic of an op,
// and the simplest code that runs the op's schedule, without simdbn's
// summation order or its accuracy (float32 sums, no pivot). They give
// the floor of what the bytes and the schedule cost on this machine, next
// to simdbn and the peers in the same samples; their results are thrown
// away.
#include "floor.h"

#include <immintrin.h>
#include <string.h>

#include "dnnl_bench.h" // wall_ns

static volatile float floor_sink;

// put8 stores v at p, around the cache when nt (p then 32-byte aligned).
__attribute__((target("avx2"))) static inline void put8(float *p, __m256 v, int nt) {
    if (nt)
        _mm256_stream_ps(p, v);
    else
        _mm256_storeu_ps(p, v);
}

// head returns how many values of p[0:n] come before a 32-byte boundary:
// the non-temporal loops store those the ordinary way.
static size_t head(const float *p, size_t n) {
    size_t h = ((32 - ((uintptr_t)p & 31)) & 31) / 4;
    return h < n ? h : n;
}

// fma_run writes o[i] = a*x[i] + b (+ c*dy[i] when dy) for i < n.
__attribute__((target("avx2,fma"))) static void fma_run(float *o, const float *x, const float *dy, size_t n, float a,
                                                        float b, float c, int nt) {
    size_t i = nt ? head(o, n) : 0;
    for (size_t k = 0; k < i; k++)
        o[k] = a * x[k] + b + (dy ? c * dy[k] : 0);
    __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), vc = _mm256_set1_ps(c);
    if (dy) {
        for (; i + 8 <= n; i += 8) {
            __m256 v = _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), vb);
            put8(o + i, _mm256_fmadd_ps(vc, _mm256_loadu_ps(dy + i), v), nt);
        }
    } else {
        for (; i + 8 <= n; i += 8)
            put8(o + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), vb), nt);
    }
    for (; i < n; i++)
        o[i] = a * x[i] + b + (dy ? c * dy[i] : 0);
}

// sums_run adds x's values to s[0], their squares to s[1] (no dy), or dy
// to s[0] and dy*x to s[1].
__attribute__((target("avx2,fma"))) static void sums_run(float s[2], const float *x, const float *dy, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
    size_t i = 0;
    if (dy) {
        for (; i + 16 <= n; i += 16) {
            __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
            __m256 d0 = _mm256_loadu_ps(dy + i), d1 = _mm256_loadu_ps(dy + i + 8);
            a0 = _mm256_add_ps(a0, d0);
            a1 = _mm256_add_ps(a1, d1);
            b0 = _mm256_fmadd_ps(d0, x0, b0);
            b1 = _mm256_fmadd_ps(d1, x1, b1);
        }
    } else {
        for (; i + 16 <= n; i += 16) {
            __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
            a0 = _mm256_add_ps(a0, x0);
            a1 = _mm256_add_ps(a1, x1);
            b0 = _mm256_fmadd_ps(x0, x0, b0);
            b1 = _mm256_fmadd_ps(x1, x1, b1);
        }
    }
    float t[8], u[8];
    _mm256_storeu_ps(t, _mm256_add_ps(a0, a1));
    _mm256_storeu_ps(u, _mm256_add_ps(b0, b1));
    for (int k = 0; k < 8; k++) {
        s[0] += t[k];
        s[1] += u[k];
    }
    for (; i < n; i++) {
        float d = dy ? dy[i] : x[i];
        s[0] += d;
        s[1] += d * x[i];
    }
}

__attribute__((target("avx2"))) double write_ns(float *p, size_t n, int nt) {
    double t0 = wall_ns();
    size_t i = nt ? head(p, n) : 0;
    memset(p, 0, i * sizeof(float));
    __m256 z = _mm256_setzero_ps();
    for (; i + 32 <= n; i += 32) {
        put8(p + i, z, nt);
        put8(p + i + 8, z, nt);
        put8(p + i + 16, z, nt);
        put8(p + i + 24, z, nt);
    }
    if (nt)
        _mm_sfence();
    memset(p + i, 0, (n - i) * sizeof(float));
    if (n > 0)
        floor_sink = p[n / 2];
    return wall_ns() - t0;
}

double one_pass_ns(float *out, const float *x, const float *dy, size_t n, int nt) {
    double t0 = wall_ns();
    fma_run(out, x, dy, n, 0.5f, 0.25f, 0.125f, nt);
    if (nt)
        _mm_sfence();
    return wall_ns() - t0;
}

// The two passes' coefficients: from the sums, so that the compiler
// cannot move the second pass before the first.
static void coeffs(const float s[2], float *a, float *b, float *c) {
    *a = 1.0f / (1.0f + s[1] * s[1]);
    *b = s[0] * 1e-9f;
    *c = 0.5f;
}

double two_pass_cf_ns(float *out, const float *x, const float *dy, size_t N, size_t C, size_t S, int nt) {
    double t0 = wall_ns();
    for (size_t c = 0; c < C; c++) {
        float s[2] = {0, 0}, a, b, k;
        for (size_t n = 0; n < N; n++) {
            size_t o = (n * C + c) * S;
            sums_run(s, x + o, dy ? dy + o : NULL, S);
        }
        coeffs(s, &a, &b, &k);
        for (size_t n = 0; n < N; n++) {
            size_t o = (n * C + c) * S;
            fma_run(out + o, x + o, dy ? dy + o : NULL, S, a, b, k, nt);
        }
    }
    if (nt)
        _mm_sfence();
    return wall_ns() - t0;
}

// two_pass_cl_ns: every row's channels summed into per-channel sums
// (8 channels to a vector), then every row written.
__attribute__((target("avx2,fma"))) double two_pass_cl_ns(float *out, const float *x, const float *dy, size_t rows,
                                                          size_t C, float *acc, int nt) {
    double t0 = wall_ns();
    float *s0 = acc, *s1 = acc + C, *ka = acc + 2 * C, *kb = acc + 3 * C;
    memset(acc, 0, 2 * C * sizeof(float));
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * C, *dr = dy ? dy + r * C : x + r * C;
        size_t c = 0;
        for (; c + 8 <= C; c += 8) {
            __m256 xv = _mm256_loadu_ps(xr + c), dv = _mm256_loadu_ps(dr + c);
            _mm256_storeu_ps(s0 + c, _mm256_add_ps(_mm256_loadu_ps(s0 + c), dv));
            _mm256_storeu_ps(s1 + c, _mm256_fmadd_ps(dv, xv, _mm256_loadu_ps(s1 + c)));
        }
        for (; c < C; c++) {
            s0[c] += dr[c];
            s1[c] += dr[c] * xr[c];
        }
    }
    for (size_t c = 0; c < C; c++) {
        float s[2] = {s0[c], s1[c]}, k;
        coeffs(s, &ka[c], &kb[c], &k);
    }
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * C, *dr = dy ? dy + r * C : NULL;
        float *orow = out + r * C;
        size_t c = 0;
        int ntRow = nt && ((uintptr_t)orow & 31) == 0;
        for (; c + 8 <= C; c += 8) {
            __m256 v = _mm256_fmadd_ps(_mm256_loadu_ps(ka + c), _mm256_loadu_ps(xr + c), _mm256_loadu_ps(kb + c));
            if (dr)
                v = _mm256_fmadd_ps(_mm256_set1_ps(0.5f), _mm256_loadu_ps(dr + c), v);
            put8(orow + c, v, ntRow);
        }
        for (; c < C; c++)
            orow[c] = ka[c] * xr[c] + kb[c] + (dr ? 0.5f * dr[c] : 0);
    }
    if (nt)
        _mm_sfence();
    floor_sink = s0[0];
    return wall_ns() - t0;
}
