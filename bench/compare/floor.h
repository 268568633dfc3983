// Plain-C references for the comparison's -floor columns (floor.c).
#ifndef SIMDBN_COMPARE_FLOOR_H
#define SIMDBN_COMPARE_FLOOR_H
#include <stddef.h>
#include <stdint.h>

// write_ns writes n floats at p (AVX2 stores, non-temporal when nt) and
// returns the elapsed ns: the write of an op's output alone.
double write_ns(float *p, size_t n, int nt);
// Every function here stores non-temporally when nt, as simdbn does for
// outputs of 8 MB or more.
// one_pass_ns reads x (and dy, when not NULL) and writes out in one loop,
// non-temporally when nt: all of an op's traffic in one pass, which no
// op that needs statistics first can do. Returns the elapsed ns.
double one_pass_ns(float *out, const float *x, const float *dy, size_t n, int nt);
// two_pass_cf_ns runs the channels-first schedule of Train (dy NULL) or
// Backward in plain C: for each channel, the sums over its N runs of S
// values, then its output, runs in sample order. Returns the elapsed ns.
double two_pass_cf_ns(float *out, const float *x, const float *dy, size_t N, size_t C, size_t S, int nt);
// two_pass_cl_ns is the same for rows of C channels (channels last): the
// sums over every row, then every row's output; acc holds 4*C floats.
double two_pass_cl_ns(float *out, const float *x, const float *dy, size_t rows, size_t C, float *acc, int nt);
#endif
