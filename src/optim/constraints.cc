#include "flare/optim/constraints.h"

#include <cmath>
#include <string>

#include "flare/backend.h"
#include "flare/error.h"

namespace flare::optim {

int64_t max_norm_rows(Parameter& p, double max_norm) {
  if (!(max_norm > 0))
    throw Error("max_norm_rows: max_norm must be > 0, got " + std::to_string(max_norm) + " (parameter " +
                p.name() + ")");
  const Shape& s = p.shape();
  if (s.nd() == 0) throw Error("max_norm_rows: parameter " + p.name() + " is a scalar; it has no rows");
  const int64_t rows = s.dim(0);
  if (rows == 0) return 0;
  const int64_t row = s.size() / rows;
  Backend& be = backend(p.device());
  int64_t scaled = 0;
  for (int32_t r = 0; r < int32_t(rows); ++r) {
    const UpdateRange one = UpdateRange::of_rows(&r, 1, row);
    const double norm = std::sqrt(be.sum_squares(p.dtype(), p.value().data(), one));
    if (norm > max_norm) {
      be.scale(p.dtype(), p.value().data(), one, max_norm / norm);
      ++scaled;
    }
  }
  return scaled;
}

}  // namespace flare::optim
