#pragma once
// The language models of the charlm and rnnlm examples (rnnlm's is also bench_rnnlm_batch's):
// embeddings -> stacked LSTM -> linear -> softmax over the vocabulary, trained on time-major
// mini-batches with the loss summed over the real targets. Sampling steps one token at a time.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/lm_data.h"
#include "flare/flare.h"
#include "flare/nn/nn.h"

namespace flare::examples {

struct LMConfig {
  int64_t embed = 128;
  int64_t hidden = 256;
  int layers = 1;
  /// Dropout on the LSTM's inputs and outputs (training only).
  double dropout = 0.0;
  bool sparse = true;
  /// Initialise as PyTorch's defaults for nn.Embedding, nn.LSTM and nn.Linear do (embeddings
  /// N(0, 1); LSTM and output weights and the output bias U(-1/sqrt(hidden), 1/sqrt(hidden));
  /// LSTM biases zero, where PyTorch draws its two from the same uniform) instead of flare's
  /// (embeddings U(+-sqrt(3/embed)), Glorot weights, forget-gate bias 1). The benchmark uses it
  /// to compare perplexity with its PyTorch program model for model: the two inits train at
  /// visibly different speeds in the first hundred updates.
  bool torch_init = false;

  nlohmann::json to_json() const;
  static LMConfig from_json(const nlohmann::json& j);
};

class LanguageModel : public nn::Module {
 public:
  LanguageModel(nn::Model& m, int64_t vocab_size, const LMConfig& c, const std::string& name = "lm");

  /// The negative log-likelihood of the batch's real targets, summed.
  Expr loss(Graph& g, const LMBatch& b) const;

  /// A recurrent state carried between graphs as plain tensors (one h and c per layer).
  struct State {
    std::vector<Tensor> h, c;
  };
  /// Reads `id` from `state` (empty: zeros), leaves the next state there and returns the
  /// scores [vocab] of the next token.
  std::vector<double> step(Graph& g, int32_t id, State& state) const;

  const LMConfig& config() const { return c_; }
  int64_t vocab_size() const { return out_.out_dim(); }

 private:
  LMConfig c_;
  nn::Embedding embed_;
  nn::RNN rnn_;
  nn::Dropout drop_;
  nn::Linear out_;
};

/// The summed NLL (nats) and target count over `batches` (evaluation mode is the caller's).
struct LMScore {
  double nll = 0;
  int64_t targets = 0;
  double perplexity() const;
  double bits_per_token() const;
};
LMScore lm_score(const LanguageModel& model, const std::vector<LMBatch>& batches);

/// Draws an index from softmax(scores / temperature); temperature 0 takes the argmax.
int32_t sample_index(const std::vector<double>& scores, double temperature, std::mt19937_64& gen);

}  // namespace flare::examples
