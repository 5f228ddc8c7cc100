#include "common/treelstm_model.h"

#include <unordered_map>

#include "common/rows.h"
#include "common/text.h"
#include "flare/error.h"

namespace flare::examples {

nlohmann::json TreeConfig::to_json() const {
  return {{"embed", embed}, {"hidden", hidden}, {"classes", classes}, {"dropout", dropout}, {"sparse", sparse}};
}

TreeConfig TreeConfig::from_json(const nlohmann::json& j) {
  TreeConfig c;
  c.embed = j.at("embed");
  c.hidden = j.at("hidden");
  c.classes = j.at("classes");
  c.dropout = j.at("dropout");
  c.sparse = j.at("sparse");
  return c;
}

std::vector<TreeExample> prepare_trees(const std::vector<io::Tree>& trees, const io::Vocabulary& vocab,
                                       int64_t classes, const std::string& path) {
  std::vector<TreeExample> out(trees.size());
  for (size_t i = 0; i < trees.size(); ++i) {
    const std::vector<const io::Tree*> order = trees[i].post_order();
    std::unordered_map<const io::Tree*, int32_t> at;
    TreeExample& ex = out[i];
    ex.nodes.reserve(order.size());
    for (const io::Tree* t : order) {
      if (t->label >= classes)
        throw IoError(path + ":" + std::to_string(nonblank_line(path, i)) + ": label " + std::to_string(t->label) +
                      " of node " + std::to_string(ex.nodes.size() + 1) + " (post-order) is outside 0.." +
                      std::to_string(classes - 1));
      TreeExample::Node n;
      n.label = t->label;
      if (t->is_leaf()) {
        n.word = vocab.id(t->word);
        ++ex.leaves;
      } else {
        n.left = at.at(&t->children[0]);
        if (t->children.size() > 1) n.right = at.at(&t->children[1]);
      }
      at.emplace(t, int32_t(ex.nodes.size()));
      ex.nodes.push_back(n);
    }
  }
  return out;
}

std::vector<std::vector<std::string>> tree_words(const std::vector<io::Tree>& trees) {
  std::vector<std::vector<std::string>> out;
  out.reserve(trees.size());
  for (const io::Tree& t : trees) out.push_back(t.leaves());
  return out;
}

TreeSentimentModel::TreeSentimentModel(nn::Model& m, int64_t vocab_size, const TreeConfig& c)
    : Module(m, "treelstm"),
      c_(c),
      embed_(m, vocab_size, c.embed, nn::EmbeddingOptions{c.sparse, {}}),
      tree_(m, c.embed, c.hidden, {}, "tree"),
      drop_(m, c.dropout),
      out_(m, c.hidden, c.classes, {}, "out") {
  close_scope();
}

std::vector<nn::RNNState> TreeSentimentModel::encode(Graph& g, const TreeExample& ex) const {
  const nn::TreeLSTM::Params p = tree_.bind(g);
  const Expr table = g.param(embed_.table());
  // Eagerly, all leaves run first as one batch (one lookup, one matrix product); under the
  // auto-batcher one leaf per node, which it merges across the trees of a batch.
  std::vector<int32_t> words;
  for (const TreeExample::Node& n : ex.nodes)
    if (n.word >= 0) words.push_back(n.word);
  const std::vector<nn::RNNState> leaves = tree_.leaf_states(
      p, words.size(), [&] { return drop_(lookup(table, words)); },
      [&](size_t k) { return drop_(lookup(table, words[k])); });
  std::vector<nn::RNNState> states(ex.nodes.size());
  for (size_t i = 0, k = 0; i < ex.nodes.size(); ++i)
    if (ex.nodes[i].word >= 0) states[i] = leaves[k++];
  std::vector<int32_t> left(ex.nodes.size()), right(ex.nodes.size());
  for (size_t i = 0; i < ex.nodes.size(); ++i) {
    left[i] = ex.nodes[i].word >= 0 ? -1 : ex.nodes[i].left;
    right[i] = ex.nodes[i].right;
  }
  tree_.encode_inner(p, left, right, states);
  return states;
}

Expr TreeSentimentModel::loss(Graph& g, const TreeExample& ex) const {
  const std::vector<nn::RNNState> states = encode(g, ex);
  std::vector<Expr> hs;
  std::vector<int32_t> labels;
  hs.reserve(states.size());
  labels.reserve(states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    hs.push_back(states[i].h);
    labels.push_back(ex.nodes[i].label);
  }
  // All nodes scored by one matrix product: the same sum as one output layer per node.
  return summed_nll_rows(linear_rows(out_, drop_(stack_rows(hs))), labels);
}

int32_t TreeSentimentModel::predict(Graph& g, const TreeExample& ex) const {
  return argmax(out_(encode(g, ex).back().h).to_vector());
}

double tree_root_accuracy(const TreeSentimentModel& model, const std::vector<TreeExample>& data) {
  if (data.empty()) return 0;
  Graph g(model.model().device());  // where the model is (a GPU after Model::to)
  int64_t right = 0;
  for (const TreeExample& ex : data) {
    g.clear();
    right += model.predict(g, ex) == ex.root_label();
  }
  return double(right) / double(data.size());
}

}  // namespace flare::examples
