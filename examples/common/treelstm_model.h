#pragma once
// The treelstm example's model (also bench_treenn's): a binary Tree-LSTM (Tai et al. 2015,
// N-ary form; nn::TreeLSTM) over a sentence's constituency tree, with word embeddings at the
// leaves and a linear layer scoring the classes at every node. Training loss: the sum over all
// nodes (leaves included) of -log softmax(scores)[node label]. Prediction: the root's class.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flare/flare.h"
#include "flare/io/tree.h"
#include "flare/io/vocab.h"
#include "flare/nn/nn.h"

namespace flare::examples {

struct TreeConfig {
  int64_t embed = 128;
  int64_t hidden = 128;
  int64_t classes = 5;
  /// Dropout on the word vectors and on each node's state before scoring (training only).
  double dropout = 0.0;
  bool sparse = true;

  nlohmann::json to_json() const;
  static TreeConfig from_json(const nlohmann::json& j);
};

/// A tree flattened once: nodes in post-order (children first, the root last).
struct TreeExample {
  struct Node {
    int32_t word = -1;             ///< word id of a leaf; -1 for inner nodes
    int32_t left = -1, right = -1; ///< indices of the children (right -1 for a unary node)
    int32_t label = 0;
  };
  std::vector<Node> nodes;
  int64_t leaves = 0;
  int32_t root_label() const { return nodes.back().label; }
};

/// Word ids and labels of each tree. Throws IoError `path:LINE: label L of node N is outside
/// 0..classes-1` for a label out of range.
std::vector<TreeExample> prepare_trees(const std::vector<io::Tree>& trees, const io::Vocabulary& vocab,
                                       int64_t classes, const std::string& path);

/// The leaves' words of every tree, in order (to build a vocabulary).
std::vector<std::vector<std::string>> tree_words(const std::vector<io::Tree>& trees);

class TreeSentimentModel : public nn::Module {
 public:
  TreeSentimentModel(nn::Model& m, int64_t vocab_size, const TreeConfig& c);

  /// Every node's state (post-order, as ex.nodes).
  std::vector<nn::RNNState> encode(Graph& g, const TreeExample& ex) const;
  /// The summed loss over all nodes.
  Expr loss(Graph& g, const TreeExample& ex) const;
  /// The root's predicted class.
  int32_t predict(Graph& g, const TreeExample& ex) const;

  const TreeConfig& config() const { return c_; }

 private:
  TreeConfig c_;
  nn::Embedding embed_;
  nn::TreeLSTM tree_;
  nn::Dropout drop_;
  nn::Linear out_;
};

/// Root accuracy over `data`.
double tree_root_accuracy(const TreeSentimentModel& model, const std::vector<TreeExample>& data);

}  // namespace flare::examples
