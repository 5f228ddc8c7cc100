// Fused optimizer kernels on the CPU. Each update reads and writes every array once per element
// in one loop; the loop bodies have no branches (flags are template parameters) so GCC
// vectorises them at -O3. Sparse ranges run the same loop once per touched row. With zero_grad
// the loop also clears each gradient element after reading it: a large embedding table's update
// is bound by memory bandwidth, and a separate zeroing pass would stream the gradient again.
// For the same reason Adam honours a dense range's grad_rows hint: rows known to have a zero
// gradient run a loop that does not read it, so the table's pass streams w, m and v only.
#include <algorithm>
#include <cmath>

#include "backend/cpu_backend.h"

namespace flare {
namespace {

// Calls f(offset, length) for each contiguous span of `r`.
template <typename F>
void for_each_span(const UpdateRange& r, F&& f) {
  if (!r.sparse()) {
    f(int64_t(0), r.n);
    return;
  }
  for (int64_t i = 0; i < r.n_rows; ++i) f(int64_t(r.rows[i]) * r.n, r.n);
}

// As for_each_span, with f(offset, length, has_grad): a dense range with a grad_rows mask is
// cut into runs of rows whose gradient is nonzero or known to be zero.
template <typename F>
void for_each_grad_span(const UpdateRange& r, F&& f) {
  if (!r.grad_rows) {
    for_each_span(r, [&](int64_t o, int64_t n) { f(o, n, true); });
    return;
  }
  const int64_t rows = r.n / r.row;
  for (int64_t begin = 0; begin < rows;) {
    const bool touched = r.grad_rows[begin] != 0;
    int64_t end = begin + 1;
    while (end < rows && (r.grad_rows[end] != 0) == touched) ++end;
    f(begin * r.row, (end - begin) * r.row, touched);
    begin = end;
  }
}

template <typename T, bool kMomentum, bool kNesterov, bool kFirst, bool kZero>
void sgd_loop(T* __restrict w, T* __restrict g, T* __restrict b, int64_t n, T lr, T mom,
              T damp1, T wd) {
  for (int64_t i = 0; i < n; ++i) {
    T d = g[i] + wd * w[i];
    if constexpr (kZero) g[i] = T(0);
    if constexpr (kMomentum) {
      const T nb = kFirst ? d : mom * b[i] + damp1 * d;
      b[i] = nb;
      d = kNesterov ? d + mom * nb : nb;
    }
    w[i] -= lr * d;
  }
}

template <typename T, bool kZero>
void sgd_typed(T* w, T* g, T* b, const UpdateRange& r, const SgdStep& s) {
  const T lr = T(s.lr), mom = T(s.momentum), damp1 = T(1 - s.dampening), wd = T(s.weight_decay);
  auto run = [&](auto loop) {
    for_each_span(r, [&](int64_t o, int64_t n) { loop(w + o, g + o, b ? b + o : nullptr, n, lr, mom, damp1, wd); });
  };
  if (s.momentum == 0) return run(sgd_loop<T, false, false, false, kZero>);
  if (s.nesterov)
    return s.first ? run(sgd_loop<T, true, true, true, kZero>) : run(sgd_loop<T, true, true, false, kZero>);
  return s.first ? run(sgd_loop<T, true, false, true, kZero>) : run(sgd_loop<T, true, false, false, kZero>);
}

template <typename T, bool kZero>
void adagrad_loop(T* __restrict w, T* __restrict g, T* __restrict s, int64_t n, T lr,
                  T eps, T wd) {
  for (int64_t i = 0; i < n; ++i) {
    const T d = g[i] + wd * w[i];
    if constexpr (kZero) g[i] = T(0);
    const T ns = s[i] + d * d;
    s[i] = ns;
    w[i] -= lr * d / (std::sqrt(ns) + eps);
  }
}

template <typename T, bool kZero>
void adadelta_loop(T* __restrict w, T* __restrict g, T* __restrict sq,
                   T* __restrict acc, int64_t n, T lr, T rho, T eps, T wd) {
  const T rho1 = T(1) - rho;
  for (int64_t i = 0; i < n; ++i) {
    const T gd = g[i] + wd * w[i];
    if constexpr (kZero) g[i] = T(0);
    const T s = rho * sq[i] + rho1 * gd * gd;
    sq[i] = s;
    const T d = std::sqrt(acc[i] + eps) / std::sqrt(s + eps) * gd;
    acc[i] = rho * acc[i] + rho1 * d * d;
    w[i] -= lr * d;
  }
}

// kGrad false: the gradient is known to be zero here (UpdateRange::grad_rows) and g is not
// read; the arithmetic is the same, so the result is bit for bit that of a zero gradient.
template <typename T, bool kDecoupled, bool kZero, bool kGrad = true>
void adam_loop(T* __restrict w, T* __restrict g, T* __restrict m, T* __restrict v,
               int64_t n, T b1, T b2, T step, T inv_sqrt_bias2, T eps, T wd, T decay) {
  const T b1c = T(1) - b1, b2c = T(1) - b2;
  for (int64_t i = 0; i < n; ++i) {
    T wi = w[i];
    T gi = kGrad ? g[i] : T(0);
    if constexpr (kZero && kGrad) g[i] = T(0);
    if constexpr (kDecoupled) {
      wi *= decay;
    } else {
      gi += wd * wi;
    }
    const T mi = b1 * m[i] + b1c * gi;
    const T vi = b2 * v[i] + b2c * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi - step * mi / (std::sqrt(vi) * inv_sqrt_bias2 + eps);
  }
}

template <typename T>
double sum_squares_loop(const T* __restrict x, int64_t n) {
  // Double accumulation: a float sum over millions of elements loses digits that clipping
  // thresholds care about. Eight independent partial sums give the vectoriser lanes without
  // -ffast-math, and a fixed order, so the result does not depend on the machine.
  constexpr int kLanes = 8;
  double part[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) part[k] += double(x[i + k]) * double(x[i + k]);
  for (; i < n; ++i) part[0] += double(x[i]) * double(x[i]);
  double acc = 0;
  for (double p : part) acc += p;
  return acc;
}

}  // namespace

// The gradient is written only when the step asks for zeroing.
template <typename T>
T* grad_ptr(const void* g) {
  return static_cast<T*>(const_cast<void*>(g));
}

void CpuBackend::sgd_update(DType t, void* w, const void* g, void* buf, UpdateRange r, SgdStep s) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    if (s.zero_grad)
      sgd_typed<T, true>(static_cast<T*>(w), grad_ptr<T>(g), static_cast<T*>(buf), r, s);
    else
      sgd_typed<T, false>(static_cast<T*>(w), grad_ptr<T>(g), static_cast<T*>(buf), r, s);
  });
}

void CpuBackend::adagrad_update(DType t, void* w, const void* g, void* sum, UpdateRange r,
                                AdagradStep s) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* pw = static_cast<T*>(w);
    T* pg = grad_ptr<T>(g);
    T* ps = static_cast<T*>(sum);
    for_each_span(r, [&](int64_t o, int64_t n) {
      if (s.zero_grad)
        adagrad_loop<T, true>(pw + o, pg + o, ps + o, n, T(s.lr), T(s.eps), T(s.weight_decay));
      else
        adagrad_loop<T, false>(pw + o, pg + o, ps + o, n, T(s.lr), T(s.eps), T(s.weight_decay));
    });
  });
}

void CpuBackend::adadelta_update(DType t, void* w, const void* g, void* sq, void* acc_delta,
                                 UpdateRange r, AdadeltaStep s) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* pw = static_cast<T*>(w);
    T* pg = grad_ptr<T>(g);
    T* psq = static_cast<T*>(sq);
    T* pacc = static_cast<T*>(acc_delta);
    auto loop = s.zero_grad ? adadelta_loop<T, true> : adadelta_loop<T, false>;
    for_each_span(r, [&](int64_t o, int64_t n) {
      loop(pw + o, pg + o, psq + o, pacc + o, n, T(s.lr), T(s.rho), T(s.eps), T(s.weight_decay));
    });
  });
}

// The per-step scalars of adam_loop, rounded to T once, the same way for every caller.
template <typename T>
struct AdamScalars {
  AdamScalars() = default;
  explicit AdamScalars(const AdamStep& s)
      : b1(T(s.beta1)), b2(T(s.beta2)), step(T(s.lr / s.bias1)), inv(T(1 / std::sqrt(s.bias2))),
        eps(T(s.eps)), wd(T(s.weight_decay)), decay(T(1 - s.lr * s.weight_decay)) {}
  T b1, b2, step, inv, eps, wd, decay;
};

void CpuBackend::adam_update(DType t, void* w, const void* g, void* m, void* v, UpdateRange r,
                             AdamStep s) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* pw = static_cast<T*>(w);
    T* pg = grad_ptr<T>(g);
    T* pm = static_cast<T*>(m);
    T* pv = static_cast<T*>(v);
    const AdamScalars<T> a(s);
    auto loop = s.decoupled ? (s.zero_grad ? adam_loop<T, true, true> : adam_loop<T, true, false>)
                            : (s.zero_grad ? adam_loop<T, false, true> : adam_loop<T, false, false>);
    auto no_grad_loop = s.decoupled ? adam_loop<T, true, false, false> : adam_loop<T, false, false, false>;
    for_each_grad_span(r, [&](int64_t o, int64_t n, bool has_grad) {
      (has_grad ? loop : no_grad_loop)(pw + o, pg + o, pm + o, pv + o, n, a.b1, a.b2, a.step, a.inv, a.eps, a.wd,
                                       a.decay);
    });
  });
}

void CpuBackend::adam_idle_steps(DType t, void* w, void* m, void* v, int64_t n, const AdamStep* steps,
                                 int64_t k) {
  if (k <= 0 || n <= 0) return;
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* pw = static_cast<T*>(w);
    T* pm = static_cast<T*>(m);
    T* pv = static_cast<T*>(v);
    // A block's three arrays (12 KiB in float) stay in L1 across the steps: the loop is then
    // bound by its arithmetic, not by streaming w, m and v from memory once per step.
    constexpr int64_t kBlock = 1024, kChunk = 64;
    AdamScalars<T> a[kChunk];
    // The steps of one optimizer: AdamW's decoupled decay or Adam's, the same for all.
    const auto loop = steps[0].decoupled ? adam_loop<T, true, false, false> : adam_loop<T, false, false, false>;
    for (int64_t s0 = 0; s0 < k; s0 += kChunk) {
      const int64_t ks = std::min(kChunk, k - s0);
      for (int64_t s = 0; s < ks; ++s) a[s] = AdamScalars<T>(steps[s0 + s]);
      for (int64_t o = 0; o < n; o += kBlock) {
        const int64_t nb = std::min(kBlock, n - o);
        for (int64_t s = 0; s < ks; ++s)
          loop(pw + o, nullptr, pm + o, pv + o, nb, a[s].b1, a[s].b2, a[s].step, a[s].inv, a[s].eps, a[s].wd,
               a[s].decay);
      }
    }
  });
}

double CpuBackend::sum_squares(DType t, const void* x, UpdateRange r) {
  return dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x);
    double acc = 0;
    for_each_span(r, [&](int64_t o, int64_t n) { acc += sum_squares_loop<T>(px + o, n); });
    return acc;
  });
}

void CpuBackend::scale(DType t, void* x, UpdateRange r, double alpha) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* px = static_cast<T*>(x);
    const T a = T(alpha);
    for_each_span(r, [&](int64_t o, int64_t n) {
      T* __restrict p = px + o;
      for (int64_t i = 0; i < n; ++i) p[i] *= a;
    });
  });
}

}  // namespace flare
