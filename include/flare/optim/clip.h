#pragma once
/// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_).
#include <vector>

#include "flare/parameter.h"

namespace flare::optim {

/// The L2 norm of all gradients of the trainable parameters taken together, as one vector.
/// Sparse parameters contribute only their touched rows (the others must hold zero gradient,
/// which zero_grad() guarantees). Frozen parameters do not count.
double grad_norm(const std::vector<Parameter*>& params);

/// Computes norm = grad_norm(params) and, when c = max_norm / (norm + 1e-6) is below 1, scales
/// every gradient it counted by c, so that the norm becomes (just under) max_norm. Returns the
/// norm before clipping. A non-finite norm (a NaN or infinite gradient) is returned as is and
/// the gradients are left unchanged, so the caller can see it and skip the step.
/// Throws flare::Error when max_norm is negative or NaN.
double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm);

}  // namespace flare::optim
