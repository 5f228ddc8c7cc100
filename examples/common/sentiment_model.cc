#include "common/sentiment_model.h"

#include <algorithm>
#include <map>
#include <random>

#include "common/text.h"
#include "flare/error.h"

namespace flare::examples {

nlohmann::json SentimentConfig::to_json() const {
  return {{"embed", embed},   {"hidden", hidden},         {"classes", classes},     {"dropout", dropout},
          {"pool", pool},     {"sparse", sparse},         {"pretrained", pretrained}, {"fine_tune", fine_tune}};
}

SentimentConfig SentimentConfig::from_json(const nlohmann::json& j) {
  SentimentConfig c;
  c.embed = j.at("embed");
  c.hidden = j.at("hidden");
  c.classes = j.at("classes");
  c.dropout = j.at("dropout");
  c.pool = j.at("pool");
  check_pool(c.pool);
  c.sparse = j.at("sparse");
  c.pretrained = j.at("pretrained");
  c.fine_tune = j.at("fine_tune");
  return c;
}

void check_pool(const std::string& pool) {
  if (pool != "final" && pool != "mean" && pool != "max")
    throw Error("sentiment: pooling must be final, mean or max; got '" + pool + "'");
}

std::vector<SentimentExample> prepare_sentiment(const std::vector<io::LabelledSentence>& data,
                                                const io::Vocabulary& vocab, int64_t classes,
                                                const std::string& path) {
  std::vector<SentimentExample> out;
  out.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i].label >= classes)
      throw IoError(path + ":" + std::to_string(nonblank_line(path, i)) + ": label " +
                    std::to_string(data[i].label) + " is outside 0.." + std::to_string(classes - 1));
    out.push_back({vocab.ids(data[i].words), data[i].label});
  }
  return out;
}

std::vector<SentimentBatch> batch_by_length(const std::vector<SentimentExample>& data, int64_t batch_size,
                                            uint64_t seed) {
  if (batch_size < 1) throw Error("batch_by_length: the batch size must be >= 1, got " + std::to_string(batch_size));
  std::vector<SentimentBatch> out;
  if (batch_size == 1) {
    for (const SentimentExample& ex : data) out.push_back({{ex.ids}, {ex.label}});
    return out;
  }
  std::map<size_t, std::vector<size_t>> by_length;
  for (size_t i = 0; i < data.size(); ++i) by_length[data[i].ids.size()].push_back(i);
  std::mt19937_64 gen(seed);
  for (auto& [len, members] : by_length) {
    std::shuffle(members.begin(), members.end(), gen);
    for (size_t k = 0; k < members.size(); k += size_t(batch_size)) {
      SentimentBatch b;
      for (size_t j = k; j < std::min(members.size(), k + size_t(batch_size)); ++j) {
        b.ids.push_back(data[members[j]].ids);
        b.labels.push_back(data[members[j]].label);
      }
      out.push_back(std::move(b));
    }
  }
  return out;
}

SentimentModel::SentimentModel(nn::Model& m, int64_t vocab_size, const SentimentConfig& c)
    : Module(m, "sentiment"),
      c_(c),
      embed_(m, vocab_size, c.embed, nn::EmbeddingOptions{c.sparse && (!c.pretrained || c.fine_tune), {}}),
      fwd_(m, c.embed, c.hidden, {}, "fwd"),
      bwd_(m, c.embed, c.hidden, {}, "bwd"),
      drop_(m, c.dropout),
      out_(m, 2 * c.hidden, c.classes, {}, "out") {
  check_pool(c.pool);
  if (c.pretrained && !c.fine_tune) embed_.table().set_trainable(false);
  close_scope();
}

void SentimentModel::set_embeddings(const Tensor& vectors) {
  if (vectors.shape() != embed_.table().shape())
    throw ShapeError("SentimentModel: pre-trained vectors are " + vectors.shape().str() + ", the table is " +
                     embed_.table().shape().str());
  embed_.table().value().copy_from(vectors);
}

Expr SentimentModel::scores(Graph& g, const std::vector<int32_t>& ids) const {
  if (ids.empty()) throw Error("SentimentModel: an empty sentence");
  return encode(embed_.sequence(g, ids));
}

Expr SentimentModel::scores(Graph& g, const std::vector<std::vector<int32_t>>& ids) const {
  if (ids.empty() || ids[0].empty()) throw Error("SentimentModel: an empty batch or sentence");
  return encode(embed_.sequence(g, ids));
}

Expr SentimentModel::loss(Graph& g, const SentimentBatch& b) const {
  if (b.size() == 1) return pick_neg_log_softmax(scores(g, b.ids[0]), b.labels[0]);
  return sum_batch(pick_neg_log_softmax(scores(g, b.ids), b.labels));
}

Expr SentimentModel::encode(std::vector<Expr> xs) const {
  if (c_.dropout > 0 && training())
    for (Expr& x : xs) x = drop_(x);
  const nn::SequenceResult f = nn::run(fwd_, xs), b = nn::run(bwd_, xs, {}, /*reverse=*/true);
  auto pool = [&](const nn::SequenceResult& r) {
    if (c_.pool == "mean") return sum(r.outputs) * (1.0 / double(r.outputs.size()));
    if (c_.pool == "max") {
      Expr m = r.outputs[0];
      for (size_t t = 1; t < r.outputs.size(); ++t) m = max(m, r.outputs[t]);
      return m;
    }
    return r.final.h;
  };
  return out_(drop_(concat({pool(f), pool(b)})));
}

Expr SentimentModel::loss(Graph& g, const SentimentExample& ex) const {
  return pick_neg_log_softmax(scores(g, ex.ids), ex.label);
}

int32_t SentimentModel::predict(Graph& g, const std::vector<int32_t>& ids) const {
  return argmax(scores(g, ids).to_vector());
}

std::vector<std::vector<std::string>> sentence_words(const std::vector<io::LabelledSentence>& data) {
  std::vector<std::vector<std::string>> words;
  words.reserve(data.size());
  for (const io::LabelledSentence& s : data) words.push_back(s.words);
  return words;
}

double batched_accuracy(const std::vector<SentimentExample>& data, Device device,
                        const std::function<Expr(Graph&, const std::vector<std::vector<int32_t>>&)>& scores) {
  if (data.empty()) return 0;
  Graph g(device);
  int64_t right = 0;
  for (const SentimentBatch& b : batch_by_length(data, 64, 0)) {
    g.clear();
    const std::vector<double> s = scores(g, b.ids).to_vector();
    const size_t c = s.size() / b.size();
    for (size_t k = 0; k < b.size(); ++k)
      right += argmax(std::vector<double>(s.begin() + long(k * c), s.begin() + long((k + 1) * c))) == b.labels[k];
  }
  return double(right) / double(data.size());
}

double sentiment_accuracy(const SentimentModel& model, const std::vector<SentimentExample>& data) {
  // Graphs where the model is (a GPU after Model::to).
  return batched_accuracy(data, model.model().device(),
                          [&](Graph& g, const std::vector<std::vector<int32_t>>& ids) { return model.scores(g, ids); });
}

}  // namespace flare::examples
