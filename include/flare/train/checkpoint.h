#pragma once
/// Checkpoints: parameters (by name) and, optionally, an optimizer's state in one safetensors
/// file, written atomically (a temporary file renamed over the target, via flare::io), so a
/// crash while saving leaves the previous checkpoint intact.
///
///     flare::train::save_checkpoint("model.safetensors", model.parameters(), &opt,
///                                   {{"epoch", "3"}});
///     flare::train::load_checkpoint("model.safetensors", model.parameters(), &opt);
///
/// File layout: each parameter is a tensor under its own name (so the file also opens in
/// PyTorch/NumPy tooling); optimizer state tensors are stored as `optimizer/<state name>`
/// (e.g. `optimizer/encoder.W/adam/m`, see flare/optim/optimizer.h). The metadata holds the
/// caller's entries plus reserved `flare.` keys: `flare.checkpoint` (format version),
/// `flare.optimizer` (its kind) and `flare.optimizer.<scalar>` (step, lr; 17 digits).
///
/// Resuming: a model and optimizer built as before and loaded from a checkpoint continue
/// exactly (bit for bit) as the run that saved it, given the same data order from then on.
#include <string>
#include <vector>

#include "flare/io/safetensors.h"
#include "flare/optim/optimizer.h"
#include "flare/parameter.h"

namespace flare::train {

/// Saves the values of `params` (under their names) and, when `optimizer` is given, its
/// state. Throws flare::Error for repeated or empty parameter names, a name beginning with
/// `optimizer/`, or a metadata key beginning with `flare.`; IoError when writing fails.
void save_checkpoint(const std::string& path, const std::vector<Parameter*>& params,
                     optim::Optimizer* optimizer = nullptr, const io::Metadata& metadata = {});

/// Loads a checkpoint into `params` (and `optimizer`, when given) and returns the caller's
/// metadata (without the `flare.` keys). Everything is read and checked before anything is
/// assigned: on any error nothing changes. Throws flare::IoError
///  - `<path>: ...` from flare::io for a missing, truncated or malformed file;
///  - `<path>: checkpoint does not match:` followed by one line per problem: `missing
///    parameter 'name' ([4,3] float32)`, `unexpected tensor 'name' in the file`,
///    `parameter 'name': shape [3,4] in the file, [4,3] in the model`, `parameter 'name':
///    dtype float64 in the file, float32 in the model`, and for the optimizer `the file has no
///    optimizer state` or each line of Optimizer::check_state().
/// Without an optimizer, optimizer entries in the file are ignored (loading a model for
/// evaluation). Parameters may live on any device; values are copied to it.
io::Metadata load_checkpoint(const std::string& path, const std::vector<Parameter*>& params,
                             optim::Optimizer* optimizer = nullptr);

}  // namespace flare::train
