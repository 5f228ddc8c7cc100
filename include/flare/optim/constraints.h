#pragma once
/// Constraints on parameter values, applied after an optimizer step (the Keras "constraint",
/// PyTorch's `with torch.no_grad(): w.renorm_(...)` after opt.step()).
#include <cstdint>

#include "flare/parameter.h"

namespace flare::optim {

/// Max-norm constraint (Srivastava et al. 2014; Kim 2014 uses 3 on the output layer): every
/// row of p's value (a row: the elements sharing one index of dimension 0, so one output
/// unit's weights of a Linear W [out, in]) whose L2 norm exceeds max_norm is scaled down to
/// norm max_norm; other rows are left exactly as they are. Returns how many rows were scaled.
/// Frozen parameters are constrained too (the caller chose p). Works on any device (one
/// sum_squares per row, one scale per scaled row). Throws flare::Error for a non-positive or
/// NaN max_norm, or a parameter with no dimensions.
int64_t max_norm_rows(Parameter& p, double max_norm);

}  // namespace flare::optim
