#pragma once
// Self-contained checkpoints for the examples: parameters (and optionally the optimizer's
// state) through flare::train, plus everything needed to rebuild the model before loading:
// which example wrote it, its hyper-parameters (a JSON object) and its vocabularies. A saved
// model therefore evaluates or generates without the training data.
//
// Metadata keys: `example` (the program's name), `config` (JSON object), and `vocab.<name>`
// (a JSON array of the entries in id order; `vocab.<name>.unk` holds the unknown token when
// the vocabulary has one).
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flare/io/vocab.h"
#include "flare/optim/optimizer.h"
#include "flare/parameter.h"
#include "flare/tensor.h"

namespace flare::examples {

struct ModelInfo {
  std::string example;
  nlohmann::json config;
  std::map<std::string, io::Vocabulary> vocabs;

  /// The vocabulary `name`; throws IoError naming `source` when the file has none.
  const io::Vocabulary& vocab(const std::string& name) const;
  std::string source;
};

/// Writes params (+ optimizer state when given), the config and the vocabularies to `path`.
void save_model(const std::string& path, const ModelInfo& info, const std::vector<Parameter*>& params,
                optim::Optimizer* optimizer = nullptr);

/// Reads the example name, config and vocabularies of a checkpoint. Throws IoError naming the
/// path when it is not a checkpoint of `example` (or not one written by an example at all).
ModelInfo read_model_info(const std::string& path, const std::string& example);

/// Loads the parameter values (and the optimizer's state when `optimizer` is given and the file
/// holds one: a model saved without it still resumes, with a fresh optimizer).
void load_model(const std::string& path, const std::vector<Parameter*>& params,
                optim::Optimizer* optimizer = nullptr);

/// A copy of parameter values kept in memory (the best epoch so far), restorable later.
class Snapshot {
 public:
  void take(const std::vector<Parameter*>& params);
  /// Copies the values back; does nothing when nothing was taken.
  void restore(const std::vector<Parameter*>& params) const;
  bool empty() const { return values_.empty(); }

 private:
  std::vector<Tensor> values_;
};

}  // namespace flare::examples
