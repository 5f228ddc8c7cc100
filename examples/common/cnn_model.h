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
  /// > 0: word vectors start U(-a, a) with a = embed_scale (Kim's 0.25); 0: N(0, 1), the
  /// default of torch.nn.Embedding and of the benchmark's PyTorch twin.
  double embed_scale = 0;
};

class CnnClassifier : public nn::Module {
 public:
  CnnClassifier(nn::Model& m, int64_t vocab_size, const CnnConfig& c);
  /// Class scores [classes] for one sentence (at least one word).
  Expr scores(Graph& g, const std::vector<int32_t>& ids) const;
  Expr loss(Graph& g, const SentimentExample& ex) const;
  int32_t predict(Graph& g, const std::vector<int32_t>& ids) const;
  /// Scores [classes]xB for B sentences of one length: the convolutions run as one batched
  /// GEMM each, and every sentence gets exactly the scores it would get alone.
  Expr scores(Graph& g, const std::vector<std::vector<int32_t>>& ids) const;
  /// The loss summed over the batch.
  Expr loss(Graph& g, const SentimentBatch& b) const;
  const CnnConfig& config() const { return c_; }
  /// The output layer (the max-norm constraint's target).
  const nn::Linear& output() const { return out_; }

 private:
  CnnConfig c_;
  int64_t widest_;
  nn::Embedding embed_;
  std::vector<std::unique_ptr<nn::Conv1d>> convs_;
  nn::Dropout drop_;
  nn::Linear out_;

  /// Word vectors [embed, T]xB (equal lengths) -> class scores [classes]xB.
  Expr classify(const Expr& x, int64_t length) const;
};

/// The share of `data` predicted right (evaluation mode is the caller's business); sentences
/// of one length are scored together.
double cnn_accuracy(const CnnClassifier& model, const std::vector<SentimentExample>& data);

}  // namespace flare::examples
