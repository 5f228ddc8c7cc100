#include "flare/nn/init.h"

#include <cmath>
#include <sstream>

#include "backend/random.h"
#include "flare/error.h"

namespace flare::nn {
namespace {

const char* kind_name(Init::Kind k) {
  switch (k) {
    case Init::Kind::constant: return "constant";
    case Init::Kind::uniform: return "uniform";
    case Init::Kind::normal: return "normal";
    case Init::Kind::glorot_uniform: return "glorot_uniform";
    case Init::Kind::glorot_normal: return "glorot_normal";
    case Init::Kind::orthogonal: return "orthogonal";
  }
  return "?";
}

// Modified Gram-Schmidt on the columns of a tall n x m matrix (n >= m), in place. Each column's
// norm after projection is R's diagonal entry, positive by construction, so the result is the Q
// of a QR with diag(R) > 0 (what PyTorch's sign correction produces).
void orthonormalise_columns(std::vector<double>& a, int64_t n, int64_t m, const Shape& s) {
  for (int64_t j = 0; j < m; ++j) {
    for (int64_t k = 0; k < j; ++k) {
      double d = 0;
      for (int64_t i = 0; i < n; ++i) d += a[size_t(i * m + k)] * a[size_t(i * m + j)];
      for (int64_t i = 0; i < n; ++i) a[size_t(i * m + j)] -= d * a[size_t(i * m + k)];
    }
    double norm = 0;
    for (int64_t i = 0; i < n; ++i) norm += a[size_t(i * m + j)] * a[size_t(i * m + j)];
    norm = std::sqrt(norm);
    if (!(norm > 1e-12))
      throw Error("orthogonal init: degenerate random matrix for shape " + s.str() + "; use another seed");
    for (int64_t i = 0; i < n; ++i) a[size_t(i * m + j)] /= norm;
  }
}

}  // namespace

std::string Init::str() const {
  std::ostringstream os;
  os << kind_name(kind) << "(";
  switch (kind) {
    case Kind::constant: os << a; break;
    case Kind::uniform: os << a << ", " << b; break;
    case Kind::normal: os << "mean=" << a << ", std=" << b; break;
    default: os << "gain=" << a; break;
  }
  os << ")";
  return os.str();
}

Fans fans(const Shape& s) {
  if (s.nd() < 2)
    throw Error("fans: a weight needs at least 2 dims [out, in, ...] to have fans; got shape " + s.str());
  int64_t field = 1;
  for (int i = 2; i < s.nd(); ++i) field *= s.dim(i);
  return {s.dim(1) * field, s.dim(0) * field};
}

std::vector<double> sample(const Init& init, const Shape& s, uint64_t seed) {
  const int64_t n = s.total();
  std::vector<double> v(static_cast<size_t>(n));
  auto needs_matrix = [&] {
    if (s.nd() < 2)
      throw Error(init.str() + ": needs a weight of at least 2 dims [out, in, ...]; got shape " + s.str());
  };
  switch (init.kind) {
    case Init::Kind::constant:
      for (double& x : v) x = init.a;
      break;
    case Init::Kind::uniform: {
      if (!(init.b >= init.a)) throw Error(init.str() + ": the upper bound is below the lower bound");
      for (int64_t i = 0; i < n; ++i) v[size_t(i)] = init.a + (init.b - init.a) * rng::uniform(seed, uint64_t(i));
      break;
    }
    case Init::Kind::normal:
      if (!(init.b >= 0)) throw Error(init.str() + ": the standard deviation is negative");
      for (int64_t i = 0; i < n; ++i) v[size_t(i)] = init.a + init.b * rng::normal(seed, uint64_t(i));
      break;
    case Init::Kind::glorot_uniform: {
      needs_matrix();
      Fans f = fans(s);
      const double r = init.a * std::sqrt(6.0 / double(f.in + f.out));
      for (int64_t i = 0; i < n; ++i) v[size_t(i)] = r * (2.0 * rng::uniform(seed, uint64_t(i)) - 1.0);
      break;
    }
    case Init::Kind::glorot_normal: {
      needs_matrix();
      Fans f = fans(s);
      const double sd = init.a * std::sqrt(2.0 / double(f.in + f.out));
      for (int64_t i = 0; i < n; ++i) v[size_t(i)] = sd * rng::normal(seed, uint64_t(i));
      break;
    }
    case Init::Kind::orthogonal: {
      needs_matrix();
      if (s.batch() != 1) throw Error(init.str() + ": needs a batch-1 shape; got " + s.str());
      const int64_t rows = s.dim(0), cols = s.size() / rows;
      // Work on the tall orientation, then transpose back when the matrix is wide.
      const bool wide = rows < cols;
      const int64_t tn = wide ? cols : rows, tm = wide ? rows : cols;
      std::vector<double> t(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) t[size_t(i)] = rng::normal(seed, uint64_t(i));
      orthonormalise_columns(t, tn, tm, s);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          v[size_t(r * cols + c)] = init.a * (wide ? t[size_t(c * tm + r)] : t[size_t(r * tm + c)]);
      break;
    }
  }
  return v;
}

uint64_t name_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across platforms and runs
  for (unsigned char ch : name) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return rng::mix(seed ^ rng::mix(h));
}

void initialize(Parameter& p, const Init& init, uint64_t seed) {
  std::vector<double> v;
  try {
    v = sample(init, p.shape(), seed);
  } catch (const Error& e) {
    throw Error("parameter " + p.name() + ": " + e.what());
  }
  p.value().copy_from(Tensor::from(p.shape(), v, DType::f64));
}

}  // namespace flare::nn
