#include "torch_shim.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <malloc.h>

#include <chrono>
#include <cstring>
#include <string>

static std::string err;
static std::string config;

struct TB {
    int64_t N, C, H, W;
    bool cl;
    double eps, momentum;
    at::MemoryFormat fmt;
    at::Tensor x, y, dy, dx, w, b, rm, rv, save_mean, save_invstd, dw, db;
};

extern "C" {

const char *tb_error(void) { return err.c_str(); }
const char *tb_config(void) { return config.c_str(); }

int tb_init(void) {
    try {
        // Keep freed large blocks in the heap instead of unmapping them, so the
        // outputs that at::native_batch_norm_backward allocates on each call
        // do not page-fault on every call (PyTorch's CPU allocator is glibc malloc).
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
        mallopt(M_TOP_PAD, 64 << 20);
        at::set_num_threads(1);
        at::set_num_interop_threads(1);
        config = at::get_parallel_info();
        return at::get_num_threads();
    } catch (const std::exception &e) {
        err = e.what();
        return -1;
    }
}

void *tb_new(int64_t N, int64_t C, int64_t H, int64_t W, int cl, double eps, double momentum) {
    try {
        auto t = new TB;
        t->N = N; t->C = C; t->H = H; t->W = W;
        t->cl = cl != 0;
        t->eps = eps;
        t->momentum = momentum;
        t->fmt = cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
        auto o = at::TensorOptions().dtype(at::kFloat);
        t->x = at::empty({N, C, H, W}, o.memory_format(t->fmt));
        t->y = at::empty({N, C, H, W}, o.memory_format(t->fmt));
        t->dy = at::empty({N, C, H, W}, o.memory_format(t->fmt));
        t->w = at::empty({C}, o);
        t->b = at::empty({C}, o);
        t->rm = at::empty({C}, o);
        t->rv = at::empty({C}, o);
        t->save_mean = at::empty({C}, o);
        t->save_invstd = at::empty({C}, o);
        return t;
    } catch (const std::exception &e) {
        err = e.what();
        return nullptr;
    }
}

void tb_free(void *h) { delete static_cast<TB *>(h); }

static void fill(at::Tensor &t, const float *src) {
    std::memcpy(t.data_ptr<float>(), src, t.numel() * sizeof(float));
}

static void take(float *dst, const at::Tensor &t, at::MemoryFormat fmt) {
    at::Tensor c = t.dim() == 4 ? t.contiguous(fmt) : t.contiguous();
    std::memcpy(dst, c.data_ptr<float>(), c.numel() * sizeof(float));
}

int tb_set(void *h, const float *x, const float *dy, const float *w, const float *b,
           const float *rm, const float *rv) {
    auto t = static_cast<TB *>(h);
    try {
        fill(t->x, x);
        fill(t->dy, dy);
        fill(t->w, w);
        fill(t->b, b);
        fill(t->rm, rm);
        fill(t->rv, rv);
        std::memset(t->y.data_ptr<float>(), 0, t->y.numel() * sizeof(float));
        return 0;
    } catch (const std::exception &e) {
        err = e.what();
        return -1;
    }
}

double tb_run(void *h, int op) {
    auto t = static_cast<TB *>(h);
    try {
        auto t0 = std::chrono::steady_clock::now();
        switch (op) {
        // at::native_batch_norm_out has no CPU kernel in PyTorch 1.13, so the
        // functional op runs and allocates its outputs on every call (glibc
        // reuses the freed blocks: see tb_init).
        case 0: {
            auto r = at::native_batch_norm(t->x, t->w, t->b, t->rm, t->rv, true, t->momentum, t->eps);
            t->y = std::get<0>(r);
            t->save_mean = std::get<1>(r);
            t->save_invstd = std::get<2>(r);
            break;
        }
        case 1: {
            auto r = at::native_batch_norm(t->x, t->w, t->b, t->rm, t->rv, false, t->momentum, t->eps);
            t->y = std::get<0>(r);
            break;
        }
        default: {
            auto r = at::native_batch_norm_backward(t->dy, t->x, t->w, t->rm, t->rv, t->save_mean,
                                                    t->save_invstd, true, t->eps,
                                                    {true, true, true});
            t->dx = std::get<0>(r);
            t->dw = std::get<1>(r);
            t->db = std::get<2>(r);
            break;
        }
        }
        auto t1 = std::chrono::steady_clock::now();
        return std::chrono::duration<double, std::nano>(t1 - t0).count();
    } catch (const std::exception &e) {
        err = e.what();
        return -1;
    }
}

int tb_get(void *h, float *y, float *dx, float *mean, float *invstd, float *rm, float *rv,
           float *dw, float *db) {
    auto t = static_cast<TB *>(h);
    try {
        int flags = 0;
        if (t->y.is_contiguous(t->fmt)) flags |= 1;
        if (t->dx.defined() && t->dx.is_contiguous(t->fmt)) flags |= 2;
        take(y, t->y, t->fmt);
        if (t->dx.defined()) {
            take(dx, t->dx, t->fmt);
            take(dw, t->dw, t->fmt);
            take(db, t->db, t->fmt);
        }
        take(mean, t->save_mean, t->fmt);
        take(invstd, t->save_invstd, t->fmt);
        take(rm, t->rm, t->fmt);
        take(rv, t->rv, t->fmt);
        return flags;
    } catch (const std::exception &e) {
        err = e.what();
        return -1;
    }
}

const float *tb_out(void *h, int op, int64_t *n) {
    auto t = static_cast<TB *>(h);
    const at::Tensor &o = op == 2 ? t->dx : t->y;
    if (!o.defined()) return nullptr;
    *n = o.numel();
    return o.data_ptr<float>();
}

}  // extern "C"
