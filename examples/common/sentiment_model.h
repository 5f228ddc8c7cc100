#pragma once
// The sentiment example's model (also bench_sentiment's): word embeddings, a forward and a
// backward LSTM over the whole sentence, their final states concatenated -> linear -> scores
// for each class. Loss: -log softmax(scores)[label] for one sentence (summed, never averaged).
// Dropout (training mode only) on the word vectors and on the concatenated final states.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flare/flare.h"
#include "flare/io/datasets.h"
#include "flare/io/vocab.h"
#include "flare/nn/nn.h"

namespace flare::examples {

struct SentimentConfig {
  int64_t embed = 128;
  int64_t hidden = 128;
  int64_t classes = 5;
  double dropout = 0.0;
  /// How the BiLSTM's states become one sentence vector: "final" (each direction's last state,
  /// as the benchmark), "mean" or "max" (over positions, per direction), concatenated.
  std::string pool = "final";
  /// Sparse embedding rows with lazy Adam (only the rows a sentence uses are updated).
  bool sparse = true;
  /// The table holds pre-trained vectors (read by the caller) and is frozen unless fine_tune.
  bool pretrained = false;
  bool fine_tune = false;

  nlohmann::json to_json() const;
  static SentimentConfig from_json(const nlohmann::json& j);
};

/// Throws flare::Error unless `pool` is final, mean or max.
void check_pool(const std::string& pool);

struct SentimentExample {
  std::vector<int32_t> ids;
  int32_t label = 0;
};

/// Sentences of one length (so that a batch runs as one sequence of [dim]xB nodes, exactly as
/// its sentences would one at a time), with their labels.
struct SentimentBatch {
  std::vector<std::vector<int32_t>> ids;
  std::vector<int32_t> labels;
  size_t size() const { return labels.size(); }
};

/// Groups examples by length into batches of at most `batch_size` (1: one batch per example, in
/// order). Within a length, examples are shuffled by `seed` before being cut into batches.
std::vector<SentimentBatch> batch_by_length(const std::vector<SentimentExample>& data, int64_t batch_size,
                                            uint64_t seed);

/// The words of each sentence, in order: what the vocabulary is built from.
std::vector<std::vector<std::string>> sentence_words(const std::vector<io::LabelledSentence>& data);

/// Word ids (unknown words -> the vocabulary's unknown id) and labels. Throws IoError
/// `path:LINE: label L is outside 0..classes-1` for a label out of range.
std::vector<SentimentExample> prepare_sentiment(const std::vector<io::LabelledSentence>& data,
                                                const io::Vocabulary& vocab, int64_t classes,
                                                const std::string& path);

class SentimentModel : public nn::Module {
 public:
  /// A table of vocab_size x c.embed (named sentiment/embed/E) and the rest.
  SentimentModel(nn::Model& m, int64_t vocab_size, const SentimentConfig& c);

  /// Copies pre-trained vectors [vocab_size, embed] into the table (c.pretrained).
  void set_embeddings(const Tensor& vectors);

  /// Class scores [classes] for one sentence (at least one word).
  Expr scores(Graph& g, const std::vector<int32_t>& ids) const;
  Expr loss(Graph& g, const SentimentExample& ex) const;
  int32_t predict(Graph& g, const std::vector<int32_t>& ids) const;
  /// Scores [classes]xB for B sentences of one length.
  Expr scores(Graph& g, const std::vector<std::vector<int32_t>>& ids) const;
  /// The loss summed over the batch.
  Expr loss(Graph& g, const SentimentBatch& b) const;

  const SentimentConfig& config() const { return c_; }

 private:
  /// Word vectors [embed]xB per position -> scores [classes]xB.
  Expr encode(std::vector<Expr> xs) const;

  SentimentConfig c_;
  nn::Embedding embed_;
  nn::LSTMCell fwd_, bwd_;
  nn::Dropout drop_;
  nn::Linear out_;
};

/// The share of examples whose highest score is their label, sentences of one length scored
/// together in graphs on `device`: `scores(g, ids)` gives [classes]xB for a batch of B.
double batched_accuracy(const std::vector<SentimentExample>& data, Device device,
                        const std::function<Expr(Graph&, const std::vector<std::vector<int32_t>>&)>& scores);

/// The share of examples predicted right (evaluation mode is the caller's business); sentences
/// of one length are scored together.
double sentiment_accuracy(const SentimentModel& model, const std::vector<SentimentExample>& data);

}  // namespace flare::examples
