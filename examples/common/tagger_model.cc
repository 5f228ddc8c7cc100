#include "common/tagger_model.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "common/rows.h"
#include "common/text.h"
#include "flare/error.h"

namespace flare::examples {

nlohmann::json TaggerConfig::to_json() const {
  return {{"embed", embed},           {"hidden", hidden},   {"mlp", mlp},
          {"chars", chars},           {"char_embed", char_embed}, {"char_hidden", char_hidden},
          {"rare_max", rare_max},     {"sparse", sparse}};
}

TaggerConfig TaggerConfig::from_json(const nlohmann::json& j) {
  TaggerConfig c;
  c.embed = j.at("embed");
  c.hidden = j.at("hidden");
  c.mlp = j.at("mlp");
  c.chars = j.at("chars");
  c.char_embed = j.at("char_embed");
  c.char_hidden = j.at("char_hidden");
  c.rare_max = j.at("rare_max");
  c.sparse = j.at("sparse");
  return c;
}

TaggerVocabs build_tagger_vocabs(const std::vector<io::TaggedSentence>& train,
                                 const std::vector<io::TaggedSentence>& all, const TaggerConfig& c) {
  TaggerVocabs v;
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& s : train)
    for (const std::string& w : s.words) ++counts[w];
  for (const auto& s : train)
    for (const std::string& w : s.words)
      if (!c.chars || counts[w] > c.rare_max) v.words.add(w);
  v.words.freeze();
  if (c.chars) {
    for (const auto& s : train)
      for (const std::string& w : s.words)
        for (const std::string& ch : utf8_chars(w)) v.chars.add(ch);
  }
  v.chars.freeze();
  std::set<std::string> tags;
  for (const auto& s : all) tags.insert(s.tags.begin(), s.tags.end());
  for (const std::string& t : tags) v.tags.add(t);
  v.tags.freeze();
  return v;
}

std::vector<TaggedExample> prepare_tagged(const std::vector<io::TaggedSentence>& data, const TaggerVocabs& v,
                                          const TaggerConfig& c, const std::string& path, bool known_tags_only) {
  std::vector<TaggedExample> out(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    const io::TaggedSentence& s = data[i];
    TaggedExample& ex = out[i];
    auto where = [&] { return path + ":" + std::to_string(nonblank_line(path, i)) + ": "; };
    for (size_t t = 0; t < s.words.size(); ++t) {
      const std::string& w = s.words[t];
      if (c.chars && !v.words.contains(w)) {
        std::vector<std::string> chars;
        try {
          chars = utf8_chars(w);
        } catch (const Error& e) {
          throw IoError(where() + "word " + std::to_string(t + 1) + ": " + e.what());
        }
        ex.words.push_back(-1);
        ex.chars.push_back(v.chars.ids(chars));
      } else {
        ex.words.push_back(v.words.id(w));
        ex.chars.emplace_back();
      }
      if (v.tags.contains(s.tags[t]))
        ex.tags.push_back(v.tags.id(s.tags[t]));
      else if (known_tags_only)
        throw IoError(where() + "tag '" + s.tags[t] + "' of word " + std::to_string(t + 1) + " is not in the tag set");
      else
        ex.tags.push_back(-1);
    }
  }
  return out;
}

TaggerModel::TaggerModel(nn::Model& m, const TaggerVocabs& v, const TaggerConfig& c)
    : Module(m, "tagger"),
      c_(c),
      embed_(m, v.words.size(), c.embed, nn::EmbeddingOptions{c.sparse, {}}),
      rnn_(m, c.embed, c.hidden, nn::RNNOptions{nn::CellType::lstm, 1, nn::Direction::bidirectional, 0.0, {}, {}}),
      hidden_(m, 2 * c.hidden, c.mlp, {}, "hidden"),
      out_(m, c.mlp, v.tags.size(), {}, "out") {
  if (c.chars) {
    if (2 * c.char_hidden != c.embed)
      throw Error("TaggerModel: 2 x char_hidden (" + std::to_string(2 * c.char_hidden) +
                  ") must equal the word vector size (" + std::to_string(c.embed) + ")");
    char_embed_ = std::make_unique<nn::Embedding>(m, v.chars.size(), c.char_embed,
                                                  nn::EmbeddingOptions{c.sparse, {}}, "char_embed");
    char_fwd_ = std::make_unique<nn::LSTMCell>(m, c.char_embed, c.char_hidden, nn::LSTMOptions{}, "char_fwd");
    char_bwd_ = std::make_unique<nn::LSTMCell>(m, c.char_embed, c.char_hidden, nn::LSTMOptions{}, "char_bwd");
  }
  close_scope();
}

std::vector<Expr> TaggerModel::char_vectors(const Expr& char_table, const TaggedExample& ex,
                                            const std::vector<size_t>& positions) const {
  std::vector<Expr> out;
  out.reserve(positions.size());
  if (char_table.graph().batches_examples() || !c_.pack_chars) {
    // Under the auto-batcher, one char BiLSTM per word: it merges them across sentences.
    for (size_t t : positions) {
      std::vector<Expr> xs;
      xs.reserve(ex.chars[t].size());
      for (int32_t ch : ex.chars[t]) xs.push_back(lookup(char_table, ch));
      out.push_back(concat({nn::run(*char_fwd_, xs).final.h, nn::run(*char_bwd_, xs, {}, true).final.h}));
    }
    return out;
  }
  // Eagerly, all of them as one batch that shrinks as words end (nn::run_packed), longest word
  // first: a step per character position instead of one per character, as PyTorch's version
  // packs them.
  std::vector<size_t> order(positions);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ex.chars[a].size() > ex.chars[b].size(); });
  std::vector<int64_t> lengths;
  lengths.reserve(order.size());
  for (size_t t : order) lengths.push_back(int64_t(ex.chars[t].size()));
  std::vector<int32_t> ids;
  auto inputs = [&](bool reverse) {
    return [&, reverse](int64_t step, int64_t batch) {
      ids.clear();
      for (int64_t k = 0; k < batch; ++k) {
        const std::vector<int32_t>& cs = ex.chars[order[size_t(k)]];
        ids.push_back(cs[reverse ? cs.size() - 1 - size_t(step) : size_t(step)]);
      }
      return lookup(char_table, ids);
    };
  };
  const std::vector<nn::RNNState> fwd = nn::run_packed(*char_fwd_, lengths, inputs(false));
  const std::vector<nn::RNNState> bwd = nn::run_packed(*char_bwd_, lengths, inputs(true));
  std::vector<Expr> at_position(ex.chars.size());
  for (size_t k = 0; k < order.size(); ++k) at_position[order[k]] = concat({fwd[k].h, bwd[k].h});
  for (size_t t : positions) out.push_back(at_position[t]);
  return out;
}

std::vector<Expr> TaggerModel::word_vectors(Graph& g, const TaggedExample& ex) const {
  const Expr table = g.param(embed_.table());
  std::vector<Expr> xs(ex.words.size());
  std::vector<size_t> rare;
  for (size_t t = 0; t < ex.words.size(); ++t) {
    if (ex.words[t] >= 0)
      xs[t] = lookup(table, ex.words[t]);
    else
      rare.push_back(t);
  }
  if (!rare.empty()) {
    if (!char_embed_) throw Error("TaggerModel: position " + std::to_string(rare[0] + 1) + " has no word id");
    const std::vector<Expr> cv = char_vectors(g.param(char_embed_->table()), ex, rare);
    for (size_t k = 0; k < rare.size(); ++k) xs[rare[k]] = cv[k];
  }
  return xs;
}

Expr TaggerModel::scores(Graph& g, const TaggedExample& ex) const {
  if (ex.words.empty()) throw Error("TaggerModel: an empty sentence");
  // Every position through the MLP at once: rows of one matrix.
  const Expr H = stack_rows(rnn_(word_vectors(g, ex)).outputs);
  return linear_rows(out_, tanh(linear_rows(hidden_, H)));
}

Expr TaggerModel::loss(Graph& g, const TaggedExample& ex) const {
  for (size_t t = 0; t < ex.tags.size(); ++t)
    if (ex.tags[t] < 0) throw Error("TaggerModel::loss: position " + std::to_string(t + 1) + " has an unknown tag");
  return summed_nll_rows(scores(g, ex), ex.tags);
}

std::vector<int32_t> TaggerModel::predict(Graph& g, const TaggedExample& ex) const {
  return argmax_rows(scores(g, ex));
}

double tagger_accuracy(const TaggerModel& model, const std::vector<TaggedExample>& data) {
  Graph g(model.model().device());  // where the model is (a GPU after Model::to)
  int64_t right = 0, total = 0;
  for (const TaggedExample& ex : data) {
    g.clear();
    const std::vector<int32_t> p = model.predict(g, ex);
    for (size_t t = 0; t < p.size(); ++t) right += p[t] == ex.tags[t];
    total += int64_t(p.size());
  }
  return total ? double(right) / double(total) : 0;
}

}  // namespace flare::examples
