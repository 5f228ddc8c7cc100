#pragma once
// The CNN sentence classifier of the cnn example and bench_cnn (Kim 2014; bench/pytorch/cnn.py's
// twin): word embeddings as a [embed, T] sequence, one convolution per filter width (100 maps
// each, no padding inside the sentence), ReLU, max over time, the pooled vectors concatenated,
// dropout (training only), linear to the classes. Sentences shorter than the widest filter are
// padded at the end with zero vectors (as PyTorch's <pad> row fixed at zero).
#include <cstdint>
#include <memory>
#include <vector>

#include "common/sentiment_model.h"
#include "flare/flare.h"
#include "flare/nn/conv1d.h"
#include "flare/nn/nn.h"

namespace flare::examples {

struct CnnConfig {
  int64_t embed = 128;
  std::vector<int64_t> widths{3, 4, 5};
  int64_t maps = 100;
  int64_t classes = 5;
  double dropout = 0.5;
  bool sparse = true;
};

class CnnClassifier : public nn::Module {
 public:
  CnnClassifier(nn::Model& m, int64_t vocab_size, const CnnConfig& c);
  /// Class scores [classes] for one sentence (at least one word).
  Expr scores(Graph& g, const std::vector<int32_t>& ids) const;
  Expr loss(Graph& g, const SentimentExample& ex) const;
  int32_t predict(Graph& g, const std::vector<int32_t>& ids) const;
  const CnnConfig& config() const { return c_; }

 private:
  CnnConfig c_;
  int64_t widest_;
  nn::Embedding embed_;
  std::vector<std::unique_ptr<nn::Conv1d>> convs_;
  nn::Dropout drop_;
  nn::Linear out_;
};

/// The share of `data` predicted right (evaluation mode is the caller's business).
double cnn_accuracy(const CnnClassifier& model, const std::vector<SentimentExample>& data);

}  // namespace flare::examples
