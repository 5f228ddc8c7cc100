#include "flare/optim/clip.h"

#include <cmath>
#include <string>

#include "flare/backend.h"
#include "flare/error.h"

namespace flare::optim {
namespace {

UpdateRange grad_range(const Parameter& p) {
  if (!p.sparse()) return UpdateRange::dense(p.shape().total());
  const auto& rows = p.touched_rows();
  return UpdateRange::of_rows(rows.data(), int64_t(rows.size()), p.shape().size() / p.shape().dim(0));
}

bool counts(const Parameter* p) { return p && p->trainable(); }

}  // namespace

double grad_norm(const std::vector<Parameter*>& params) {
  double sq = 0;
  for (const Parameter* p : params) {
    if (!counts(p)) continue;
    sq += backend(p->device()).sum_squares(p->dtype(), p->grad().data(), grad_range(*p));
  }
  return std::sqrt(sq);
}

double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm) {
  if (!(max_norm >= 0))
    throw Error("clip_grad_norm: max_norm must be >= 0, got " + std::to_string(max_norm));
  const double norm = grad_norm(params);
  if (!std::isfinite(norm)) return norm;
  const double coef = max_norm / (norm + 1e-6);
  if (coef >= 1) return norm;
  for (Parameter* p : params) {
    if (!counts(p)) continue;
    backend(p->device()).scale(p->dtype(), p->grad().data(), grad_range(*p), coef);
  }
  return norm;
}

}  // namespace flare::optim
